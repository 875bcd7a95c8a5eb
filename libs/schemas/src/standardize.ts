import { DEFAULT_LIMITS, parseUntrustedJson, truncateText, UntrustedJsonError } from '@orchestra/contracts';
import { describeIssues } from './issues';
import { outputSchema } from './schema-registry';

/** Outputs larger than this are rejected unread: no honest answer of ours is near it. */
export const MAX_OUTPUT_CHARS = 2_000_000;

/**
 * Why a raw output was not accepted. `not_json`: nothing parseable; `schema`: JSON of the wrong
 * shape; `semantic`: the right shape, but not an answer to the task's input (verifyOutput only).
 */
export type RejectionKind = 'too_large' | 'not_json' | 'schema' | 'semantic';

/** The verdict of the JSON Standardization Layer on one raw miner output. */
export type Standardized<T = unknown> = { ok: true; value: T } | { ok: false; kind: RejectionKind; errors: string[] };

/** What extractJson found: a value, or why nothing usable was found. */
export type ExtractedJson = { found: true; value: unknown } | { found: false; why: string };

/**
 * Finds the JSON value in a miner's raw text. Models wrap JSON in prose or Markdown
 * fences, so this accepts, in order: the whole text, the first ```json fence, the first
 * balanced {...} or [...] block. Every parse is bounded in depth (`maxDepth`, default
 * ORCH_JSON_MAX_DEPTH's), so no value that reaches a schema or a checker can overflow a
 * recursive walk; and every scan is linear, whatever the text.
 */
export function extractJson(raw: string, maxDepth: number = DEFAULT_LIMITS.maxJsonDepth): ExtractedJson {
  const text = raw.trim();
  const candidates = [text];
  const fence = firstFence(text);
  if (fence !== undefined) candidates.push(fence.trim());
  const block = firstBalancedBlock(text, maxDepth);
  if (block) candidates.push(block);
  let tooDeep: string | undefined;
  for (const candidate of candidates) {
    try {
      return { found: true, value: parseUntrustedJson(candidate, { maxDepth }) };
    } catch (error) {
      // try the next, narrower candidate
      if (error instanceof UntrustedJsonError && error.kind === 'too_deep') tooDeep = error.message;
    }
  }
  return { found: false, why: tooDeep ?? 'no JSON value found in the output' };
}

/** The body of the first ``` fence (an optional `json` tag and newline skipped), found with indexOf: linear. */
function firstFence(text: string): string | undefined {
  const open = text.indexOf('```');
  if (open < 0) return undefined;
  const close = text.indexOf('```', open + 3);
  if (close < 0) return undefined;
  return text.slice(open + 3, close).replace(/^(?:json|JSON)?[ \t]*\r?\n?/, '');
}

/**
 * The first {...} or [...] span whose brackets balance, ignoring brackets inside strings.
 * Gives up past `maxDepth` levels: such a block would be refused anyway.
 */
function firstBalancedBlock(text: string, maxDepth: number): string | undefined {
  const start = text.search(/[{[]/);
  if (start < 0) return undefined;
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (stack.push(c === '{' ? '}' : ']') > maxDepth) return undefined;
    } else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return undefined;
      if (stack.length === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

/** Parses a raw output and validates it against a registered schema. */
export function standardize<T = unknown>(schemaId: string, raw: string): Standardized<T> {
  if (raw.length > MAX_OUTPUT_CHARS) {
    return { ok: false, kind: 'too_large', errors: [`output has ${raw.length} characters; the limit is ${MAX_OUTPUT_CHARS}`] };
  }
  const json = extractJson(raw);
  if (!json.found) {
    return { ok: false, kind: 'not_json', errors: [`${json.why} (starts: ${JSON.stringify(truncateText(raw, 80))})`] };
  }
  const parsed = outputSchema(schemaId).safeParse(json.value);
  return parsed.success ? { ok: true, value: parsed.data as T } : { ok: false, kind: 'schema', errors: describeIssues(parsed.error) };
}
