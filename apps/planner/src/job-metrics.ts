import { JobState, TERMINAL_JOB_STATUSES } from '@orchestra/contracts';
import { counter, gauge, histogram } from '@orchestra/service';

/** What one committed transition changed, in countable terms. */
export interface JobMetricDeltas {
  /** The job's final status, when this transition ended it. */
  finished?: { status: JobState['status']; reason: string; seconds: number };
  /** Steps that reached `verified` or `failed`. */
  steps: { capability: string; outcome: 'verified' | 'failed' }[];
  /** Attempts that got a verdict: verified, rejected (with the verifier's kind) or outvoted. */
  attempts: { capability: string; netuid: number; outcome: 'verified' | 'rejected' | 'outvoted'; kind?: string }[];
  /** TAO spent by this transition, per subnet. */
  spendTao: Map<number, number>;
}

/**
 * Compares the job record before and after one committed transition. Counting from the
 * record, not from messages, makes a redelivered message (which changes nothing) count
 * nothing, and a replica race count once: only the compare-and-set winner commits.
 */
export function jobMetricDeltas(before: JobState | undefined, after: JobState): JobMetricDeltas {
  const deltas: JobMetricDeltas = { steps: [], attempts: [], spendTao: new Map() };
  // Awaiting approval is not an end: only terminal statuses (a dry run's `planned` included) finish a job.
  if (TERMINAL_JOB_STATUSES.includes(after.status) && before?.status !== after.status) {
    deltas.finished = { status: after.status, reason: after.error?.code ?? 'none', seconds: Math.max(0, (Date.parse(after.updatedAt) - Date.parse(after.submittedAt)) / 1_000) };
  }
  for (const step of after.steps) {
    const old = before?.steps.find((s) => s.id === step.id);
    if ((step.status === 'verified' || step.status === 'failed') && old?.status !== step.status) {
      deltas.steps.push({ capability: step.capability, outcome: step.status });
    }
    for (const attempt of step.attempts) {
      const oldAttempt = old?.attempts.find((a) => a.attempt === attempt.attempt);
      // The subnet the attempt bought from (a gateway's, e.g. Chutes' 64), else the step's.
      const netuid = attempt.netuid ?? step.netuid;
      if (attempt.status !== 'dispatched' && oldAttempt?.status !== attempt.status) {
        const kind = attempt.status === 'rejected' ? (attempt.rejectedAs ?? 'unknown') : undefined;
        deltas.attempts.push({ capability: step.capability, netuid, outcome: attempt.status, kind });
      }
      const spent = (attempt.costTao ?? 0) - (oldAttempt?.costTao ?? 0);
      if (spent > 0) deltas.spendTao.set(netuid, (deltas.spendTao.get(netuid) ?? 0) + spent);
    }
  }
  return deltas;
}

const jobsFinished = counter<'status' | 'reason'>({
  name: 'jobs_finished_total',
  help: 'Jobs that ended, by final status (planned: a dry run, succeeded, failed, cancelled) and error code (none, step_failed, no_candidates, budget_exceeded, deadline, cancelled, invalid_plan, invalid_output, too_large)',
  labelNames: ['status', 'reason'],
});
const jobSeconds = histogram<'status'>({
  name: 'job_duration_seconds',
  help: 'Time from submission to the end of a job, by final status',
  labelNames: ['status'],
  buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
});
const stepsFinished = counter<'capability' | 'outcome'>({
  name: 'steps_finished_total',
  help: 'Steps that ended, by capability and outcome (verified, failed)',
  labelNames: ['capability', 'outcome'],
});
const attemptsJudged = counter<'capability' | 'outcome'>({
  name: 'attempts_total',
  help: 'Attempts that got a verdict, by capability and outcome (verified, rejected, outvoted)',
  labelNames: ['capability', 'outcome'],
});
const rejections = counter<'capability' | 'kind'>({
  name: 'attempt_rejections_total',
  help: "Rejected attempts, by capability and the verifier's kind (not_json, schema, semantic, miner_error, too_large, no_candidate, unverifiable…)",
  labelNames: ['capability', 'kind'],
});
const spend = counter<'netuid'>({
  name: 'spend_tao_total',
  help: 'TAO spent on miner calls, by subnet (hedges included)',
  labelNames: ['netuid'],
});

/** Moves the job, step, attempt and spend metrics by what one committed transition changed. */
export function recordJobMetrics(before: JobState | undefined, after: JobState): void {
  const deltas = jobMetricDeltas(before, after);
  if (deltas.finished) {
    jobsFinished.inc({ status: deltas.finished.status, reason: deltas.finished.reason });
    jobSeconds.observe({ status: deltas.finished.status }, deltas.finished.seconds);
  }
  for (const s of deltas.steps) stepsFinished.inc(s);
  for (const a of deltas.attempts) {
    attemptsJudged.inc({ capability: a.capability, outcome: a.outcome });
    if (a.kind) rejections.inc({ capability: a.capability, kind: a.kind });
  }
  for (const [netuid, tao] of deltas.spendTao) spend.inc({ netuid: String(netuid) }, tao);
}

const runningJobs = gauge({
  name: 'planner_running_jobs',
  help: 'Running jobs this planner replica watches the deadline of',
});
const overdueSeconds = gauge({
  name: 'planner_most_overdue_job_seconds',
  help: 'Seconds the most overdue running job is past its deadline (0 when none is): the deadline sweep fails such jobs within a second, so a value that grows means a stuck job',
});

/** Sets the running-job gauges from the deadlines (ms since epoch) of the running jobs a replica watches. */
export function recordRunningJobs(deadlines: Iterable<number>, now: number): void {
  let count = 0;
  let earliest = Infinity;
  for (const deadline of deadlines) {
    count++;
    earliest = Math.min(earliest, deadline);
  }
  runningJobs.set(count);
  overdueSeconds.set(count > 0 ? Math.max(0, (now - earliest) / 1_000) : 0);
}
