import {
  AttemptState,
  DeadLetter,
  Envelope,
  FAILED_STEP_LETTERS,
  JobError,
  JobEventPayload,
  JobSpec,
  JobState,
  ObjectRef,
  SizeLimits,
  StepRejected,
  StepState,
  StepVerified,
  Subjects,
  TaskReady,
  DEFAULT_LIMITS,
  deadLetterPayload,
  envelope,
  minerCallsOf,
  sourceKeyOf,
} from '@orchestra/contracts';
import { Report, ReportSchema, agreementFingerprint, conformsToClientSchema } from '@orchestra/schemas';
import { z } from 'zod';
import { expandFanOut, fanInReady, finalOutput, isFanOut } from './fan-out';
import { buildSteps, resolveInput } from './plan';
import { PlanOutcome, planWithoutModel, rejectedPlan } from './planning';

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

/**
 * Starts a newly submitted job from its plan (`outcome`, planning.ts: the client's, a model's or
 * a playbook's; by default without asking a model). A dry run ends `planned` with the plan and
 * its estimate; a job that needs approval waits at `awaiting_approval` (its deadline not yet
 * running); any other job dispatches the steps that have no dependencies.
 */
export function startJob(job: JobSpec, now: Date, outcome: PlanOutcome = planWithoutModel(job)): Transition {
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
    spend: { totalTao: 0, totalUsd: 0 },
    ...(outcome.rejected.length ? { rejectedPlans: outcome.rejected } : {}),
    ...(job.outputSchema ? { outputSchema: job.outputSchema } : {}),
    ...(job.dryRun ? { dryRun: true } : {}),
    ...(job.approval ? { approval: job.approval } : {}),
  };
  if (!outcome.ok) return fail({ state: base, events: [] }, { code: 'invalid_plan', message: outcome.reason }, now);
  const steps = buildSteps(outcome.plan, job);
  const planned: Transition = {
    state: { ...base, steps, planSource: outcome.source, estimate: outcome.estimate },
    events: [plannedEvent(steps, outcome)],
  };
  if (job.dryRun) return finish(planned, 'planned', now);
  if (job.approval === 'required') {
    const waiting = { ...planned.state, status: 'awaiting_approval' as const };
    return { state: waiting, events: [...planned.events, awaitingEvent(waiting)] };
  }
  return advance(planned, now);
}

function plannedEvent(steps: readonly StepState[], outcome: Extract<PlanOutcome, { ok: true }>): JobEventPayload {
  const from = outcome.source === 'model' ? 'a planning model' : outcome.source === 'playbook' ? 'a playbook' : 'the client';
  return {
    event: 'job.planned',
    service: SERVICE,
    message: `planned ${steps.length} steps (plan from ${from}, estimated ${outcome.estimate.tao} TAO): ${steps.map((s) => `${s.id} (${s.capability} on SN${s.netuid}${s.forEach ? `, for each of ${s.forEach.$ref}` : ''})`).join(', ')}`,
    data: {
      planSource: outcome.source,
      estimate: outcome.estimate,
      rejectedPlans: outcome.rejected.length,
      steps: steps.map((s) => ({ id: s.id, capability: s.capability, netuid: s.netuid, deps: s.deps })),
    },
  };
}

/** Announces a plan awaiting approval; the attempt number tells successive plans' events apart (an edited plan that failed its checks). */
function awaitingEvent(state: JobState): JobEventPayload {
  const rejected = state.rejectedPlans?.filter((r) => r.by === 'approval') ?? [];
  const last = rejected.at(-1);
  return {
    event: 'job.awaiting_approval',
    service: SERVICE,
    attempt: rejected.length + 1,
    message: last
      ? `the edited plan was rejected (${last.reasons.join('; ')}); the job still awaits approval of its plan (POST /v1/jobs/${state.jobId}/approve)`
      : `planned ${state.steps.length} steps, estimated ${state.estimate?.tao ?? 0} TAO; awaiting approval (POST /v1/jobs/${state.jobId}/approve)`,
  };
}

/**
 * Runs a job awaiting approval: its plan, or the edited one when the approval carries a plan
 * (`edited`, already checked by planning.ts's clientPlan) — an invalid edit leaves the job
 * waiting, with the reasons recorded. The deadline starts now.
 */
