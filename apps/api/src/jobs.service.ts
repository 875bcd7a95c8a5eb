import { Inject, Injectable } from '@nestjs/common';
import { Bus, ObjectRefError, compareAndSet, containsObjectRef, deleteObject, objectRefsIn, readJson, resolveObjectRefs } from '@orchestra/bus';
import {
  Buckets,
  JobApproved,
  JobCancelRequested,
  JobLimits,
  JobSpec,
  JobSpecSchema,
  JobState,
  JobStateSchema,
  JobStatus,
  JobSubmitted,
  ObjectBuckets,
  Streams,
  Subjects,
  TERMINAL_JOB_STATUSES,
  envelope,
  jobEvent,
} from '@orchestra/contracts';
import { canonicalJson } from '@orchestra/schemas';
import { counter } from '@orchestra/service';
import { z } from 'zod';
import { AuditLog } from './audit';
import { clientJobState } from './client-view';
import { newJobId } from './job-id';
import { Principal, isAdmin } from './keys';
import { ApiProblem } from './problem';
import { QuotasService } from './quotas.service';
import { API_SETTINGS, ApiSettings } from './settings';
import { SubmitRequest, sha256Hex } from './submission';
import { TenantStore, assertWithinCaps, budgetOf, limitsWithinCaps } from './tenants';

/** What the idempotency bucket remembers per key: the job it created and the body that created it. */
const IdempotencyRecordSchema = z.object({ jobId: z.string(), bodyHash: z.string() });
type IdempotencyRecord = z.infer<typeof IdempotencyRecordSchema>;
type JobApprovedPayload = z.infer<typeof JobApproved.payload>;

/** The outcome of a submission. */
export interface SubmitOutcome {
  readonly jobId: string;
  readonly status: JobStatus;
  /** False when an earlier request with the same Idempotency-Key created the job. */
  readonly created: boolean;
}

/** A job as `GET /v1/jobs/:id` shows it: the planner's record, or the submission while the planner has not seen it. */
export type JobView = JobState | { jobId: string; status: 'queued'; goal: string; submittedAt: string };

const jobsSubmitted = counter({ name: 'api_jobs_submitted_total', help: 'Jobs accepted by the API (idempotent replays excluded)' });

/** The tenant's index entry of a job (`orch_tenant_jobs`, key `<tenant>.<jobId>`). */
const IndexEntrySchema = z.object({
  submittedAt: z.iso.datetime(),
  /** The job's key in `orch_idempotency`, so deleting the job forgets its Idempotency-Key too. */
  idempotencyKvKey: z.string().optional(),
});

/** A job as `GET /v1/jobs` lists it. */
export interface JobSummary {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly goal: string;
  readonly submittedAt: string;
  readonly updatedAt?: string;
  readonly spend?: JobState['spend'];
  readonly error?: JobState['error'];
}

/** Page sizes of `GET /v1/jobs`. */
export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;
/**
 * Index entries read at most per page. A status filter that matches few jobs would
 * otherwise read a tenant's whole history in one request; past this, the page ends early
 * with a cursor to go on from.
 */
export const LIST_MAX_SCAN = 500;

const indexKey = (tenant: string, jobId: string) => `${tenant}.${jobId}`;

export function jobNotFinished(jobId: string, status: JobStatus): ApiProblem {
  return new ApiProblem(
    409,
    'job-not-finished',
    'Job not finished',
    `Job "${jobId}" is ${status}; only a finished job can be deleted. Cancel it (POST /v1/jobs/${jobId}/cancel) and delete it once it has ended.`,
  );
}

/**
 * Job submission, lookup, listing, cancellation and deletion over the bus. Submission is
 * idempotent end to end: KV writes are create-if-absent and every publish has a
 * deterministic message id, so repeating any part of it (a retried request, a concurrent
 * duplicate) converges on one job and one message. A job belongs to the tenant of the key
 * that submitted it; another tenant is told it does not exist.
 */
