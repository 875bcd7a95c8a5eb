import { JobState, MAX_FAN_OUT, StepState, isObjectRef, readJsonPointer, runStepId } from '@orchestra/contracts';

/**
 * Fan-out and fan-in, as pure functions of the job record. A step with `forEach` becomes, once
 * its dependencies are verified, one *run* per item of its list (`<id>[<i>]`, each an ordinary
 * step with its own attempts, re-asks and swaps); it is verified when every run is, its output
 * the array of their outputs in the items' order, which is what dependants read.
 */

export function isFanOut(step: StepState): boolean {
  return step.forEach !== undefined && step.parent === undefined;
}

export type Expansion = { readonly ok: true; readonly state: JobState } | { readonly ok: false; readonly reason: string };

/**
 * The record with `step`'s runs added after it (and `step` running, or verified with `[]` for an
 * empty list). A run's input is the step's with each `/item…` reference turned into a reference
 * to its own item (`<forEach>/<i>…`), so items are never copied into the record.
 */
export function expandFanOut(state: JobState, step: StepState): Expansion {
  const ref = step.forEach?.$ref as string;
  const root = { inputs: state.inputs, steps: Object.fromEntries(state.steps.map((s) => [s.id, { output: s.output }])) };
  const found = readJsonPointer(root, ref);
  if (!found.ok) {
    // A list inside an output kept in the object store cannot be counted here without reading it.
    const stored = isObjectRef(found.at) ? ' (it is in an output too large to keep inline; fan out over a smaller list)' : '';
    return { ok: false, reason: `step ${step.id}: forEach ${ref} points at nothing (missing "${found.missing}")${stored}` };
  }
  const list = found.value;
  if (isObjectRef(list)) return { ok: false, reason: `step ${step.id}: forEach ${ref} is an output too large to keep inline; fan out over a smaller list` };
  if (!Array.isArray(list)) return { ok: false, reason: `step ${step.id}: forEach ${ref} is not an array` };
  if (list.length > MAX_FAN_OUT) return { ok: false, reason: `step ${step.id}: forEach ${ref} has ${list.length} items, over the maximum of ${MAX_FAN_OUT} runs per step` };
  if (list.length === 0) return { ok: true, state: replaceStep(state, step.id, [{ ...step, status: 'verified', output: [] }]) };
  const runs = list.map((_, i): StepState => ({
    ...step,
    id: runStepId(step.id, i),
    input: itemRefs(step.input, `${ref}/${i}`),
    forEach: undefined,
    parent: step.id,
    item: i,
    status: 'pending',
    attempts: [],
  }));
  return { ok: true, state: replaceStep(state, step.id, [{ ...step, status: 'running' }, ...runs.map(({ forEach: _f, ...run }) => run)]) };
}

/** The record with every running fan-out step whose runs are all verified verified too; the same record when there is none. */
export function fanInReady(state: JobState): JobState {
  let changed = false;
  const steps = state.steps.map((s) => {
    if (!isFanOut(s) || s.status !== 'running') return s;
    const runs = state.steps.filter((r) => r.parent === s.id).sort((a, b) => (a.item ?? 0) - (b.item ?? 0));
    if (runs.length === 0 || !runs.every((r) => r.status === 'verified')) return s;
    changed = true;
    return { ...s, status: 'verified' as const, output: runs.map((r) => r.output) };
  });
  return changed ? { ...state, steps } : state;
}

/**
 * The job's output: the output of its final step (the one no other step reads), or, when the
 * plan ends in several, each final step's output by id.
 */
export function finalOutput(steps: readonly StepState[]): unknown {
  const planned = steps.filter((s) => s.parent === undefined);
  const read = new Set(planned.flatMap((s) => s.deps));
  const finals = planned.filter((s) => !read.has(s.id));
  return finals.length === 1 ? finals[0].output : Object.fromEntries(finals.map((s) => [s.id, s.output]));
}

function itemRefs(value: unknown, item: string): unknown {
  if (Array.isArray(value)) return value.map((v) => itemRefs(v, item));
  if (value && typeof value === 'object') {
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && Object.keys(value).length === 1) {
      const match = /^\/item(\/.*)?$/.exec(ref);
      return match ? { $ref: `${item}${match[1] ?? ''}` } : value;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, itemRefs(v, item)]));
  }
  return value;
}

function replaceStep(state: JobState, id: string, replacement: StepState[]): JobState {
  return { ...state, steps: state.steps.flatMap((s) => (s.id === id ? replacement : [s])) };
}
