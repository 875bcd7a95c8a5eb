import {
  AttemptState,
  Envelope,
  JobError,
  JobEventPayload,
  JobSpec,
  JobState,
  StepRejected,
  StepState,
  StepVerified,
  TaskReady,
  envelope,
  minerCallsOf,
} from '@orchestra/contracts';
import { Report, ReportSchema } from '@orchestra/schemas';
import { z } from 'zod';
import { InvalidPlanError, buildSteps, planFor, resolveInput } from './plan';

/**
 * The job state machine, as pure functions of (state, message, now). The planner
 * service reads the job from KV, applies one of these, and writes the result back by
 * compare-and-set; what to publish follows from the new state (`outstandingTasks`) and
 * the transition's events. A function returns undefined when the message changes
 * nothing (a duplicate, or news about a step that has moved on), which is what makes
 * redelivery harmless.
 */
export interface Transition {
  readonly state: JobState;
  /** Progress events this transition produced, in order. */
  readonly events: JobEventPayload[];
}

type Verified = z.infer<typeof StepVerified.payload>;
type Rejected = z.infer<typeof StepRejected.payload>;

const SERVICE = 'planner';

/** Rejections no other miner can fix (nobody to hire; the verifier cannot run its checks): never retried. */
const FINAL_REJECTIONS: ReadonlySet<Rejected['kind']> = new Set(['no_candidate', 'unverifiable']);

/** Plans a newly submitted job and dispatches the steps that have no dependencies. */
export function startJob(job: JobSpec, now: Date): Transition {
  const base: JobState = {
    jobId: job.jobId,
    tenant: job.tenant,
    goal: job.goal,
    inputs: job.inputs,
    limits: job.limits,
    status: 'running',
    submittedAt: job.submittedAt,
    updatedAt: now.toISOString(),
    deadlineAt: new Date(Date.parse(job.submittedAt) + job.limits.deadlineMs).toISOString(),
    steps: [],
    spend: { totalTao: 0 },
  };
  let steps: StepState[];
  try {
    steps = buildSteps(planFor(job), job);
  } catch (error) {
    if (!(error instanceof InvalidPlanError)) throw error;
    return fail({ state: base, events: [] }, { code: 'invalid_plan', message: error.message }, now);
  }
  const planned: Transition = {
    state: { ...base, steps },
    events: [
      {
        event: 'job.planned',
        service: SERVICE,
        message: `planned ${steps.length} steps: ${steps.map((s) => `${s.id} (${s.capability} on SN${s.netuid})`).join(', ')}`,
        data: { steps: steps.map((s) => ({ id: s.id, capability: s.capability, netuid: s.netuid, deps: s.deps })) },
      },
    ],
  };
  return advance(planned, now);
}

/** Records a verified output, then dispatches what became ready, or completes the job. */
export function applyVerified(state: JobState, verified: Verified, now: Date): Transition | undefined {
  const step = currentAttemptOf(state, verified.stepId, verified.attempt);
  if (!step) return undefined;
  const next = updateStep(state, step.id, (s) => ({
    ...s,
    status: 'verified',
    output: verified.output,
    attempts: replaceLast(s.attempts, {
      status: 'verified',
      uid: verified.uid,
      hotkey: verified.hotkey,
      latencyMs: verified.latencyMs,
      costTao: verified.costTao,
      hedgedUids: verified.hedgedUids,
    }),
  }));
  return advance(limitCalls(charge({ state: next, events: [] }, verified.costTao, now), now), now);
}

