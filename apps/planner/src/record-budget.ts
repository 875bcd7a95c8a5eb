import { AttemptState, JobState, SizeLimits, StepState, TERMINAL_JOB_EVENTS, jsonBytes, truncateText } from '@orchestra/contracts';
import { Transition, terminalEvent } from './job-machine';

/** Longest attempt reason and error kept once a record had to be compacted, characters. */
const COMPACT_TEXT_CHARS = 200;
/** Validation errors kept per attempt once compacted. */
const COMPACT_ERRORS = 3;

/**
 * Keeps a transition's record within `recordBudgetBytes`, so that writing it cannot fail
 * for its size (a write that fails that way fails on every redelivery, and the job would
 * never end). Pure: the planner applies it to every transition before the write.
 *
 * 1. Within budget: unchanged.
 * 2. Otherwise compact what nobody needs in full any more: the reasons and errors of
 *    attempts that are over (the latest attempt of each step keeps its own: it is the
 *    re-ask's feedback), outputs of losing votes, and — once the job has ended — the step
 *    outputs, which its result already holds.
 * 3. Still too large: fail the job with `too_large` (a job that already failed keeps its
 *    reason), dropping its inputs, step inputs, outputs and result from the record, so
 *    the failure itself fits and the job ends.
 */
export function fitRecord(transition: Transition, limits: Pick<SizeLimits, 'recordBudgetBytes'>, now: Date): Transition {
  const budget = limits.recordBudgetBytes;
  const bytes = jsonBytes(transition.state);
  if (bytes <= budget) return transition;
  const compacted = compact(transition.state);
  if (jsonBytes(compacted) <= budget) return { ...transition, state: compacted };
  return tooLarge(transition, bytes, budget, now);
}

function compact(state: JobState): JobState {
  const ended = state.status !== 'running';
  return {
    ...state,
    steps: state.steps.map((step): StepState => {
      const latest = step.attempts.at(-1)?.attempt;
      const attempts = step.attempts.map((a) => (a.attempt === latest && !ended ? a : compactAttempt(a)));
      return ended && state.status === 'succeeded' ? { ...step, attempts, output: undefined } : { ...step, attempts };
    }),
  };
}

function compactAttempt(a: AttemptState): AttemptState {
  // A vote's output matters only while its quorum is undecided (its status is then `verified`).
  const { output, ...rest } = a;
  return {
    ...rest,
    ...(a.status === 'verified' && output !== undefined ? { output } : {}),
    ...(a.reason !== undefined ? { reason: truncateText(a.reason, COMPACT_TEXT_CHARS) } : {}),
    ...(a.errors ? { errors: a.errors.slice(0, COMPACT_ERRORS).map((e) => truncateText(e, COMPACT_TEXT_CHARS)) } : {}),
  };
}

function tooLarge(transition: Transition, bytes: number, budget: number, now: Date): Transition {
  const { state } = transition;
  const inputsBytes = jsonBytes(state.inputs);
  const largest = [...state.steps].sort((a, b) => jsonBytes(b.input) + jsonBytes(b.output) - (jsonBytes(a.input) + jsonBytes(a.output)))[0];
  const detail = largest ? `; largest step ${largest.id}: input ${jsonBytes(largest.input)} bytes, output ${jsonBytes(largest.output)} bytes` : '';
  const message =
    `the job's record would be ${bytes} bytes, over its budget of ${budget} bytes (ORCH_RECORD_BUDGET_BYTES) even after compaction ` +
    `(inputs ${inputsBytes} bytes${detail}); submit smaller inputs, or split the job`;
  // A job that already failed or was cancelled keeps that as its reason; only its record shrinks.
  const ended = state.status === 'failed' || state.status === 'cancelled';
  const stripped: JobState = {
    ...state,
    status: ended ? state.status : 'failed',
    inputs: {},
    result: undefined,
    error: ended && state.error ? state.error : { code: 'too_large', message },
    updatedAt: now.toISOString(),
    steps: state.steps.map((s) => ({ ...s, input: null, output: undefined, attempts: s.attempts.map((a) => ({ ...compactAttempt(a), output: undefined })) })),
  };
  // Whatever the transition was about to announce as the job's end, the end is now this.
  const events = transition.events.filter((e) => !TERMINAL_JOB_EVENTS.includes(e.event));
  return { state: stripped, events: [...events, terminalEvent(stripped) as NonNullable<ReturnType<typeof terminalEvent>>] };
}
