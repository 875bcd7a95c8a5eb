import { MAX_FAN_OUT, PlanEstimate, PlanStepSpec, readJsonPointer } from '@orchestra/contracts';

/**
 * What one accepted answer is estimated to cost, TAO, before anything is hired. Deliberately
 * simple: a hire costs ORCH_HIRE_PRICE_ALPHA (0.01 alpha by default) at the subnet's pool price,
 * and alpha prices sit well below 2 TAO, so 0.02 TAO per call bounds a step's first answer.
 * Re-asks and hedges are not in it (they depend on the miners); the job's `maxTao` still bounds
 * what is really spent.
 */
export const ESTIMATED_TAO_PER_CALL = 0.02;

/**
 * The plan's estimate: per step, the answers it needs (a quorum's `agree`, else one) times its
 * runs (a fan-out over the client's inputs runs once per item; over a step's output, MAX_FAN_OUT
 * times at most, the figure used).
 */
export function estimatePlan(plan: readonly PlanStepSpec[], inputs: Record<string, unknown>): PlanEstimate {
  let calls = 0;
  for (const step of plan) calls += (step.quorum?.agree ?? 1) * runsOf(step, inputs);
  return { calls, tao: round(calls * ESTIMATED_TAO_PER_CALL) };
}

function runsOf(step: PlanStepSpec, inputs: Record<string, unknown>): number {
  if (!step.forEach) return 1;
  const known = /^\/inputs(\/.*)?$/.exec(step.forEach.$ref);
  if (known) {
    const found = readJsonPointer(inputs, known[1] ?? '');
    if (found.ok && Array.isArray(found.value)) return Math.min(found.value.length, MAX_FAN_OUT);
  }
  return MAX_FAN_OUT;
}

function round(tao: number): number {
  return Math.round(tao * 1e9) / 1e9;
}
