import { Bus } from '@orchestra/bus';
import { Buckets, JobState, JobStatus, StepState, Streams } from '@orchestra/contracts';

/**
 * Writes the planner's record of a job (the API specs run without a planner): `status`,
 * having spent `spentTao`, with `steps` if given. Returns the record.
 */
export async function writeJobRecord(
  bus: Bus,
  job: { jobId: string; tenant: string; status: JobStatus; spentTao?: number; steps?: StepState[]; result?: unknown },
): Promise<JobState> {
  const now = new Date().toISOString();
  const state: JobState = {
    jobId: job.jobId,
    tenant: job.tenant,
    goal: `goal of ${job.jobId}`,
    inputs: {},
    limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 },
    status: job.status,
    submittedAt: now,
    updatedAt: now,
    deadlineAt: now,
    steps: job.steps ?? [],
    spend: { totalTao: job.spentTao ?? 0 },
    ...(job.result === undefined ? {} : { result: job.result }),
  };
  await (await bus.kv(Buckets.jobs)).put(job.jobId, JSON.stringify(state));
  return state;
}

/** What a request could have published: messages on the jobs and events streams, and stored submissions. */
export async function publishedCounts(bus: Bus) {
  return {
    jobs: (await bus.jsm.streams.info(Streams.jobs.name)).state.messages,
    events: (await bus.jsm.streams.info(Streams.events.name)).state.messages,
    submissions: (await (await bus.kv(Buckets.submissions)).status()).values,
  };
}
