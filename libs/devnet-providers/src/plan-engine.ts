import { CatalogEntry, PlanningRequest } from '@orchestra/schemas';

/**
 * The fake LLM's planner: answers a planning prompt (libs/schemas planningMessages) with a plan
 * built from the catalog *it finds in the prompt* — never from a list of its own — so a renamed
 * capability is planned under its new name. Deterministic: same prompt, same plan.
 *
 * 1. A capability is relevant when a word of the goal shares its first five letters with a word
 *    of the capability's last name segment or description ("analyze" ~ "analysis").
 * 2. Relevant capabilities whose output feeds another relevant one go first (social posts and
 *    web results before the analysis that cites them); steps are added while any can be filled.
 *    Each required input property is taken from the client's inputs of the same name
 *    (`/inputs/<key>`), else from an earlier step's output property of the same name
 *    (`/steps/<id>/output/<key>`, a dependency), else from the goal (a string: the goal; strings
 *    of an enum: those the goal names, or all; strings with a pattern: the goal's words that
 *    match it; other strings: the goal's capitalised words, or its content words). Optional
 *    properties are taken only from the client's inputs or earlier outputs, never guessed.
 * 3. An input that lists items (arrays of objects: rows, posts, results) and requires none of
 *    them needs at least one: something to work on. A capability that cannot be filled is left
 *    out, unless a relevant capability produces what it lacks, or one the client's inputs
 *    fill entirely (figures from the filings it supplied): that one goes first.
 *
 * Faulty models (`PlanFault`) answer the same plan broken one way each, so every check of the
 * planner meets a real violation: a cycle, an unknown capability, a dangling reference, a plan
 * over the budget, or prose with no JSON at all.
 */

export const PLAN_FAULTS = ['cycle', 'unknown-capability', 'dangling-ref', 'over-budget', 'no-json'] as const;
export type PlanFault = (typeof PLAN_FAULTS)[number];

interface Step {
  id: string;
  capability: string;
  input: Record<string, unknown>;
  deps: string[];
  quorum?: { agree: number; checker: string };
}

type Schema = Record<string, unknown>;

/** Input lists of identifiers, filled only from the goal's capitalised words (AAPL, MSFT). */
const IDENTIFIER_LISTS = /^(entities|tickers|symbols|ids)$/;

const STOPWORDS = new Set(
  'a an the of to at by from in on for and or with as is are be was were what how does do did about this that these those me us our my your their it its into over per please write make get give find tell show each every whose its'.split(
    ' ',
  ),
);

/** The answer text to a planning request: the plan as JSON (or, for `no-json`, prose). */
export function answerPlanningRequest(request: PlanningRequest, fault?: PlanFault): string {
  if (fault === 'no-json') return 'I would start by gathering the data, then analyse it, then write the code.';
  return JSON.stringify({ steps: breakPlan(planGoal(request), request, fault) });
}

/** The good plan for a request. */
export function planGoal(request: PlanningRequest): Step[] {
  const words = contentWords(request.goal);
  const relevant = request.catalog.filter((c) => isRelevant(c, words));
  // Producers of what another relevant capability reads go first, so the reader finds every list it can cite.
  const isProducer = (p: CatalogEntry) => relevant.some((c) => c !== p && feeds(p, c, request));
  const ordered = [...relevant.filter(isProducer), ...relevant.filter((p) => !isProducer(p))];
  // Producers the goal does not name qualify when the client's inputs feed them (its filings, for figures).
  const fedByClient = (c: CatalogEntry) => {
    const required = requiredOf(c.input as Schema);
    return required.length > 0 && required.every((k) => Object.hasOwn(request.inputs, k));
  };
  const producers = [...ordered, ...request.catalog.filter((c) => !relevant.includes(c) && fedByClient(c))];
  const steps: Step[] = [];
  const planned = new Set<string>();
  for (let progress = true; progress;) {
    progress = false;
    for (const entry of ordered) {
      if (planned.has(entry.capability)) continue;
      let input = fill(entry, request, steps);
      if (!input) {
        // A producer of what it lacks (a property of the same name in its output) goes first.
        const producer = producers.find((p) => !planned.has(p.capability) && p !== entry && feeds(p, entry, request) && fill(p, request, steps));
        if (!producer) continue;
        steps.push(stepFor(producer, fill(producer, request, steps) as Step['input'], steps));
        planned.add(producer.capability);
        input = fill(entry, request, steps);
        if (!input) continue;
      }
      steps.push(stepFor(entry, input, steps));
      planned.add(entry.capability);
      progress = true;
    }
  }
  return steps;
}

