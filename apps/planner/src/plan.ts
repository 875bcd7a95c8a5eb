import { JobSpec, PlanStepSpec, StepState, isObjectRef, objectRefAt, readJsonPointer, OrchestraError } from '@orchestra/contracts';
import { AGREEMENT_CHECKERS_BY_CAPABILITY, CAPABILITY_DEFINITIONS, definitionFor, isCapability } from '@orchestra/schemas';
import { PLAYBOOKS } from './playbooks';

/** The plan cannot run as given: the message says what to change. Never retryable. */
export class InvalidPlanError extends OrchestraError {
  override readonly name = 'InvalidPlanError';
  readonly retryable = false;
}

/** The client's explicit plan, or the plan of the first playbook that recognises the goal. */
export function planFor(job: JobSpec): PlanStepSpec[] {
  if (job.plan) return job.plan;
  const playbook = PLAYBOOKS.find((p) => p.matches(job.goal));
  if (!playbook) {
    throw new InvalidPlanError(`no built-in playbook recognises the goal; submit an explicit "plan" (playbooks: ${PLAYBOOKS.map((p) => p.name).join(', ')})`);
  }
  return playbook.plan(job.goal, job.inputs);
}

/** Validates a plan as a DAG and turns it into step states. */
export function buildSteps(plan: PlanStepSpec[], job: JobSpec): StepState[] {
  const ids = new Set<string>();
  for (const step of plan) {
    if (ids.has(step.id)) throw new InvalidPlanError(`step id "${step.id}" appears twice`);
    ids.add(step.id);
  }
  const steps = plan.map((step): StepState => {
    if (!isCapability(step.capability)) {
      throw new InvalidPlanError(`step "${step.id}": unknown capability "${step.capability}" (known: ${Object.keys(CAPABILITY_DEFINITIONS).join(', ')})`);
    }
    for (const dep of step.deps) {
      if (!ids.has(dep)) throw new InvalidPlanError(`step "${step.id}" depends on "${dep}", which is not in the plan`);
    }
    for (const ref of refsIn(step.input)) {
      const match = /^\/steps\/([^/]+)\/output/.exec(ref);
      if (match && !step.deps.includes(match[1])) {
        throw new InvalidPlanError(`step "${step.id}" reads ${ref} but does not depend on "${match[1]}"; add it to deps`);
      }
      // Checked now, not at dispatch: a job's inputs never change, and a reference to nothing found later would strand the job.
      const input = /^\/inputs(\/.*)?$/.exec(ref);
      if (input && !readJsonPointer(job.inputs, input[1] ?? '').ok) {
        throw new InvalidPlanError(`step "${step.id}" reads ${ref}, which is not in the job's inputs`);
      }
    }
    // The version its input is written for: data.financials@2 reads documents, @1 names figures to fetch.
    const definition = definitionFor(step.capability, step.input);
    const maxAttempts = step.maxAttempts ?? job.limits.maxAttemptsPerStep;
    if (step.quorum) {
      const fitting = AGREEMENT_CHECKERS_BY_CAPABILITY[step.capability];
      if (!fitting.includes(step.quorum.checker)) {
        throw new InvalidPlanError(`step "${step.id}": checker "${step.quorum.checker}" does not fit ${step.capability}; use ${fitting.join(' or ')}`);
      }
      if (step.quorum.agree > maxAttempts) {
        throw new InvalidPlanError(`step "${step.id}": a quorum of ${step.quorum.agree} needs at least ${step.quorum.agree} attempts, but maxAttempts is ${maxAttempts}`);
      }
    }
    return {
      id: step.id,
      capability: step.capability,
      netuid: step.netuid ?? definition.defaultNetuid,
      ...(step.netuid !== undefined ? { netuidPinned: true } : {}),
      schemaId: definition.outputSchemaId,
      input: step.input,
      deps: step.deps,
      maxAttempts,
      status: 'pending',
      attempts: [],
      ...(step.quorum ? { quorum: step.quorum } : {}),
      ...(step.reask ? { reask: step.reask } : {}),
    };
  });
  assertAcyclic(steps);
  return steps;
}

function assertAcyclic(steps: StepState[]): void {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new InvalidPlanError(`the plan has a cycle: ${[...path, id].join(' → ')}`);
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.deps ?? []) visit(dep, [...path, id]);
    state.set(id, 'done');
  };
  for (const step of steps) visit(step.id, []);
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
