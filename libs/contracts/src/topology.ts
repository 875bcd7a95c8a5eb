/**
 * Every subject, stream, consumer and KV bucket of Orchestra, in one place. Services
 * create them idempotently at start (libs/bus `ensureTopology`), so the first service up
 * in a fresh cluster makes them and the rest find them.
 *
 * Subjects are namespaced under `orch.` so several deployments can share a cluster.
 * Each consumer filters on exactly one subject (nats-server 2.9 has no multi-filter
 * consumers), which is why everything the planner reads sits under `orch.job.>`.
 */

/** Subjects and subject builders. */
export const Subjects = {
  jobSubmitted: 'orch.job.submitted',
  jobCancel: 'orch.job.cancel',
  jobApprove: 'orch.job.approve',
  stepVerified: 'orch.job.step.verified',
  stepRejected: 'orch.job.step.rejected',
  /** Everything the planner consumes. */
  plannerInbox: 'orch.job.>',
  taskReady: (netuid: number) => `orch.task.ready.${netuid}`,
  taskReadyAll: 'orch.task.ready.>',
  taskResult: 'orch.task.result',
  jobEvents: (jobId: string) => `orch.event.${jobId}`,
  allJobEvents: 'orch.event.>',
  deadLetter: (consumer: string) => `orch.dlq.${consumer}`,
  /** Records of steps that failed after every attempt (see FAILED_STEP_LETTERS). */
  failedSteps: 'orch.dlq.steps',
  allDeadLetters: 'orch.dlq.>',
  /** Admin actions of the API (keys, tenant settings, deletions), one subject per action. */
  audit: (action: string) => `orch.audit.${action}`,
  allAudit: 'orch.audit.>',
  /** NATS-native submission: what a tenant's user requests, in its own account (libs/contracts tenant-accounts.ts). */
  submitRequest: 'orch.v1.jobs.submit',
  /** Every tenant's submissions as the API receives them in Orchestra's account: `orch.v1.jobs.submit.<tenant>`. */
  allSubmitRequests: 'orch.v1.jobs.submit.*',
} as const;

/** Stream settings that deployments tune (replicas, storage, retention, dedup window). */
export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  /** How long messages are kept, ms. */
  readonly maxAgeMs: number;
  /** The Nats-Msg-Id duplicate window, ms: a republish within it is dropped. */
  readonly duplicateWindowMs: number;
  readonly description: string;
  /**
   * Append-only: the server refuses deleting or purging its messages (`deny_delete`,
   * `deny_purge`), and its retention is its own (not `ORCH_STREAM_MAX_AGE_MS`).
   */
  readonly appendOnly?: boolean;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const Streams = {
  jobs: {
    name: 'ORCH_JOBS',
    subjects: ['orch.job.>'],
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 1 * HOUR,
    description: 'Job submissions, cancellations and step outcomes: the planner inbox',
  },
  tasks: {
    name: 'ORCH_TASKS',
    subjects: ['orch.task.>'],
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 1 * HOUR,
    description: 'Tasks ready for hiring, and what the hired miners answered',
  },
  events: {
    name: 'ORCH_EVENTS',
    subjects: ['orch.event.>'],
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 1 * HOUR,
    description: 'Per-job progress events, replayed to SSE clients',
  },
  deadLetters: {
    name: 'ORCH_DLQ',
    subjects: ['orch.dlq.>'],
    maxAgeMs: 30 * DAY,
    duplicateWindowMs: 2 * 60_000,
    description: 'Messages that could not be handled, with the reason',
  },
  audit: {
    name: 'ORCH_AUDIT',
    subjects: ['orch.audit.>'],
    maxAgeMs: 400 * DAY,
    duplicateWindowMs: 2 * 60_000,
    description: 'Admin actions of the API (who created or revoked which key, changed which tenant, deleted which job): append-only',
    appendOnly: true,
  },
} as const satisfies Record<string, StreamSpec>;

