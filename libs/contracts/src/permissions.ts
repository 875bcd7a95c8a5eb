import { Buckets, Consumers, type ConsumerSpec, ObjectBuckets, Streams, Subjects } from './topology';

/**
 * Who may do what on NATS: the least subject permissions of each service, derived from
 * the topology (so a new stream, consumer or bucket is granted where it is used, and
 * nowhere else). The devnet's nats-server and the Helm values (k8s/nats/values.yaml) are
 * both made from this one table; a test keeps the Helm values in step.
 *
 * How JetStream maps onto subjects (nats-server 2.9+):
 * - a JetStream API call is a request on `$JS.API.<verb>.<stream>[.<consumer>]`, answered
 *   on the caller's `_INBOX.>`;
 * - publishing into a stream is a publish on the stream's subject (PubAck on the inbox);
 * - pulling from a durable is `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`, and acking is
 *   a publish on `$JS.ACK.<stream>.<durable>.>`;
 * - a KV bucket is the stream `KV_<bucket>`: a put is a publish on `$KV.<bucket>.<key>`, a
 *   read a `DIRECT.GET` (any replica) or `STREAM.MSG.GET` (the leader), a key listing or
 *   watch an ordered consumer (`CONSUMER.CREATE`, flow control on `$JS.FC.>`).
 *
 * Topology management (creating and updating streams, consumers and buckets) is a separate
 * grant: with `ORCH_NATS_TOPOLOGY=verify` the services only check that the topology exists,
 * and the `operator` role (or NACK) creates it.
 */
/** The NATS account Orchestra's services, streams and buckets live in. */
export const ORCHESTRA_ACCOUNT = 'ORCHESTRA';

export const NATS_ROLES = ['api', 'planner', 'dispatcher', 'verifier', 'metagraph-sync', 'operator'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

/** What a NATS user may publish and subscribe to. */
export interface SubjectPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** May also publish the reply to each request it receives (nats-server `allow_responses`): a service's responder. */
  readonly allowResponses?: boolean;
}

type Bucket = (typeof Buckets)[keyof typeof Buckets];
type ObjectBucket = (typeof ObjectBuckets)[keyof typeof ObjectBuckets];

const api = (call: string) => `$JS.API.${call}`;
const kvStream = (bucket: Bucket) => `KV_${bucket}`;
const objectStream = (bucket: ObjectBucket) => `OBJ_${bucket}`;

/** Every stream Orchestra owns: its own, and those behind its KV and object buckets. */
function allStreams(): string[] {
  return [...Object.values(Streams).map((s) => s.name), ...Object.values(Buckets).map(kvStream), ...Object.values(ObjectBuckets).map(objectStream)];
}

/** Reading the metadata of every stream, consumer and bucket: what start-up checks need. */
function topologyInfo(): string[] {
  return [api('INFO'), ...allStreams().map((s) => api(`STREAM.INFO.${s}`)), ...Object.values(Consumers).map((c) => api(`CONSUMER.INFO.${c.stream}.${c.durable}`))];
}

/** Creating and updating the topology (never deleting or purging it). */
function topologyManagement(): string[] {
  return [
    ...allStreams().flatMap((s) => [api(`STREAM.CREATE.${s}`), api(`STREAM.UPDATE.${s}`)]),
    ...Object.values(Consumers).flatMap((c) => [
      api(`CONSUMER.CREATE.${c.stream}.${c.durable}`),
      api(`CONSUMER.CREATE.${c.stream}.${c.durable}.>`),
      api(`CONSUMER.DURABLE.CREATE.${c.stream}.${c.durable}`),
    ]),
  ];
}

/** Pulling from a durable consumer and settling what it delivers. */
function consume(spec: ConsumerSpec): string[] {
  return [api(`CONSUMER.MSG.NEXT.${spec.stream}.${spec.durable}`), `$JS.ACK.${spec.stream}.${spec.durable}.>`];
}

/** Reading a bucket: single keys (from any replica or the leader) and key listings. */
function kvRead(bucket: Bucket): string[] {
  const stream = kvStream(bucket);
  return [api(`DIRECT.GET.${stream}`), api(`DIRECT.GET.${stream}.>`), api(`STREAM.MSG.GET.${stream}`), ...orderedConsumer(stream)];
}

/** Writing a bucket (puts, compare-and-set, deletes are all publishes on `$KV.<bucket>.<key>`). */
function kvWrite(bucket: Bucket): string[] {
  return [`$KV.${bucket}.>`];
}

/** An ordered (ephemeral) consumer on a stream: key listings, watches, replays. */
function orderedConsumer(stream: string): string[] {
  return [
    api(`CONSUMER.CREATE.${stream}`),
    api(`CONSUMER.CREATE.${stream}.>`),
    api(`CONSUMER.MSG.NEXT.${stream}.>`),
    api(`CONSUMER.DELETE.${stream}.>`),
    api(`CONSUMER.INFO.${stream}.>`),
    `$JS.FC.${stream}.>`,
  ];
}

/** Reading values stored by reference (chunks and metadata are single-message reads). */
function objectRead(bucket: ObjectBucket): string[] {
  return streamRead(objectStream(bucket));
}

/** Storing values by reference: chunk and metadata publishes. */
function objectWrite(bucket: ObjectBucket): string[] {
  return [`$O.${bucket}.>`];
}

