import { JobLimits, MAX_FAN_OUT, PlanEstimate, PlanStepSpec, readJsonPointer } from '@orchestra/contracts';
import { AGREEMENT_CHECKERS_BY_CAPABILITY, CAPABILITY_DEFINITIONS, Capability, definitionFor, isCapability } from '@orchestra/schemas';
import { z } from 'zod';
import { estimatePlan } from './estimate';
import { JsonSchema, arrayOf, itemsOf, placeholderOf, walkSchema } from './json-schema-shape';

/**
 * The structural checks a plan passes before anything is hired, whoever made it (the client, a
 * planning model, a playbook, an approver's edit). Every failure is one precise sentence; all
 * are collected, so a model re-asked with them can fix everything at once.
 *
 * - step ids unique; every capability in the catalog; deps name steps of the plan; no cycle;
 * - every `$ref` reads the job's inputs (and the value is there), a declared dependency's output
 *   along a path that capability's output schema has, or (in a fan-out step) its item;
 * - every input valid for its capability once references are resolved: client inputs by their
 *   values, outputs by placeholders of the shapes they will have (so only *types* are judged
 *   where a reference stands: formats and lengths are the verifier's, on the real answer);
 * - fan-outs over arrays, a known list within MAX_FAN_OUT; quorums that fit their capability;
 * - the estimate (estimate.ts) within the job's `maxTao` and `maxMinerCalls`.
 */
export type PlanCheck = { readonly ok: true; readonly estimate: PlanEstimate } | { readonly ok: false; readonly reasons: string[]; readonly estimate?: PlanEstimate };

export interface PlanContext {
  readonly inputs: Record<string, unknown>;
  readonly limits: JobLimits;
}

/** Zod issue codes that judge a value's format or size, not its type: not judged on placeholders. */
const VALUE_ONLY_ISSUES: ReadonlySet<string> = new Set(['invalid_format', 'too_small', 'too_big', 'not_multiple_of', 'custom']);

const outputShapes = new Map<string, JsonSchema>();

/**
 * The output, as JSON Schema, of a step of `capability` with this input: the version its input is
 * written for (definitionFor), computed once per schema id.
 */
export function outputShapeOf(capability: Capability, input?: unknown): JsonSchema {
  const definition = definitionFor(capability, input);
  let shape = outputShapes.get(definition.outputSchemaId);
  if (!shape) {
    shape = z.toJSONSchema(definition.output, { unrepresentable: 'any' }) as JsonSchema;
    outputShapes.set(definition.outputSchemaId, shape);
  }
  return shape;
}

export function checkPlan(plan: readonly PlanStepSpec[], context: PlanContext): PlanCheck {
  const reasons: string[] = [];
  const byId = new Map<string, PlanStepSpec>();
  for (const step of plan) {
    if (byId.has(step.id)) reasons.push(`step id "${step.id}" appears twice; give each step its own id`);
    byId.set(step.id, step);
  }
  for (const step of plan) {
    if (!isCapability(step.capability)) {
      reasons.push(`step "${step.id}": unknown capability "${step.capability}" (known: ${Object.keys(CAPABILITY_DEFINITIONS).join(', ')})`);
    }
    for (const dep of step.deps) {
      if (dep === step.id) reasons.push(`step "${step.id}" depends on itself`);
      else if (!byId.has(dep)) reasons.push(`step "${step.id}" depends on "${dep}", which is not in the plan`);
    }
  }
  const cycle = findCycle(plan, byId);
  if (cycle) reasons.push(`the plan has a cycle: ${cycle.join(' → ')}; a step may only read steps that finish before it`);
  for (const step of plan) reasons.push(...checkStep(step, byId, context));
  const estimate = estimatePlan(plan, context.inputs);
  if (estimate.tao > context.limits.maxTao) {
    reasons.push(
      `the plan is estimated at ${estimate.tao} TAO (${estimate.calls} calls), over the job's budget of ${context.limits.maxTao} TAO; use fewer steps, runs or quorums, or raise limits.maxTao`,
    );
  }
  if (estimate.calls > context.limits.maxMinerCalls) {
    reasons.push(
      `the plan needs at least ${estimate.calls} miner calls, over the job's limit of ${context.limits.maxMinerCalls}; use fewer steps, runs or quorums, or raise limits.maxMinerCalls`,
    );
  }
  return reasons.length === 0 ? { ok: true, estimate } : { ok: false, reasons, estimate };
}