export function applyApproved(state: JobState, edited: PlanOutcome | undefined, now: Date): Transition | undefined {
  if (state.status !== 'awaiting_approval') return undefined;
  if (edited && !edited.ok) {
    const reasons = edited.rejected.at(-1)?.reasons ?? [edited.reason];
    const waiting: JobState = { ...state, rejectedPlans: [...(state.rejectedPlans ?? []), rejectedPlan('approval', reasons)].slice(-8), updatedAt: now.toISOString() };
    return { state: waiting, events: [awaitingEvent(waiting)] };
  }
  const approved: JobState = {
    ...state,
    status: 'running',
    deadlineAt: new Date(now.getTime() + state.limits.deadlineMs).toISOString(),
    ...(edited?.ok ? { steps: buildSteps(edited.plan, state), planSource: 'client' as const, estimate: edited.estimate } : {}),
  };
  const message = edited ? `approved with an edited plan of ${approved.steps.length} steps` : `approved; running ${approved.steps.length} steps`;
  return advance({ state: approved, events: [{ event: 'job.approved', service: SERVICE, message: `${message}; deadline ${approved.deadlineAt}` }] }, now);
}

/**
 * Records an accepted answer. A step without a quorum is verified by it; a quorum step
 * keeps it as a vote and is verified once `quorum.agree` answers from distinct owners
 * agree, outvoting the rest — or hires more miners while agreement is still possible.
 */
export function applyVerified(state: JobState, verified: Verified, now: Date, stored?: ObjectRef): Transition | undefined {
  const step = stepAwaiting(state, verified.stepId, verified.attempt);
  if (!step) return undefined;
  // `stored`: the output kept by reference (it was too large to keep inline); agreement is judged on the output itself.
  const output = stored ?? verified.output;
  const vote = step.quorum ? { output, fingerprint: agreementFingerprint(step.quorum.checker, verified.output) } : {};
  const attempts = updateAttempt(step.attempts, verified.attempt, {
    status: 'verified',
    ...hiredFields(verified),
    coldkey: verified.coldkey ?? undefined,
    latencyMs: verified.latencyMs,
    ...vote,
  });
  const recorded = limitCalls(charge({ state: updateStep(state, step.id, (s) => ({ ...s, attempts })), events: [] }, verified, now), now);
  if (recorded.state.status !== 'running') return recorded;
  if (!step.quorum) {
    return advance({ ...recorded, state: updateStep(recorded.state, step.id, (s) => ({ ...s, status: 'verified', output })) }, now);
  }
  const decided = decideQuorum(recorded, step.id, now);
  return decided ? advance(decided, now) : hireMore(recorded, step.id, `answer of uid ${verified.uid} does not agree with enough others yet`, now);
}

/** Records a rejected attempt and hires another UID, or fails the step (and the job). */
export function applyRejected(state: JobState, rejected: Rejected, now: Date): Transition | undefined {
  const step = stepAwaiting(state, rejected.stepId, rejected.attempt);
  if (!step) return undefined;
  const attempts = updateAttempt(step.attempts, rejected.attempt, {
    status: 'rejected',
    ...hiredFields(rejected),
    reason: rejected.reason,
    rejectedAs: rejected.kind,
    errors: rejected.errors,
    latencyMs: rejected.latencyMs,
  });
  const recorded = limitCalls(charge({ state: updateStep(state, step.id, (s) => ({ ...s, attempts })), events: [] }, rejected, now), now);
  if (recorded.state.status !== 'running') return recorded;
  if (FINAL_REJECTIONS.has(rejected.kind)) {
    const message = rejected.kind === 'no_candidate' ? `step ${step.id}: ${rejected.reason}` : `step ${step.id} cannot be verified: ${rejected.reason}`;
    return failStep(recorded, step.id, rejected.kind === 'no_candidate' ? 'no_candidates' : 'step_failed', message, now);
  }
  return hireMore(recorded, step.id, `attempt ${rejected.attempt} rejected (${rejected.reason})`, now);
}

/**
 * After an attempt of a running step ended without deciding it: hires as many more
 * miners as the step still needs (one, or for a quorum enough to reach agreement,
 * counting those still working), each told to skip the UIDs its siblings will take;
 * fails the step when its attempts or the job's call budget cannot cover that.
 */