@Injectable()
export class JobsService {
  constructor(
    private readonly bus: Bus,
    private readonly tenants: TenantStore,
    private readonly quotas: QuotasService,
    private readonly audit: AuditLog,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  /**
   * Accepts a validated request, or finds the job an earlier request with the same
   * Idempotency-Key created (a replay takes no quota). A new job must fit the tenant's caps
   * (422) and quotas (429); nothing is published for a refused one.
   */
  async submit(request: SubmitRequest): Promise<SubmitOutcome> {
    const idempotencyKvKey = request.idempotencyKey === undefined ? undefined : `${request.tenant}.${sha256Hex(request.idempotencyKey)}`;
    if (idempotencyKvKey !== undefined) {
      const replay = await this.replay(idempotencyKvKey, request);
      if (replay) return replay;
    }
    const tenancy = this.settings.tenancy;
    const { quotas } = await this.tenants.view(request.tenant, tenancy);
    const spec = this.buildSpec(request, limitsWithinCaps(request.body.limits, quotas), newJobId());
    const budget = budgetOf(spec.limits);
    assertWithinCaps(budget, quotas, tenancy);
    // A dry run hires nobody: it is checked against the caps its plan is estimated under, but reserves nothing.
    const reservation = spec.dryRun
      ? await this.quotas.admitDryRun(request.tenant, spec.jobId, quotas)
      : await this.quotas.admit(request.tenant, spec.jobId, budget, quotas, tenancy);
    if (idempotencyKvKey === undefined) return this.acceptNew(spec, undefined);

    const kv = await this.bus.kv(Buckets.idempotency);
    const claim: IdempotencyRecord = { jobId: spec.jobId, bodyHash: request.bodyHash };
    // Create-if-absent: of concurrent identical requests exactly one claims the key.
    const { changed } = await compareAndSet(kv, idempotencyKvKey, IdempotencyRecordSchema, (current) => (current ? undefined : claim));
    if (changed) return this.acceptNew(spec, idempotencyKvKey);
    // A concurrent request with the same key won: this one's reservation goes back.
    await this.quotas.release(reservation);
    const replay = await this.replay(idempotencyKvKey, request);
    if (!replay) throw new Error(`Idempotency-Key record ${idempotencyKvKey} vanished while being claimed`);
    return replay;
  }

  /** The job an earlier request with this Idempotency-Key made, finishing its submission if need be; undefined for a new key. */
  private async replay(idempotencyKvKey: string, request: SubmitRequest): Promise<SubmitOutcome | undefined> {
    const record = await readJson(await this.bus.kv(Buckets.idempotency), idempotencyKvKey, IdempotencyRecordSchema);
    if (!record) return undefined;
    if (record.bodyHash !== request.bodyHash) {
      throw new ApiProblem(
        422,
        'idempotency-key-reused',
        'Idempotency-Key reused',
        'This Idempotency-Key was already used with a different request body; resend the original body to get that job, or use a new key for a new job.',
      );
    }
    const state = await readJson(await this.bus.kv(Buckets.jobs), record.jobId, JobStateSchema);
    if (state) return { jobId: record.jobId, status: state.status, created: false };
    // The planner has not recorded the job: the first request may have died between
    // claiming the key and publishing. Finishing the submission is safe: the KV writes are
    // create-if-absent and the stream drops republished message ids. (Its budget was
    // reserved by the first request.)
    const { quotas } = await this.tenants.view(request.tenant, this.settings.tenancy);
    await this.accept(this.buildSpec(request, limitsWithinCaps(request.body.limits, quotas), record.jobId), idempotencyKvKey);
    return { jobId: record.jobId, status: 'queued', created: false };
  }

  /**
   * The job's current view, or undefined when the caller may not see it: a tenant sees its
   * own jobs, without miner addresses or coldkeys (client-view.ts); an admin sees every
   * job's full record.
   */
  async find(jobId: string, caller: Principal): Promise<JobView | undefined> {
    const state = await readJson(await this.bus.kv(Buckets.jobs), jobId, JobStateSchema);
    if (state) {
      if (!this.mayAccess(state.tenant, caller)) return undefined;
      const whole = await this.withResult(state);
      return isAdmin(caller) ? whole : clientJobState(whole);
    }
    const spec = await readJson(await this.bus.kv(Buckets.submissions), jobId, JobSpecSchema);
    return spec && this.mayAccess(spec.tenant, caller) ? { jobId, status: 'queued', goal: spec.goal, submittedAt: spec.submittedAt } : undefined;
  }

  private mayAccess(tenant: string, caller: Principal): boolean {
    return tenant === caller.tenant || isAdmin(caller);
  }

  /**
   * A page of the tenant's jobs, newest first, optionally only those in `status`. `cursor`
   * is the last job id of the previous page. A page may hold fewer than `limit` jobs and
   * still have a `nextCursor` (a filter that matched little of LIST_MAX_SCAN entries):
   * follow `nextCursor` until it is absent.
   */
  async list(tenant: string, options: { status?: JobStatus; cursor?: string; limit: number }): Promise<{ jobs: JobSummary[]; nextCursor?: string }> {
    const index = await this.bus.kv(Buckets.tenantJobs);
    const prefix = `${tenant}.`;
    const ids: string[] = [];
    for await (const key of await index.keys(`${prefix}>`)) ids.push(key.slice(prefix.length));
    // Job ids sort by submission time (job-id.ts): descending is newest first.
    ids.sort().reverse();
    const after = options.cursor === undefined ? ids : ids.filter((id) => id < (options.cursor as string));
    const jobs: JobSummary[] = [];
    let scanned = 0;
    while (jobs.length < options.limit && scanned < after.length && scanned < LIST_MAX_SCAN) {
      const batch = after.slice(scanned, scanned + Math.min(options.limit, LIST_MAX_SCAN - scanned));
      scanned += batch.length;
      const summaries = await Promise.all(batch.map((id) => this.summary(id, tenant)));
      for (const summary of summaries) {
        if (summary && (options.status === undefined || summary.status === options.status) && jobs.length < options.limit) jobs.push(summary);
      }
    }
    const last = jobs.length === options.limit ? jobs.at(-1)?.jobId : after[scanned - 1];
    const more = last !== undefined && after.some((id) => id < last);
    return { jobs, ...(more ? { nextCursor: last } : {}) };
  }

  private async summary(jobId: string, tenant: string): Promise<JobSummary | undefined> {
    const state = await readJson(await this.bus.kv(Buckets.jobs), jobId, JobStateSchema);
    if (state) {
      if (state.tenant !== tenant) return undefined;
      const { goal, status, submittedAt, updatedAt, spend, error } = state;
      return { jobId, status, goal, submittedAt, updatedAt, spend, ...(error ? { error: clientJobState({ ...state, steps: [] }).error } : {}) };
    }
    const spec = await readJson(await this.bus.kv(Buckets.submissions), jobId, JobSpecSchema);
    return spec?.tenant === tenant ? { jobId, status: 'queued', goal: spec.goal, submittedAt: spec.submittedAt } : undefined;
  }

  /**
   * Deletes a finished job's records: its stored outputs, its progress events, its
   * submission and record, its Idempotency-Key, its index entry. (The messages that
   * carried it through the job and task streams age out with those streams.) Undefined
   * when the caller may not see such a job; throws 409 while it runs.
   */
  async delete(jobId: string, caller: Principal): Promise<{ jobId: string; deleted: true } | undefined> {
    const state = await readJson(await this.bus.kv(Buckets.jobs, 'leader'), jobId, JobStateSchema);
    if (!state) {
      const spec = await readJson(await this.bus.kv(Buckets.submissions), jobId, JobSpecSchema);
      if (!spec || !this.mayAccess(spec.tenant, caller)) return undefined;
      throw jobNotFinished(jobId, 'queued');
    }
    if (!this.mayAccess(state.tenant, caller)) return undefined;
    if (!TERMINAL_JOB_STATUSES.includes(state.status)) throw jobNotFinished(jobId, state.status);
    // Its spend is counted before its record goes (settling reads the record).
    await this.quotas.settle(state.tenant);

    const names = new Set(objectRefsIn(state).map((ref) => ref.$object.name));
    // Task inputs and attempts' outputs are stored under names derived from the record, whether or not it still refers to them.
    for (const step of state.steps) {
      names.add(`${jobId}/steps/${step.id}/input`);
      for (const attempt of step.attempts) names.add(`${jobId}/steps/${step.id}/${attempt.attempt}/output`);
    }
    for (const name of names) if (name.startsWith(`${jobId}/`)) await deleteObject(this.bus, ObjectBuckets.outputs, name);
    await this.bus.jsm.streams.purge(Streams.events.name, { filter: Subjects.jobEvents(jobId) });
    const indexKv = await this.bus.kv(Buckets.tenantJobs);
    const entry = await readJson(indexKv, indexKey(state.tenant, jobId), IndexEntrySchema);
    if (entry?.idempotencyKvKey !== undefined) await (await this.bus.kv(Buckets.idempotency)).purge(entry.idempotencyKvKey);
    await (await this.bus.kv(Buckets.submissions)).purge(jobId);
    await (await this.bus.kv(Buckets.jobs)).purge(jobId);
    await indexKv.purge(indexKey(state.tenant, jobId));
    await this.audit.record({ action: 'job.delete', actor: { keyId: caller.keyId, tenant: caller.tenant }, target: jobId, detail: { tenant: state.tenant, objects: names.size } });
    return { jobId, deleted: true };
  }

  /**
   * The job with its result whole: outputs too large for the record are kept in the
   * object store and referenced from the result; the client gets the values. (Steps'
   * own outputs stay references: the result holds the verified ones.) A stored value that
   * cannot be read any more (aged out) is left as its reference, a link, rather than
   * failing the whole view.
   */
  private async withResult(state: JobState): Promise<JobState> {
    if (!containsObjectRef(state.result)) return state;
    try {
      return { ...state, result: await resolveObjectRefs(this.bus, state.result) };
    } catch (error) {
      if (!(error instanceof ObjectRefError)) throw error;
      return state;
    }
  }

  /**
   * Asks the planner to run a job awaiting approval, with its plan or an edited one. One message
   * per distinct approval (the same body twice is one message): the planner takes the first that
   * finds the job waiting, and an edited plan that fails the checks leaves it waiting.
   */
  async approve(jobId: string, plan: JobApprovedPayload['plan']): Promise<void> {
    await this.bus.publish(Subjects.jobApprove, envelope(JobApproved, jobId, plan ? { plan } : {}, [plan ? sha256Hex(canonicalJson(plan)) : 'as-planned']));
  }

  /** Asks the planner to stop a job. Repeated requests share one message id, so the stream keeps one. */
  async cancel(jobId: string, reason: string): Promise<void> {
    await this.bus.publish(Subjects.jobCancel, envelope(JobCancelRequested, jobId, { reason }, []));
  }

  private buildSpec(request: SubmitRequest, limits: Partial<JobLimits>, jobId: string): JobSpec {
    const { goal, inputs, plan, outputSchema, dryRun, approval } = request.body;
    return JobSpecSchema.parse({
      jobId,
      tenant: request.tenant,
      goal,
      inputs: inputs ?? {},
      ...(plan ? { plan } : {}),
      ...(outputSchema ? { outputSchema } : {}),
      ...(dryRun ? { dryRun } : {}),
      ...(approval ? { approval } : {}),
      limits,
      submittedAt: new Date().toISOString(),
    });
  }

  /** Accepts a job this request created, and counts it. */
  private async acceptNew(spec: JobSpec, idempotencyKvKey: string | undefined): Promise<SubmitOutcome> {
    await this.accept(spec, idempotencyKvKey);
    jobsSubmitted.inc();
    return { jobId: spec.jobId, status: 'queued', created: true };
  }

  /**
   * Stores the submission (so the job reads as queued at once) and indexes it under its
   * tenant, tells clients it was accepted, then hands it to the planner. The progress
   * event goes first so that it precedes the planner's own events on the job's stream.
   */
  private async accept(spec: JobSpec, idempotencyKvKey: string | undefined): Promise<void> {
    const kv = await this.bus.kv(Buckets.submissions);
    const { value: stored = spec } = await compareAndSet(kv, spec.jobId, JobSpecSchema, (current) => (current ? undefined : spec));
    const entry = { submittedAt: stored.submittedAt, ...(idempotencyKvKey === undefined ? {} : { idempotencyKvKey }) };
    await compareAndSet(await this.bus.kv(Buckets.tenantJobs), indexKey(stored.tenant, stored.jobId), IndexEntrySchema, (current) => (current ? undefined : entry));
    await this.bus.publish(Subjects.jobEvents(stored.jobId), jobEvent(stored.jobId, { event: 'job.accepted', service: 'api', message: `accepted: "${stored.goal}"` }));
    await this.bus.publish(Subjects.jobSubmitted, envelope(JobSubmitted, stored.jobId, { job: stored }));
  }
}