/** The references, fan-out, input and quorum of one step. */
function checkStep(step: PlanStepSpec, byId: ReadonlyMap<string, PlanStepSpec>, context: PlanContext): string[] {
  const reasons: string[] = [];
  const where = `step "${step.id}"`;
  // The fan-out's item shape (or value, over the client's inputs), for `/item` references.
  let item: Resolved | undefined;
  if (step.forEach) {
    const list = resolveRef(step.forEach.$ref, step, byId, context, undefined);
    if (!list.ok) reasons.push(`${where}: forEach ${step.forEach.$ref}: ${list.reason}`);
    else if ('value' in list) {
      if (!Array.isArray(list.value)) reasons.push(`${where}: forEach ${step.forEach.$ref} is not an array`);
      else if (list.value.length > MAX_FAN_OUT)
        reasons.push(`${where}: forEach ${step.forEach.$ref} has ${list.value.length} items, over the maximum of ${MAX_FAN_OUT} runs per step`);
      else if (list.value.length === 0)
        return reasons; // no run will ever take an input
      else item = { ok: true, value: list.value[0], exact: false };
    } else {
      const items = itemsOf(list.schema);
      if (!items) reasons.push(`${where}: forEach ${step.forEach.$ref} is not an array in that output's schema`);
      else item = { ok: true, schema: items };
    }
  }
  const placeholders: Array<Array<string | number>> = [];
  let unresolved = false;
  const resolved = substitute(step.input, [], (ref, path) => {
    const found = resolveRef(ref, step, byId, context, item);
    if (!found.ok) {
      if (!found.reported) reasons.push(`${where} reads ${ref}: ${found.reason}`);
      unresolved = true;
      return null;
    }
    if ('value' in found && found.exact) return found.value;
    placeholders.push(path);
    return 'value' in found ? found.value : placeholderOf(found.schema);
  });
  if (step.quorum && isCapability(step.capability)) {
    const fitting = AGREEMENT_CHECKERS_BY_CAPABILITY[step.capability];
    if (!fitting.includes(step.quorum.checker)) reasons.push(`${where}: checker "${step.quorum.checker}" does not fit ${step.capability}; use ${fitting.join(' or ')}`);
    const maxAttempts = step.maxAttempts ?? context.limits.maxAttemptsPerStep;
    if (step.quorum.agree > maxAttempts) reasons.push(`${where}: a quorum of ${step.quorum.agree} needs at least ${step.quorum.agree} attempts, but maxAttempts is ${maxAttempts}`);
  }
  if (unresolved || !isCapability(step.capability)) return reasons;
  const parsed = definitionFor(step.capability, step.input).input.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const onPlaceholder = placeholders.some((p) => p.every((segment, i) => issue.path[i] === segment));
      if (onPlaceholder && VALUE_ONLY_ISSUES.has(issue.code)) continue;
      const at = issue.path.length ? `/${issue.path.join('/')}` : 'the input';
      reasons.push(
        `${where}: input ${at} is not a valid ${step.capability} input: ${issue.message}${onPlaceholder ? ' (a reference there gives a value of the wrong shape)' : ''}`,
      );
    }
  }
  return reasons;
}

/** What a reference reads: a real value (the client's inputs), or the shape an output will have. */
type Resolved =
  | { readonly ok: true; readonly value: unknown; readonly exact: boolean }
  | { readonly ok: true; readonly schema: JsonSchema }
  /** `reported`: the cause is already among the plan's reasons (an unknown capability, an invalid list): not repeated. */
  | { readonly ok: false; readonly reason: string; readonly reported?: boolean };

function resolveRef(ref: string, step: PlanStepSpec, byId: ReadonlyMap<string, PlanStepSpec>, context: PlanContext, item: Resolved | undefined): Resolved {
  const input = /^\/inputs(\/.*)?$/.exec(ref);
  if (input) {
    const found = readJsonPointer(context.inputs, input[1] ?? '');
    return found.ok
      ? { ok: true, value: found.value, exact: true }
      : { ok: false, reason: `the job's inputs have no "${found.missing}" (inputs: ${Object.keys(context.inputs).join(', ') || 'none'})` };
  }
  const fromItem = /^\/item(\/.*)?$/.exec(ref);
  if (fromItem) {
    if (!step.forEach) return { ok: false, reason: '/item is only defined in a step with forEach' };
    if (!item || !item.ok) return { ok: false, reason: 'the forEach list is invalid', reported: true };
    if ('value' in item) {
      const found = readJsonPointer(item.value, fromItem[1] ?? '');
      return found.ok ? { ok: true, value: found.value, exact: false } : { ok: false, reason: `the forEach items have no "${found.missing}"` };
    }
    const walked = walkSchema(item.schema, fromItem[1] ?? '');
    return walked.ok ? { ok: true, schema: walked.schema } : { ok: false, reason: `in the forEach item: ${walked.reason}` };
  }
  const output = /^\/steps\/([^/]+)\/output(\/.*)?$/.exec(ref);
  if (!output) return { ok: false, reason: 'a reference reads /inputs/…, /steps/<id>/output/… or /item/…' };
  const [, depId, pointer = ''] = output;
  const dep = byId.get(depId);
  if (!dep) return { ok: false, reason: `there is no step "${depId}"` };
  if (!step.deps.includes(depId)) return { ok: false, reason: `"${depId}" is not among its deps; add it to deps` };
  if (!isCapability(dep.capability)) return { ok: false, reason: `"${depId}" has an unknown capability`, reported: true };
  const shape = dep.forEach ? arrayOf(outputShapeOf(dep.capability, dep.input)) : outputShapeOf(dep.capability, dep.input);
  const walked = walkSchema(shape, pointer);
  return walked.ok
    ? { ok: true, schema: walked.schema }
    : { ok: false, reason: `in the output of "${depId}" (${dep.capability}${dep.forEach ? ', one per run' : ''}): ${walked.reason}` };
}

/** Replaces each `{ "$ref" }` in a step input by what `read` gives for it, with its path. */
function substitute(value: unknown, path: Array<string | number>, read: (ref: string, path: Array<string | number>) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, i], read));
  if (value && typeof value === 'object') {
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && Object.keys(value).length === 1) return read(ref, path);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], read)]));
  }
  return value;
}

/** A cycle of the plan as the path around it, or undefined. */
function findCycle(plan: readonly PlanStepSpec[], byId: ReadonlyMap<string, PlanStepSpec>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.deps ?? []) {
      if (dep === id) continue; // reported as a self-dependency
      const cycle = visit(dep, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const step of plan) {
    const cycle = visit(step.id, []);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}