function hireMore(transition: Transition, stepId: string, cause: string, now: Date): Transition {
  const step = transition.state.steps.find((s) => s.id === stepId) as StepState;
  const inFlight = step.attempts.filter((a) => a.status === 'dispatched').length;
  const needed = (step.quorum?.agree ?? 1) - largestAgreement(step) - inFlight;
  if (needed <= 0) return touch(transition, now);
  if (step.attempts.length + needed > step.maxAttempts) {
    const goal = step.quorum ? `${step.quorum.agree} agreeing answers` : 'accepted answer';
    const history = step.attempts.map(describeAttempt).join('; ');
    return failStep(transition, stepId, 'step_failed', `step ${step.id} failed: no ${goal} in ${step.attempts.length} attempts: ${history}`, now);
  }
  const calls = minerCallsOf(transition.state.steps);
  if (calls + needed > transition.state.limits.maxMinerCalls) {
    const message = `step ${step.id} needs another attempt, but the job has made ${calls} miner calls, its limit of ${transition.state.limits.maxMinerCalls}`;
    return fail(transition, { code: 'budget_exceeded', message, stepId }, now);
  }
  const fresh = Array.from({ length: needed }, (_, i) => dispatched(step.attempts.length + 1 + i, now, inFlight + i));
  return touch(
    {
      state: updateStep(transition.state, stepId, (s) => ({ ...s, attempts: [...s.attempts, ...fresh] })),
      events: [
        ...transition.events,
        ...fresh.map((a): JobEventPayload => ({
          event: 'step.retrying',
          service: SERVICE,
          stepId,
          attempt: a.attempt,
          message: `step ${stepId}: ${cause}; ${step.reask === 'same' ? 're-asking' : 'hiring another UID'} (attempt ${a.attempt}/${step.maxAttempts})`,
        })),
      ],
    },
    now,
  );
}

/**
 * Verifies a quorum step when enough accepted answers agree: the agreeing ones stay
 * `verified`, accepted answers that disagree become `outvoted`, and votes' outputs are
 * dropped from the record (the winning output becomes the step's). Undefined while no
 * answer has enough agreeing owners.
 */
function decideQuorum(transition: Transition, stepId: string, now: Date): Transition | undefined {
  const step = transition.state.steps.find((s) => s.id === stepId) as StepState;
  const agree = step.quorum?.agree ?? 1;
  const winner = [...votes(step).values()].find((group) => owners(group) >= agree);
  if (!winner) return undefined;
  const fingerprint = winner[0].fingerprint;
  const attempts = step.attempts.map(({ output: _vote, ...a }) => (a.status === 'verified' && a.fingerprint !== fingerprint ? { ...a, status: 'outvoted' as const } : a));
  const lost = attempts.filter((a) => a.status === 'outvoted');
  const outvoted = lost.map(describeSource);
  return touch(
    {
      state: updateStep(transition.state, stepId, (s) => ({ ...s, status: 'verified', output: winner[0].output, attempts })),
      events: [
        ...transition.events,
        {
          event: 'step.quorum',
          service: SERVICE,
          stepId,
          message: `step ${stepId}: ${winner.length} answers agree (${winner.map(describeSource).join(', ')}, ${step.quorum?.checker})${outvoted.length ? `; outvoted: ${outvoted.join(', ')}` : ''}`,
          data: {
            agreeing: winner.map((a) => a.uid),
            outvoted: lost.map((a) => a.uid),
            // Whose acceptance the planner retracts from reputation, whatever the provider.
            outvotedSources: lost.map((a) => ({ provider: a.provider ?? 'axon', source: a.source ?? `uid${a.uid}`, netuid: a.netuid ?? step.netuid })),
          },
        },
      ],
    },
    now,
  );
}

/** Accepted answers grouped by agreement fingerprint. */
function votes(step: StepState): Map<string | undefined, AttemptState[]> {
  const groups = new Map<string | undefined, AttemptState[]>();
  for (const a of step.attempts) if (a.status === 'verified') groups.set(a.fingerprint, [...(groups.get(a.fingerprint) ?? []), a]);
  return groups;
}

/** Distinct owners behind a group of answers: miners under one coldkey (a Sybil pair) count once; gateway sources count by source. */
function owners(group: AttemptState[]): number {
  return new Set(group.map((a) => a.coldkey ?? a.hotkey ?? sourceKeyOf(a) ?? String(a.attempt))).size;
}

/** The most owners behind any one answer so far. */
function largestAgreement(step: StepState): number {
  return Math.max(0, ...[...votes(step).values()].map(owners));
}

