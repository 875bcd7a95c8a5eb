import { Injectable } from '@nestjs/common';
import { Bus, ObjectRefError, compareAndSet, containsObjectRef, readJson, resolveObjectRefs } from '@orchestra/bus';
import {
  Buckets,
  JobApproved,
  JobSpec,
  JobSpecSchema,
  JobState,
  JobStateSchema,
  JobStatus,
  JobSubmitted,
  JobCancelRequested,
  Subjects,
  envelope,
  jobEvent,
} from '@orchestra/contracts';
import { canonicalJson } from '@orchestra/schemas';
import { counter } from '@orchestra/service';
import { z } from 'zod';
import { newJobId } from './job-id';
import { ApiProblem } from './problem';
import { SubmitRequest, sha256Hex } from './submission';
import { clientJobState } from './client-view';

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

/**
 * Job submission, lookup and cancellation over the bus. Submission is idempotent end to
 * end: KV writes are create-if-absent and every publish has a deterministic message id,
 * so repeating any part of it (a retried request, a concurrent duplicate) converges on
 * one job and one message.
 */
@Injectable()
export class JobsService {
  constructor(private readonly bus: Bus) {}

  /** Accepts a validated request, or finds the job an earlier request with the same Idempotency-Key created. */
  async submit(request: SubmitRequest): Promise<SubmitOutcome> {
    const spec = this.buildSpec(request, newJobId());
    if (request.idempotencyKey === undefined) return this.acceptNew(spec);

    const kv = await this.bus.kv(Buckets.idempotency);
    const key = `${request.tenant}.${sha256Hex(request.idempotencyKey)}`;
    const claim: IdempotencyRecord = { jobId: spec.jobId, bodyHash: request.bodyHash };
    // Create-if-absent: of concurrent identical requests exactly one claims the key.
    const { value: record, changed } = await compareAndSet(kv, key, IdempotencyRecordSchema, (current) => (current ? undefined : claim));
    if (changed) return this.acceptNew(spec);
    if (!record || record.bodyHash !== request.bodyHash) {
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
    // claiming the key and publishing. Finishing the submission is safe: the KV write is
    // create-if-absent and the stream drops republished message ids.
    await this.accept({ ...spec, jobId: record.jobId });
    return { jobId: record.jobId, status: 'queued', created: false };
  }

  /** The job's current view, or undefined when the tenant submitted no such job. */
  async find(jobId: string, tenant: string): Promise<JobView | undefined> {
    const state = await readJson(await this.bus.kv(Buckets.jobs), jobId, JobStateSchema);
    // The tenant's view (client-view.ts): no miner addresses or coldkeys.
    if (state) return state.tenant === tenant ? clientJobState(await this.withResult(state)) : undefined;
    const spec = await readJson(await this.bus.kv(Buckets.submissions), jobId, JobSpecSchema);
    return spec?.tenant === tenant ? { jobId, status: 'queued', goal: spec.goal, submittedAt: spec.submittedAt } : undefined;
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

  private buildSpec(request: SubmitRequest, jobId: string): JobSpec {
    const { goal, inputs, plan, limits, outputSchema, dryRun, approval } = request.body;
    return JobSpecSchema.parse({
      jobId,
      tenant: request.tenant,
      goal,
      inputs: inputs ?? {},
      ...(plan ? { plan } : {}),
      ...(outputSchema ? { outputSchema } : {}),
      ...(dryRun ? { dryRun } : {}),
      ...(approval ? { approval } : {}),
      limits: limits ?? {},
      submittedAt: new Date().toISOString(),
    });
  }

  /** Accepts a job this request created, and counts it. */
  private async acceptNew(spec: JobSpec): Promise<SubmitOutcome> {
    await this.accept(spec);
    jobsSubmitted.inc();
    return { jobId: spec.jobId, status: 'queued', created: true };
  }

  /**
   * Stores the submission (so the job reads as queued at once), tells clients it was
   * accepted, then hands it to the planner. The progress event goes first so that it
   * precedes the planner's own events on the job's stream.
   */
  private async accept(spec: JobSpec): Promise<void> {
    const kv = await this.bus.kv(Buckets.submissions);
    const { value: stored = spec } = await compareAndSet(kv, spec.jobId, JobSpecSchema, (current) => (current ? undefined : spec));
    await this.bus.publish(Subjects.jobEvents(stored.jobId), jobEvent(stored.jobId, { event: 'job.accepted', service: 'api', message: `accepted: "${stored.goal}"` }));
    await this.bus.publish(Subjects.jobSubmitted, envelope(JobSubmitted, stored.jobId, { job: stored }));
  }
}
