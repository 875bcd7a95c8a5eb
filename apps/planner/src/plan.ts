import { JobSpec, PlanStepSpec, StepState, isObjectRef, objectRefAt, readJsonPointer, OrchestraError } from '@orchestra/contracts';
import { Capability, definitionFor } from '@orchestra/schemas';
import { checkPlan } from './plan-checks';

/** The plan cannot run as given: the message says what to change (`reasons`: each violation). Never retryable. */
export class InvalidPlanError extends OrchestraError {
  override readonly name = 'InvalidPlanError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly reasons: readonly string[] = [message],
  ) {
    super(message);
  }
}

/**
 * Turns a plan into step states, after the structural checks (plan-checks.ts); throws
 * InvalidPlanError naming every violation.
 */
export function buildSteps(plan: readonly PlanStepSpec[], job: Pick<JobSpec, 'inputs' | 'limits'>): StepState[] {
  const checked = checkPlan(plan, job);
  if (!checked.ok) throw new InvalidPlanError(checked.reasons.join('; '), checked.reasons);
  return plan.map((step): StepState => {
    // The version its input is written for: data.financials@2 reads documents, @1 names figures to fetch.
    const definition = definitionFor(step.capability as Capability, step.input);
    return {
      id: step.id,
      capability: step.capability,
      netuid: step.netuid ?? definition.defaultNetuid,
      ...(step.netuid !== undefined ? { netuidPinned: true } : {}),
      schemaId: definition.outputSchemaId,
      input: step.input,
      deps: step.deps,
      maxAttempts: step.maxAttempts ?? job.limits.maxAttemptsPerStep,
      status: 'pending',
      attempts: [],
      ...(step.quorum ? { quorum: step.quorum } : {}),
      ...(step.reask ? { reask: step.reask } : {}),
      ...(step.forEach ? { forEach: step.forEach } : {}),
    };
  });
}

/** Every `$ref` pointer in a step input. */
export function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value && typeof value === 'object') {
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && Object.keys(value).length === 1) return [ref];
    return Object.values(value).flatMap(refsIn);
  }
  return [];
}

/**
 * Replaces each `{ "$ref": "/…" }` in a step input with the value at that JSON pointer
 * (RFC 6901) in `{ inputs, steps: { <id>: { output } } }`. A pointer that reaches a
 * stored output (an ObjectRef) becomes a reference to the part it selects, so a large
 * output is never copied into a task: whoever runs the task resolves it.
 */
export function resolveInput(value: unknown, root: { inputs: unknown; steps: Record<string, { output?: unknown }> }): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveInput(v, root));
  if (value && typeof value === 'object') {
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && Object.keys(value).length === 1) return pointer(root, ref);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveInput(v, root)]));
  }
  return value;
}

function pointer(root: unknown, ref: string): unknown {
  const found = readJsonPointer(root, ref);
  if (found.ok) return found.value;
  if (isObjectRef(found.at)) return objectRefAt(found.at, found.rest);
  throw new InvalidPlanError(`input reference ${ref} points at nothing (missing "${found.missing}")`);
}