/** `uid 7`, or `chutes deepseek-ai/DeepSeek-V3`. */
function describeSource(a: AttemptState): string {
  return a.source && a.provider && a.provider !== 'axon' ? `${a.provider} ${a.source}` : `uid ${a.uid}`;
}

function describeAttempt(a: AttemptState): string {
  const who = `#${a.attempt}${a.source !== undefined || a.uid !== undefined ? ` ${describeSource(a)}` : ''}`;
  return a.status === 'verified' ? `${who}: accepted, but not enough others agreed` : `${who}: ${a.reason}`;
}

function failStep(transition: Transition, stepId: string, code: 'step_failed' | 'no_candidates', message: string, now: Date): Transition {
  const attempt = transition.state.steps.find((s) => s.id === stepId)?.attempts.at(-1)?.attempt;
  return fail(
    {
      // Votes' outputs are dropped with the step, as when a quorum is decided.
      state: updateStep(transition.state, stepId, (s) => ({ ...s, status: 'failed', attempts: s.attempts.map(({ output: _vote, ...a }) => a) })),
      events: [...transition.events, { event: 'step.failed', service: SERVICE, stepId, attempt, message }],
    },
    { code, message, stepId },
    now,
  );
}

/** Cancels a running job. */
export function applyCancel(state: JobState, reason: string, now: Date): Transition | undefined {
  if (state.status !== 'running' && state.status !== 'awaiting_approval') return undefined;
  return fail({ state, events: [] }, { code: 'cancelled', message: reason }, now, 'cancelled');
}

/** Fails a running job whose deadline has passed. */
export function applyDeadline(state: JobState, now: Date): Transition | undefined {
  if (state.status !== 'running' || now.getTime() < Date.parse(state.deadlineAt)) return undefined;
  const open = state.steps.filter((s) => s.status === 'running' || s.status === 'pending').map((s) => s.id);
  return fail({ state, events: [] }, { code: 'deadline', message: `deadline ${state.deadlineAt} passed with steps unfinished: ${open.join(', ')}` }, now);
}

/**
 * The task.ready messages the state calls for: one for each attempt of a running step
 * that awaits a result. Derived from state alone, so they can be published again after
 * a crash; their deterministic ids make the stream drop the duplicates.
 */
export function outstandingTasks(state: JobState): Array<Envelope<'task.ready', z.input<typeof TaskReady.payload>>> {
  if (state.status !== 'running') return [];
  const outputs = Object.fromEntries(state.steps.map((s) => [s.id, { output: s.output }]));
  return state.steps.flatMap((step) => {
    // A running fan-out step has no attempts of its own (its runs do).
    if (step.status !== 'running' || !step.attempts.some((a) => a.status === 'dispatched')) return [];
    const done = step.attempts.filter((a) => a.status !== 'dispatched');
    const input = resolveInput(step.input, { inputs: state.inputs, steps: outputs });
    return step.attempts
      .filter((a) => a.status === 'dispatched')
      .map((a) => {
        const reasked = reaskedAttempt(step, a.attempt);
        const preferUid = reasked?.uid;
        const preferSource = reasked && sourceKeyOf(reasked);
        const tried = done.flatMap((d) => [sourceKeyOf(d), ...(d.hedgedSources ?? []), ...d.hedgedUids.map((uid) => sourceKeyOf({ uid }))]);
        return envelope(
          TaskReady,
          state.jobId,
          {
            stepId: step.id,
            attempt: a.attempt,
            capability: step.capability,
            netuid: step.netuid,
            schemaId: step.schemaId,
            input,
            excludeUids: [...new Set(done.flatMap((d) => [...(d.uid === undefined ? [] : [d.uid]), ...d.hedgedUids]))].filter((uid) => uid !== preferUid),
            excludeSources: [...new Set(tried)].filter((key): key is string => key !== undefined && key !== preferSource),
            ...(step.netuidPinned ? { netuidPinned: true } : {}),
            rankOffset: a.rankOffset,
            ...(preferUid === undefined ? {} : { preferUid }),
            ...(preferSource === undefined ? {} : { preferSource }),
            feedback: done.flatMap((d) => (d.errors?.length ? d.errors : d.reason ? [d.reason] : [])),
            deadlineAt: state.deadlineAt,
          },
          [step.id, a.attempt],
        );
      });
  });
}