/** Records a rejected attempt and retries on another UID, or fails the step (and the job). */
export function applyRejected(state: JobState, rejected: Rejected, now: Date): Transition | undefined {
  const step = currentAttemptOf(state, rejected.stepId, rejected.attempt);
  if (!step) return undefined;
  const attempts = replaceLast(step.attempts, {
    status: 'rejected',
    uid: rejected.uid ?? undefined,
    hotkey: rejected.hotkey ?? undefined,
    reason: rejected.reason,
    errors: rejected.errors,
    latencyMs: rejected.latencyMs,
    costTao: rejected.costTao,
    hedgedUids: rejected.hedgedUids,
  });
  let transition = limitCalls(charge({ state: updateStep(state, step.id, (s) => ({ ...s, attempts })), events: [] }, rejected.costTao, now), now);
  if (transition.state.status !== 'running') return transition;
  const calls = minerCallsOf(transition.state.steps);
  if (!FINAL_REJECTIONS.has(rejected.kind) && attempts.length < step.maxAttempts && calls >= state.limits.maxMinerCalls) {
    const message = `step ${step.id} needs another attempt, but the job has made ${calls} miner calls, its limit of ${state.limits.maxMinerCalls}`;
    return fail(transition, { code: 'budget_exceeded', message, stepId: step.id }, now);
  }

  if (!FINAL_REJECTIONS.has(rejected.kind) && attempts.length < step.maxAttempts) {
    const attempt = attempts.length + 1;
    transition = {
      state: updateStep(transition.state, step.id, (s) => ({ ...s, attempts: [...attempts, dispatched(attempt, now)] })),
      events: [
        ...transition.events,
        {
          event: 'step.retrying',
          service: SERVICE,
          stepId: step.id,
          attempt,
          message: `step ${step.id}: attempt ${rejected.attempt} rejected (${rejected.reason}); retrying on another UID (attempt ${attempt}/${step.maxAttempts})`,
        },
      ],
    };
    return touch(transition, now);
  }

  const history = attempts.map((a) => `#${a.attempt}${a.uid !== undefined ? ` uid ${a.uid}` : ''}: ${a.reason}`).join('; ');
  const message =
    rejected.kind === 'no_candidate'
      ? `step ${step.id}: ${rejected.reason}`
      : `step ${step.id} failed after ${attempts.length} attempts: ${history}`;
  transition = {
    state: updateStep(transition.state, step.id, (s) => ({ ...s, status: 'failed' })),
    events: [...transition.events, { event: 'step.failed', service: SERVICE, stepId: step.id, attempt: rejected.attempt, message }],
  };
  return fail(transition, { code: rejected.kind === 'no_candidate' ? 'no_candidates' : 'step_failed', message, stepId: step.id }, now);
}

/** Cancels a running job. */
export function applyCancel(state: JobState, reason: string, now: Date): Transition | undefined {
  if (state.status !== 'running') return undefined;
  return fail({ state, events: [] }, { code: 'cancelled', message: reason }, now, 'cancelled');
}

/** Fails a running job whose deadline has passed. */
export function applyDeadline(state: JobState, now: Date): Transition | undefined {
  if (state.status !== 'running' || now.getTime() < Date.parse(state.deadlineAt)) return undefined;
  const open = state.steps.filter((s) => s.status === 'running' || s.status === 'pending').map((s) => s.id);
  return fail(
    { state, events: [] },
    { code: 'deadline', message: `deadline ${state.deadlineAt} passed with steps unfinished: ${open.join(', ')}` },
    now,
  );
}

/**
 * The task.ready messages the state calls for: one for each running step whose latest
 * attempt awaits a result. Derived from state alone, so they can be published again
 * after a crash; their deterministic ids make the stream drop the duplicates.
 */
export function outstandingTasks(state: JobState): Array<Envelope<'task.ready', z.infer<typeof TaskReady.payload>>> {
  if (state.status !== 'running') return [];
  const outputs = Object.fromEntries(state.steps.map((s) => [s.id, { output: s.output }]));
  return state.steps.flatMap((step) => {
    const last = step.attempts.at(-1);
    if (step.status !== 'running' || last?.status !== 'dispatched') return [];
    const earlier = step.attempts.slice(0, -1);
    return [
      envelope(
        TaskReady,
        state.jobId,
        {
          stepId: step.id,
          attempt: last.attempt,
          capability: step.capability,
          netuid: step.netuid,
          schemaId: step.schemaId,
          input: resolveInput(step.input, { inputs: state.inputs, steps: outputs }),
          excludeUids: [...new Set(earlier.flatMap((a) => [...(a.uid === undefined ? [] : [a.uid]), ...a.hedgedUids]))],
          feedback: earlier.flatMap((a) => (a.errors?.length ? a.errors : a.reason ? [a.reason] : [])),
          deadlineAt: state.deadlineAt,
        },
        [step.id, last.attempt],
      ),
    ];
  });
}

/** The event that announces a finished job, for re-publishing after a crash. */
export function terminalEvent(state: JobState): JobEventPayload | undefined {
  if (state.status === 'succeeded') {
    return { event: 'job.succeeded', service: SERVICE, message: `job succeeded; spent ${state.spend.totalTao.toFixed(6)} TAO` };
  }
  if (state.status === 'failed' || state.status === 'cancelled') {
    return { event: state.status === 'failed' ? 'job.failed' : 'job.cancelled', service: SERVICE, message: state.error?.message ?? state.status, data: { error: state.error } };
  }
  return undefined;
}