/** A durable pull consumer. */
export interface ConsumerSpec {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  /** Time a handler has before redelivery, unless it calls `working()`. */
  readonly ackWaitMs: number;
  /** Deliveries before the message is dead-lettered. */
  readonly maxDeliver: number;
  /** Redelivery delays after a nak, ms (the last repeats). */
  readonly backoffMs: readonly number[];
  /** Messages a replica handles at once. */
  readonly maxAckPending: number;
}

export const Consumers = {
  planner: {
    stream: Streams.jobs.name,
    durable: 'planner',
    filterSubject: Subjects.plannerInbox,
    ackWaitMs: 30_000,
    maxDeliver: 8,
    backoffMs: [250, 1_000, 5_000, 15_000],
    maxAckPending: 64,
  },
  dispatcher: {
    stream: Streams.tasks.name,
    durable: 'dispatcher',
    filterSubject: Subjects.taskReadyAll,
    ackWaitMs: 30_000,
    maxDeliver: 6,
    backoffMs: [500, 2_000, 10_000],
    maxAckPending: 128,
  },
  verifier: {
    stream: Streams.tasks.name,
    durable: 'verifier',
    filterSubject: Subjects.taskResult,
    ackWaitMs: 30_000,
    maxDeliver: 6,
    backoffMs: [250, 1_000, 5_000],
    maxAckPending: 64,
  },
} as const satisfies Record<string, ConsumerSpec>;

/** KV buckets. */
export const Buckets = {
  /** jobId → JobState. Written by the planner only, by compare-and-set. */
  jobs: 'orch_jobs',
  /** jobId → JobSpec as accepted by the api (so a job is visible as `queued` before the planner sees it). */
  submissions: 'orch_submissions',
  /** `<tenant>.<sha256(Idempotency-Key)>` → jobId. */
  idempotency: 'orch_idempotency',
  /** `sn<netuid>` → Metagraph. Written by metagraph-sync. */
  metagraph: 'orch_metagraph',
  /** `sn<netuid>.uid<uid>.<capability>` → Reputation. Written by the dispatcher and the verifier, by compare-and-set. */
  reputation: 'orch_reputation',
  /** `<keyId>` → API key record (tenant, scopes, sha256 of the key, expiry, revocation). Written by the api. */
  apiKeys: 'orch_api_keys',
  /** `<tenant>` → the tenant's quota settings as an admin set them. Written by the api. */
  tenants: 'orch_tenants',
  /** `tenant.<tenant>` and `deployment` → spend ledgers: reservations of running jobs, spend and jobs per day. Written by the api, by compare-and-set. */
  usage: 'orch_usage',
  /** `<tenant>.<jobId>` → the tenant's index of its jobs (listing, deletion). Written by the api. */
  tenantJobs: 'orch_tenant_jobs',
} as const;

/**
 * JetStream Object Store buckets: values too large to keep inline in a record or a
 * message (step outputs, task inputs, job results over `inlineOutputBytes`), stored once
 * and referred to by an ObjectRef (libs/contracts objects.ts).
 */
export const ObjectBuckets = {
  /** `<jobId>/<what>` → JSON. Written by the planner; read by the dispatcher, verifier and api. */
  outputs: 'orch_outputs',
} as const;

/** How long an object lives, ms: as long as the job record that refers to it. */
export const ObjectBucketTtlMs: Readonly<Record<(typeof ObjectBuckets)[keyof typeof ObjectBuckets], number>> = {
  [ObjectBuckets.outputs]: 7 * DAY,
};

/**
 * How long a KV entry lives after its last write, ms (none: kept until replaced). Job
 * records and submissions live as long as the streams' messages that could still refer
 * to them; an Idempotency-Key is honoured for a day, as payment APIs do. The planner
 * scans `orch_jobs` at start, so a bound here also bounds that.
 */
export const BucketTtlMs: Readonly<Partial<Record<(typeof Buckets)[keyof typeof Buckets], number>>> = {
  [Buckets.jobs]: 7 * DAY,
  [Buckets.submissions]: 7 * DAY,
  [Buckets.idempotency]: DAY,
  // The index lives as long as the jobs it lists.
  [Buckets.tenantJobs]: 7 * DAY,
};

/** The KV key of a subnet's metagraph. */
export function metagraphKey(netuid: number): string {
  return `sn${netuid}`;
}
