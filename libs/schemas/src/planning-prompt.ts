import { JobLimits, PLAN_SCHEMA_ID, PlanSchema, PlanStepSpec, parseUntrustedJson } from '@orchestra/contracts';
import { z } from 'zod';
import type { ChatMessage } from './prompts';
import { CAPABILITIES, CAPABILITY_DEFINITIONS } from './registry';

/**
 * The prompt that asks an LLM for a plan (`plan@1`), and its reading. One place for the format
 * so the planner that writes it and the devnet's fake LLM that answers it cannot drift apart.
 * The whole request travels as one JSON block: a model reads it as well as prose, and a
 * deterministic engine can read it exactly.
 */

/** The system message of every planning prompt starts with this. */
export const PLANNING_PROMPT_MARKER = 'You are the planner of Orchestra';

/** One capability as a planning model sees it. */
export interface CatalogEntry {
  readonly capability: string;
  readonly description: string;
  /** Which subnet serves it by default. */
  readonly subnet: number;
  readonly input: unknown;
  readonly output: unknown;
}

export interface PlanExample {
  readonly goal: string;
  readonly inputs: Record<string, unknown>;
  readonly plan: PlanStepSpec[];
}

/** Everything a planning model is told. */
export interface PlanningRequest {
  readonly goal: string;
  readonly catalog: readonly CatalogEntry[];
  /** The client's inputs by key: their shapes (shapeSummary), not their contents. */
  readonly inputs: Record<string, unknown>;
  readonly limits: Pick<JobLimits, 'maxTao' | 'maxMinerCalls'> & { readonly maxFanOut: number; readonly estimatedTaoPerCall: number };
  readonly examples: readonly PlanExample[];
  /** Why the model's last plan was rejected, on a re-ask. */
  readonly feedback?: readonly string[];
}

/** The catalog of every capability the schemas define: what a planner may use. */
export function capabilityCatalog(): CatalogEntry[] {
  return CAPABILITIES.map((c) => {
    const d = CAPABILITY_DEFINITIONS[c];
    return {
      capability: c,
      description: d.description,
      subnet: d.defaultNetuid,
      input: z.toJSONSchema(d.input, { unrepresentable: 'any' }),
      output: z.toJSONSchema(d.output, { unrepresentable: 'any' }),
    };
  });
}

/**
 * What a value looks like, without its contents: types, object keys, array lengths and the
 * first element's shape, to `depth` levels and `keys` keys per object. A client's megabytes
 * become a few hundred bytes a model can plan with.
 */
export function shapeSummary(value: unknown, depth = 3, keys = 20): unknown {
  if (Array.isArray(value)) return depth <= 0 ? `array(${value.length})` : { array: value.length, of: value.length ? shapeSummary(value[0], depth - 1, keys) : 'nothing' };
  if (value && typeof value === 'object') {
    if (depth <= 0) return 'object';
    const entries = Object.entries(value);
    const shown = Object.fromEntries(entries.slice(0, keys).map(([k, v]) => [k.slice(0, 64), shapeSummary(v, depth - 1, keys)]));
    return entries.length > keys ? { ...shown, '…': `${entries.length - keys} more keys` } : shown;
  }
  if (typeof value === 'string') return value.length <= 40 ? `string ${JSON.stringify(value)}` : `string(${value.length} chars)`;
  return value === null ? 'null' : typeof value;
}

/** The chat messages asking for a plan. */
export function planningMessages(request: PlanningRequest): ChatMessage[] {
  const system = [
    `${PLANNING_PROMPT_MARKER}, a marketplace that hires Bittensor subnets for each step of a goal.`,
    'Break the goal into steps, each using exactly one capability of the catalog, and answer with exactly one JSON object and nothing else.',
    `It must conform to ${PLAN_SCHEMA_ID}:\n${JSON.stringify(z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' }))}`,
    'Rules: a step input must be valid for its capability\'s input schema. A value from elsewhere is written {"$ref": "<pointer>"}: ' +
      '"/inputs/<key>…" reads the client\'s inputs; "/steps/<id>/output/<path>" reads a step\'s output (that step must be in deps, and the path must exist in its capability\'s output schema). ' +
      `"forEach": {"$ref": …} runs a step once per item of an array (at most ${request.limits.maxFanOut}), its input reading the item as {"$ref": "/item/<path>"}; ` +
      "steps depending on it read its output as the array of the runs' outputs. No cycles. " +
      `Each step costs about ${request.limits.estimatedTaoPerCall} TAO; stay within the budget.`,
  ].join('\n');
  const user = `Plan this request:\n\`\`\`json\n${JSON.stringify(request)}\n\`\`\``;
  const messages: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
  return messages;
}

/** The planning request in a prompt, when it is one (what the devnet's fake LLM reads). */
export function readPlanningRequest(messages: readonly { role: string; content: string }[]): PlanningRequest | undefined {
  if (!messages.some((m) => m.role === 'system' && m.content.startsWith(PLANNING_PROMPT_MARKER))) return undefined;
  const user = [...messages].reverse().find((m) => m.role === 'user');
  const block = user && /```json\n([\s\S]*?)\n```/.exec(user.content);
  if (!block) return undefined;
  try {
    const request = parseUntrustedJson(block[1], { maxChars: 1_000_000 }) as PlanningRequest;
    return request && typeof request.goal === 'string' && Array.isArray(request.catalog) ? request : undefined;
  } catch {
    return undefined;
  }
}