function stepFor(entry: CatalogEntry, input: Step['input'], earlier: readonly Step[]): Step {
  const base =
    entry.capability
      .split('.')
      .at(-1)
      ?.replace(/[^a-z0-9_-]/g, '') || 'step';
  let id = /^[a-z]/.test(base) ? base.slice(0, 28) : `s${base}`.slice(0, 28);
  while (earlier.some((s) => s.id === id)) id = `${id}x`;
  const deps = [...new Set(refsIn(input).flatMap((ref) => /^\/steps\/([^/]+)\//.exec(ref)?.[1] ?? []))];
  return { id, capability: entry.capability, input, deps };
}

/** The step's input, each required property filled (and the optional ones the inputs or earlier outputs give); undefined when one cannot be. */
function fill(entry: CatalogEntry, request: PlanningRequest, earlier: readonly Step[]): Step['input'] | undefined {
  const schema = entry.input as Schema;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = requiredOf(schema);
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(props)) {
    const value = required.includes(key) ? fillProperty(key, props[key], request, earlier) : fromElsewhere(key, props[key], request, earlier);
    if (value === undefined && required.includes(key)) return undefined;
    if (value !== undefined) input[key] = value;
  }
  const lists = itemLists(schema);
  if (lists.length > 0 && !lists.some((k) => k in input)) return undefined;
  return input;
}

/** A property from the client's inputs of the same name, else from the latest earlier step whose output has it. */
function fromElsewhere(key: string, schema: Schema, request: PlanningRequest, earlier: readonly Step[]): unknown {
  if (Object.hasOwn(request.inputs, key)) return { $ref: `/inputs/${key}` };
  for (const step of [...earlier].reverse()) {
    const entry = request.catalog.find((c) => c.capability === step.capability);
    const out = (entry?.output as Schema | undefined)?.properties as Record<string, Schema> | undefined;
    if (out && Object.hasOwn(out, key) && out[key].type === schema.type) return { $ref: `/steps/${step.id}/output/${key}` };
  }
  return undefined;
}

/** The input properties that list items (arrays of objects): what a capability works on. */
function itemLists(schema: Schema): string[] {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  return Object.keys(props).filter((k) => {
    const items = props[k].items as Schema | undefined;
    return props[k].type === 'array' && items !== undefined && (items.type === 'object' || Array.isArray(items.anyOf));
  });
}

function requiredOf(schema: Schema): string[] {
  return Array.isArray(schema.required) ? (schema.required as string[]) : [];
}

function fillProperty(key: string, schema: Schema, request: PlanningRequest, earlier: readonly Step[]): unknown {
  const elsewhere = fromElsewhere(key, schema, request, earlier);
  if (elsewhere !== undefined) return elsewhere;
  if (schema.type === 'string') return truncate(request.goal, schema.maxLength);
  if (schema.type === 'array') {
    const items = (schema.items ?? {}) as Schema;
    if (items.type !== 'string') return undefined;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : 5;
    const tokens = request.goal.split(/[\s,;:!?()"]+/).map((t) => t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''));
    let values: string[];
    if (Array.isArray(items.enum)) {
      const named = (items.enum as string[]).filter((e) => e.split('_').every((w) => request.goal.toLowerCase().includes(w)));
      values = named.length ? named : (items.enum as string[]);
    } else if (typeof items.pattern === 'string') {
      const pattern = new RegExp(items.pattern);
      values = tokens.filter((t) => pattern.test(t));
    } else {
      // Identifiers (tickers, symbols) are the goal's capitalised words; other lists (keywords) take its topic words.
      const capitals = tokens.filter((t) => /^[A-Z][A-Z.]{1,15}$/.test(t));
      values = capitals.length || IDENTIFIER_LISTS.test(key) ? capitals : topicWords(request);
    }
    values = [...new Set(values)].slice(0, max);
    return values.length ? values.map((v) => truncate(v, items.maxLength)) : undefined;
  }
  return undefined;
}

/** Whether `producer`'s output has a property `consumer` reads (a required one, or a list of items) that the client does not supply. */
function feeds(producer: CatalogEntry, consumer: CatalogEntry, request: PlanningRequest): boolean {
  const out = ((producer.output as Schema).properties ?? {}) as Record<string, Schema>;
  const input = consumer.input as Schema;
  const reads = new Set([...requiredOf(input), ...itemLists(input)]);
  return [...reads].some((k) => Object.hasOwn(out, k) && !Object.hasOwn(request.inputs, k));
}

function isRelevant(entry: CatalogEntry, goalWords: readonly string[]): boolean {
  const own = contentWords(`${entry.capability.split('.').at(-1) ?? ''} ${entry.description}`);
  const stems = new Set(own.filter((w) => w.length >= 4).map(stem));
  return goalWords.some((w) => w.length >= 4 && stems.has(stem(w)));
}

function breakPlan(steps: Step[], request: PlanningRequest, fault: PlanFault | undefined): Step[] {
  if (!fault || steps.length === 0) return steps;
  const [first] = steps;
  const last = steps.at(-1) as Step;
  switch (fault) {
    case 'cycle':
      // The first step and the last now wait for each other.
      if (steps.length === 1) return [{ ...first, deps: [first.id] }];
      return steps.map((s) => (s === first ? { ...s, deps: [...new Set([...s.deps, last.id])] } : s === last ? { ...s, deps: [...new Set([...s.deps, first.id])] } : s));
    case 'unknown-capability':
      return steps.map((s) => (s === first ? { ...s, capability: `${s.capability.split('.')[0]}.telepathy` } : s));
    case 'dangling-ref': {
      const reader = steps.find((s) => s.deps.length > 0) ?? first;
      const key = Object.keys(reader.input)[0];
      return steps.map((s) => (s === reader ? { ...s, input: { ...s.input, [key]: { $ref: `/steps/${s.deps[0] ?? 'missing'}/output/nothing_here` } } } : s));
    }
    case 'over-budget': {
      const needed = Math.ceil(request.limits.maxTao / request.limits.estimatedTaoPerCall) + 1;
      const copies = Math.min(60, needed);
      return [...steps, ...Array.from({ length: copies }, (_, i) => ({ ...first, id: `again${i}`, deps: [] }))];
    }
    default:
      return steps;
  }
}

function contentWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1 && !STOPWORDS.has(w));
}

/**
 * The goal's content words that name no capability: what it is about, not what to do with it
 * ("sentiment of social posts about the Bittensor halving" is about sentiment, bittensor, halving).
 */
function topicWords(request: PlanningRequest): string[] {
  const vocabulary = new Set(request.catalog.flatMap((c) => contentWords(`${c.capability.split('.').join(' ')} ${c.description}`).map(stem)));
  return contentWords(request.goal).filter((w) => !vocabulary.has(stem(w)));
}

function stem(word: string): string {
  return word.slice(0, 5);
}

function truncate(text: string, max: unknown): string {
  return typeof max === 'number' && text.length > max ? text.slice(0, max) : text;
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value && typeof value === 'object') {
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') return [ref];
    return Object.values(value).flatMap(refsIn);
  }
  return [];
}