function advance(transition: Transition, now: Date): Transition {
  const { state } = transition;
  if (state.status !== 'running') return transition;
  if (state.steps.every((s) => s.status === 'verified')) return succeed(transition, now);
  const verified = new Set(state.steps.filter((s) => s.status === 'verified').map((s) => s.id));
  const ready = state.steps.filter((s) => s.status === 'pending' && s.deps.every((d) => verified.has(d)));
  if (ready.length === 0) return touch(transition, now);
  const readyIds = new Set(ready.map((s) => s.id));
  return touch(
    {
      state: {
        ...state,
        steps: state.steps.map((s) => (readyIds.has(s.id) ? { ...s, status: 'running', attempts: [dispatched(1, now)] } : s)),
      },
      events: [
        ...transition.events,
        ...ready.map(
          (s): JobEventPayload => ({
            event: 'step.dispatched',
            service: SERVICE,
            stepId: s.id,
            attempt: 1,
            message: `step ${s.id}: looking for a ${s.capability} miner on SN${s.netuid}`,
          }),
        ),
      ],
    },
    now,
  );
}

function succeed(transition: Transition, now: Date): Transition {
  const { state } = transition;
  const report: Report = ReportSchema.parse({
    jobId: state.jobId,
    goal: state.goal,
    completedAt: now.toISOString(),
    outputs: Object.fromEntries(state.steps.map((s) => [s.id, s.output])),
    provenance: state.steps.map((s) => {
      const a = s.attempts.at(-1) as AttemptState;
      return {
        stepId: s.id,
        capability: s.capability,
        schemaId: s.schemaId,
        netuid: s.netuid,
        uid: a.uid,
        hotkey: a.hotkey,
        attempt: a.attempt,
        latencyMs: a.latencyMs,
        costTao: a.costTao,
      };
    }),
    spend: { totalTao: state.spend.totalTao, budgetTao: state.limits.maxTao },
  });
  const done: JobState = { ...state, status: 'succeeded', result: report, updatedAt: now.toISOString() };
  return { state: done, events: [...transition.events, terminalEvent(done) as JobEventPayload] };
}

function fail(transition: Transition, error: JobError, now: Date, status: 'failed' | 'cancelled' = 'failed'): Transition {
  const done: JobState = { ...transition.state, status, error, updatedAt: now.toISOString() };
  return { state: done, events: [...transition.events, terminalEvent(done) as JobEventPayload] };
}

/** Adds an attempt's cost to the job's spend; fails the job when that breaks its budget. */
function charge(transition: Transition, costTao: number, now: Date): Transition {
  const { state } = transition;
  const totalTao = state.spend.totalTao + costTao;
  const charged = { ...transition, state: { ...state, spend: { totalTao } } };
  if (totalTao <= state.limits.maxTao) return charged;
  return fail(charged, { code: 'budget_exceeded', message: `spent ${totalTao.toFixed(6)} TAO, over the job's budget of ${state.limits.maxTao} TAO` }, now);
}

/** Fails the job when its attempts (hedges included) have made more miner calls than its limit allows. */
function limitCalls(transition: Transition, now: Date): Transition {
  const { state } = transition;
  const calls = minerCallsOf(state.steps);
  if (state.status !== 'running' || calls <= state.limits.maxMinerCalls) return transition;
  return fail(transition, { code: 'budget_exceeded', message: `made ${calls} miner calls (hedges included), over the job's limit of ${state.limits.maxMinerCalls}` }, now);
}

function currentAttemptOf(state: JobState, stepId: string, attempt: number): StepState | undefined {
  if (state.status !== 'running') return undefined;
  const step = state.steps.find((s) => s.id === stepId);
  const last = step?.attempts.at(-1);
  return step?.status === 'running' && last?.attempt === attempt && last.status === 'dispatched' ? step : undefined;
}

function updateStep(state: JobState, stepId: string, update: (s: StepState) => StepState): JobState {
  return { ...state, steps: state.steps.map((s) => (s.id === stepId ? update(s) : s)) };
}

function replaceLast(attempts: AttemptState[], patch: Partial<AttemptState>): AttemptState[] {
  return [...attempts.slice(0, -1), { ...(attempts.at(-1) as AttemptState), ...patch }];
}

function dispatched(attempt: number, now: Date): AttemptState {
  return { attempt, status: 'dispatched', dispatchedAt: now.toISOString(), hedgedUids: [] };
}

function touch(transition: Transition, now: Date): Transition {
  return { ...transition, state: { ...transition.state, updatedAt: now.toISOString() } };
}