/** Rejections about what an answer said, which the same miner may fix when shown the errors. */
const CONTENT_REJECTIONS: ReadonlySet<string> = new Set(['not_json', 'schema', 'semantic']);

/**
 * With `reask: same`, the attempt whose answer was rejected for its content, whose source
 * (model or miner) is asked again with the errors — once: if the re-ask was rejected too, the
 * step moves on.
 */
function reaskedAttempt(step: StepState, attempt: number): AttemptState | undefined {
  if (step.reask !== 'same') return undefined;
  const previous = step.attempts.find((a) => a.attempt === attempt - 1);
  const before = step.attempts.find((a) => a.attempt === attempt - 2);
  const key = previous && sourceKeyOf(previous);
  if (previous?.status !== 'rejected' || key === undefined || !CONTENT_REJECTIONS.has(previous.rejectedAs ?? '')) return undefined;
  return before && sourceKeyOf(before) === key ? undefined : previous;
}

/**
 * A dead-letter record for each failed step of a finished job, with every attempt's
 * reason: what an operator lists with `npm run dlq -- list` next to undeliverable messages.
 */
export function failedStepLetters(
  state: JobState,
  limits: Pick<SizeLimits, 'deadLetterExcerptChars' | 'textLimitChars'> = DEFAULT_LIMITS,
): Array<Envelope<'dead.letter', z.input<typeof DeadLetter.payload>>> {
  return state.steps
    .filter((s) => s.status === 'failed')
    .map((s) =>
      envelope(
        DeadLetter,
        state.jobId,
        deadLetterPayload(
          {
            consumer: FAILED_STEP_LETTERS,
            subject: Subjects.taskReady(s.netuid),
            // No message to replay: the record is the job's, which has ended.
            stream: '',
            streamSequence: 0,
            deliveries: s.attempts.length,
            reason: state.error?.stepId === s.id ? state.error.message : `step ${s.id} failed`,
            body: JSON.stringify({ stepId: s.id, capability: s.capability, netuid: s.netuid, attempts: s.attempts }),
          },
          limits,
        ),
        [FAILED_STEP_LETTERS, s.id],
      ),
    );
}

/**
 * Every progress event the job's transitions have emitted so far, derived from the record
 * alone (same types, steps and attempts, so the same message ids; the wording may differ).
 * A planner that died between writing a transition and publishing its events republishes
 * these on the redelivery, and the events stream drops the ones that already went out.
 */
export function progressEvents(state: JobState): JobEventPayload[] {
  const events: JobEventPayload[] = [];
  if (state.steps.length > 0) events.push({ event: 'job.planned', service: SERVICE, message: `planned ${state.steps.length} steps` });
  if (state.approval === 'required' && state.steps.length > 0) {
    events.push(awaitingEvent({ ...state, rejectedPlans: [] }));
    const edits = state.rejectedPlans?.filter((r) => r.by === 'approval') ?? [];
    for (let i = 1; i <= edits.length; i++) events.push(awaitingEvent({ ...state, rejectedPlans: edits.slice(0, i) }));
    if (state.status !== 'awaiting_approval' && state.steps.some((s) => s.attempts.length > 0)) {
      events.push({ event: 'job.approved', service: SERVICE, message: 'approved' });
    }
  }
  for (const step of state.steps) {
    if (step.attempts.length === 0) continue;
    events.push({
      event: 'step.dispatched',
      service: SERVICE,
      stepId: step.id,
      attempt: 1,
      message: `step ${step.id}: looking for a ${step.capability} miner on SN${step.netuid}`,
    });
    for (const a of step.attempts.slice(step.quorum?.agree ?? 1)) {
      events.push({
        event: 'step.retrying',
        service: SERVICE,
        stepId: step.id,
        attempt: a.attempt,
        message: `step ${step.id}: hiring another UID (attempt ${a.attempt}/${step.maxAttempts})`,
      });
    }
    if (step.quorum && step.status === 'verified') {
      events.push({ event: 'step.quorum', service: SERVICE, stepId: step.id, message: `step ${step.id}: answers agree (${step.quorum.checker})` });
    }
    if (step.status === 'failed') {
      events.push({ event: 'step.failed', service: SERVICE, stepId: step.id, attempt: step.attempts.at(-1)?.attempt, message: state.error?.message ?? `step ${step.id} failed` });
    }
  }
  const terminal = terminalEvent(state);
  return terminal ? [...events, terminal] : events;
}