/** Reading single messages of a stream by sequence. */
function streamRead(stream: string): string[] {
  return [api(`STREAM.MSG.GET.${stream}`), api(`DIRECT.GET.${stream}`), api(`DIRECT.GET.${stream}.>`)];
}

/** Publishing progress events and dead letters of one consumer: every service that handles messages does. */
function eventsAndDeadLetters(consumer: string): string[] {
  return [Subjects.jobEvents('*'), Subjects.deadLetter(consumer)];
}

const USE: Record<Exclude<NatsRole, 'operator'>, { publish: string[]; subscribe?: string[]; allowResponses?: boolean }> = {
  api: {
    publish: [
      Subjects.jobSubmitted,
      Subjects.jobCancel,
      Subjects.jobApprove,
      Subjects.jobEvents('*'),
      ...kvRead(Buckets.jobs),
      ...kvRead(Buckets.submissions),
      ...kvWrite(Buckets.submissions),
      ...kvRead(Buckets.idempotency),
      ...kvWrite(Buckets.idempotency),
      // Server-Sent Events: an ordered consumer per stream of a job's events, and the resume point.
      ...orderedConsumer(Streams.events.name),
      ...streamRead(Streams.events.name),
      ...objectRead(ObjectBuckets.outputs),
      // Keys, tenants, quotas and the tenant's job index (apps/api auth and tenants).
      ...[Buckets.apiKeys, Buckets.tenants, Buckets.usage, Buckets.tenantJobs].flatMap((b) => [...kvRead(b), ...kvWrite(b)]),
      Subjects.allAudit,
      // GET /v1/subnets: the metagraphs metagraph-sync writes, and the sources' reputations.
      ...kvRead(Buckets.metagraph),
      ...kvRead(Buckets.reputation),
      // DELETE /v1/jobs/:id of a finished job: its record (the planner no longer writes it),
      // its events and its stored outputs. Purges are by subject filter.
      ...kvWrite(Buckets.jobs),
      api(`STREAM.PURGE.${Streams.events.name}`),
      api(`STREAM.PURGE.${objectStream(ObjectBuckets.outputs)}`),
    ],
    // NATS-native submission: every tenant's requests (tenant-accounts.ts), answered on the
    // reply subject the service import made (only replies, not any subject of that form).
    subscribe: [Subjects.allSubmitRequests],
    allowResponses: true,
  },
  planner: {
    publish: [
      ...consume(Consumers.planner),
      Subjects.taskReadyAll,
      ...eventsAndDeadLetters(Consumers.planner.durable),
      Subjects.failedSteps,
      ...kvRead(Buckets.jobs),
      ...kvWrite(Buckets.jobs),
      ...kvRead(Buckets.submissions),
      ...kvRead(Buckets.reputation),
      ...kvWrite(Buckets.reputation),
      ...objectRead(ObjectBuckets.outputs),
      ...objectWrite(ObjectBuckets.outputs),
    ],
  },
  dispatcher: {
    publish: [
      ...consume(Consumers.dispatcher),
      Subjects.taskResult,
      ...eventsAndDeadLetters(Consumers.dispatcher.durable),
      ...kvRead(Buckets.jobs),
      ...kvRead(Buckets.metagraph),
      ...kvRead(Buckets.reputation),
      ...kvWrite(Buckets.reputation),
      ...objectRead(ObjectBuckets.outputs),
    ],
    // Every replica hears every cancellation (a core subscription beside the consumer).
    subscribe: [Subjects.jobCancel],
  },
  verifier: {
    publish: [
      ...consume(Consumers.verifier),
      Subjects.stepVerified,
      Subjects.stepRejected,
      ...eventsAndDeadLetters(Consumers.verifier.durable),
      ...kvRead(Buckets.reputation),
      ...kvWrite(Buckets.reputation),
      ...objectRead(ObjectBuckets.outputs),
    ],
  },
  'metagraph-sync': {
    publish: [...kvRead(Buckets.metagraph), ...kvWrite(Buckets.metagraph)],
  },
};

/**
 * The subject permissions of a role. `manageTopology`: also create and update the topology
 * (the default mode, where every service ensures it at start). `operator` may do anything:
 * it is the people and tools that run the deployment (dead-letter replay, topology).
 */
export function natsPermissions(role: NatsRole, opts: { manageTopology: boolean }): SubjectPermissions {
  if (role === 'operator') return { publish: ['>'], subscribe: ['>'] };
  const use = USE[role];
  const publish = [...topologyInfo(), ...(opts.manageTopology ? topologyManagement() : []), ...use.publish];
  // Replies to JetStream API calls, PubAcks and pulled messages all arrive on the inbox,
  // which is the role's own: one service cannot read another's replies.
  const subscribe = [`${inboxPrefixOf(role)}.>`, ...(use.subscribe ?? [])];
  return { publish: [...new Set(publish)], subscribe: [...new Set(subscribe)], ...(use.allowResponses ? { allowResponses: true } : {}) };
}

/** A role's permissions as nats-server configuration writes them (the devnet's config and the Helm values alike). */
export function natsServerPermissions(permissions: SubjectPermissions) {
  return {
    publish: { allow: [...permissions.publish] },
    subscribe: { allow: [...permissions.subscribe] },
    ...(permissions.allowResponses ? { allow_responses: true } : {}),
  };
}

/**
 * The inbox prefix of an authenticated user (`_INBOX_<user>`): the services connect with
 * it, and their subscribe permission names only it.
 */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