/** The event that announces a finished job. */
export function terminalEvent(state: JobState): JobEventPayload | undefined {
  if (state.status === 'planned') {
    return {
      event: 'job.dry_run',
      service: SERVICE,
      message: `dry run: planned ${state.steps.length} steps, estimated ${state.estimate?.tao ?? 0} TAO; nobody hired`,
      data: { estimate: state.estimate },
    };
  }
  if (state.status === 'succeeded') {
    return { event: 'job.succeeded', service: SERVICE, message: `job succeeded; spent ${state.spend.totalTao.toFixed(6)} TAO ($${(state.spend.totalUsd ?? 0).toFixed(6)})` };
  }
  if (state.status === 'failed' || state.status === 'cancelled') {
    return { event: state.status === 'failed' ? 'job.failed' : 'job.cancelled', service: SERVICE, message: state.error?.message ?? state.status, data: { error: state.error } };
  }
  return undefined;
}

function advance(transition: Transition, now: Date): Transition {
  const { state } = transition;
  if (state.status !== 'running') return transition;
  // Fan-in: a fan-out step whose runs are all verified is verified, its output their outputs' array.
  const gathered = fanInReady(state);
  if (gathered !== state) return advance({ ...transition, state: gathered }, now);
  if (state.steps.every((s) => s.status === 'verified')) return succeed(transition, now);
  const verified = new Set(state.steps.filter((s) => s.status === 'verified').map((s) => s.id));
  const ready = state.steps.filter((s) => s.status === 'pending' && s.deps.every((d) => verified.has(d)));
  // Fan-out: a ready step with forEach becomes one run per item (or fails, naming its list).
  const fanOut = ready.find(isFanOut);
  if (fanOut) {
    const expanded = expandFanOut(state, fanOut);
    if (!expanded.ok) return failStep(transition, fanOut.id, 'step_failed', expanded.reason, now);
    return advance({ ...transition, state: expanded.state }, now);
  }
  if (ready.length === 0) return touch(transition, now);
  const readyIds = new Set(ready.map((s) => s.id));
  return touch(
    {
      state: {
        ...state,
        // A quorum step starts with as many parallel attempts as answers must agree.
        steps: state.steps.map((s) =>
          readyIds.has(s.id) ? { ...s, status: 'running', attempts: Array.from({ length: s.quorum?.agree ?? 1 }, (_, i) => dispatched(i + 1, now, i)) } : s,
        ),
      },
      events: [
        ...transition.events,
        ...ready.map((s): JobEventPayload => ({
          event: 'step.dispatched',
          service: SERVICE,
          stepId: s.id,
          attempt: 1,
          message: `step ${s.id}: looking for a ${s.capability} miner on SN${s.netuid}`,
        })),
      ],
    },
    now,
  );
}

/**
 * Every step is verified: assembles the report — every step's output (a fan-out's as the array
 * of its runs'), `output` (the final step's, or each final step's by id), and who produced each —
 * and checks `output` against the client's `outputSchema` when there is one.
 */
function succeed(transition: Transition, now: Date): Transition {
  const { state } = transition;
  const output = finalOutput(state.steps);
  const report: Report = ReportSchema.parse({
    jobId: state.jobId,
    goal: state.goal,
    completedAt: now.toISOString(),
    outputs: Object.fromEntries(state.steps.filter((s) => s.parent === undefined).map((s) => [s.id, s.output])),
    output,
    provenance: state.steps.flatMap((s) => {
      const a = s.attempts.find((attempt) => attempt.status === 'verified');
      if (!a) return []; // a fan-out step: its runs have the provenance
      return [
        {
          stepId: s.id,
          capability: s.capability,
          schemaId: s.schemaId,
          netuid: a.netuid ?? s.netuid,
          provider: a.provider ?? 'axon',
          source: a.source,
          uid: a.uid,
          hotkey: a.hotkey,
          attempt: a.attempt,
          latencyMs: a.latencyMs,
          costTao: a.costTao,
          costUsd: a.costUsd,
        },
      ];
    }),
    spend: { totalTao: state.spend.totalTao, budgetTao: state.limits.maxTao, totalUsd: state.spend.totalUsd ?? 0, budgetUsd: state.limits.maxUsd },
  });
  if (state.outputSchema) {
    const conforms = conformsToClientSchema(state.outputSchema, output);
    if (!conforms.ok) {
      const message = `every step was verified, but the result's output does not conform to the job's outputSchema: ${conforms.errors.join('; ')}`;
      return fail({ ...transition, state: { ...state, result: report } }, { code: 'invalid_output', message }, now);
    }
  }
  return finish({ ...transition, state: { ...state, result: report } }, 'succeeded', now);
}

/** Ends a job that did not fail: `succeeded`, or `planned` (a dry run), with its terminal event. */
function finish(transition: Transition, status: 'succeeded' | 'planned', now: Date): Transition {
  const done: JobState = { ...transition.state, status, updatedAt: now.toISOString() };
  return { state: done, events: [...transition.events, terminalEvent(done) as JobEventPayload] };
}

function fail(transition: Transition, error: JobError, now: Date, status: 'failed' | 'cancelled' = 'failed'): Transition {
  const done: JobState = { ...transition.state, status, error, updatedAt: now.toISOString() };
  return { state: done, events: [...transition.events, terminalEvent(done) as JobEventPayload] };
}

/** What an attempt's result says about who was hired and what it cost, as the attempt records it. */
function hiredFields(result: Verified | Rejected): Partial<AttemptState> {
  return {
    provider: result.provider ?? 'axon',
    ...(result.source ? { source: result.source } : {}),
    ...('netuid' in result && result.netuid !== undefined ? { netuid: result.netuid } : {}),
    uid: result.uid ?? undefined,
    hotkey: result.hotkey ?? undefined,
    costTao: result.costTao,
    costUsd: result.costUsd ?? 0,
    hedgedUids: result.hedgedUids,
    hedgedSources: result.hedgedSources ?? [],
  };
}

/** Adds an attempt's cost to the job's spend (TAO and USD); fails the job when that breaks either budget. */
function charge(transition: Transition, cost: { costTao: number; costUsd?: number }, now: Date): Transition {
  const { state } = transition;
  const totalTao = state.spend.totalTao + cost.costTao;
  const totalUsd = (state.spend.totalUsd ?? 0) + (cost.costUsd ?? 0);
  const charged = { ...transition, state: { ...state, spend: { totalTao, totalUsd } } };
  if (totalTao > state.limits.maxTao) {
    return fail(charged, { code: 'budget_exceeded', message: `spent ${totalTao.toFixed(6)} TAO, over the job's budget of ${state.limits.maxTao} TAO` }, now);
  }
  const { maxUsd } = state.limits;
  if (maxUsd !== undefined && totalUsd > maxUsd) {
    return fail(charged, { code: 'budget_exceeded', message: `spent $${totalUsd.toFixed(6)}, over the job's budget of $${maxUsd}` }, now);
  }
  return charged;
}

/** Fails the job when its attempts (hedges included) have made more miner calls than its limit allows. */
function limitCalls(transition: Transition, now: Date): Transition {
  const { state } = transition;
  const calls = minerCallsOf(state.steps);
  if (state.status !== 'running' || calls <= state.limits.maxMinerCalls) return transition;
  return fail(transition, { code: 'budget_exceeded', message: `made ${calls} miner calls (hedges included), over the job's limit of ${state.limits.maxMinerCalls}` }, now);
}

/** The running step for which this attempt still awaits its result; undefined for news that no longer matters. */
function stepAwaiting(state: JobState, stepId: string, attempt: number): StepState | undefined {
  if (state.status !== 'running') return undefined;
  const step = state.steps.find((s) => s.id === stepId);
  return step?.status === 'running' && step.attempts.some((a) => a.attempt === attempt && a.status === 'dispatched') ? step : undefined;
}

function updateStep(state: JobState, stepId: string, update: (s: StepState) => StepState): JobState {
  return { ...state, steps: state.steps.map((s) => (s.id === stepId ? update(s) : s)) };
}

function updateAttempt(attempts: AttemptState[], attempt: number, patch: Partial<AttemptState>): AttemptState[] {
  return attempts.map((a) => (a.attempt === attempt ? { ...a, ...patch } : a));
}

function dispatched(attempt: number, now: Date, rankOffset = 0): AttemptState {
  return { attempt, status: 'dispatched', rankOffset, dispatchedAt: now.toISOString(), hedgedUids: [] };
}

function touch(transition: Transition, now: Date): Transition {
  return { ...transition, state: { ...transition.state, updatedAt: now.toISOString() } };
}
