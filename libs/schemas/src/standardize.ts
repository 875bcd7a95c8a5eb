import { z } from 'zod';
import { outputSchema } from './schema-registry';

/** Outputs larger than this are rejected unread: no honest answer of ours is near it. */
export const MAX_OUTPUT_CHARS = 2_000_000;

/**
 * Why a raw output was not accepted. `not_json`: nothing parseable; `schema`: JSON of the wrong
 * shape; `semantic`: the right shape, but not an answer to the task's input (verifyOutput only).
 */
export type RejectionKind = 'too_large' | 'not_json' | 'schema' | 'semantic';

/** The verdict of the JSON Standardization Layer on one raw miner output. */
export type Standardized<T = unknown> =
  | { ok: true; value: T }
  | { ok: false; kind: RejectionKind; errors: string[] };

/**
 * Finds the JSON value in a miner's raw text. Models wrap JSON in prose or Markdown
 * fences, so this accepts, in order: the whole text, the first ```json fence, the first
 * balanced {...} or [...] block. Returns undefined when none parses.
 */
export function extractJson(raw: string): unknown {
  const text = raw.trim();
  const candidates = [text];
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(text);
  if (fence) candidates.push(fence[1].trim());
  const block = firstBalancedBlock(text);
  if (block) candidates.push(block);
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next, narrower candidate
    }
  }
  return undefined;
}

/** The first {...} or [...] span whose brackets balance, ignoring brackets inside strings. */
function firstBalancedBlock(text: string): string | undefined {
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
    else if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return undefined;
      if (stack.length === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

/** Formats zod issues as `path: message` lines, the form fed back to miners on a re-ask. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 20).map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

/** Parses a raw output and validates it against a registered schema. */
export function standardize<T = unknown>(schemaId: string, raw: string): Standardized<T> {
  if (raw.length > MAX_OUTPUT_CHARS) {
    return { ok: false, kind: 'too_large', errors: [`output has ${raw.length} characters; the limit is ${MAX_OUTPUT_CHARS}`] };
  }
  const json = extractJson(raw);
  if (json === undefined) {
    return { ok: false, kind: 'not_json', errors: [`no JSON value found in the output (starts: ${JSON.stringify(raw.slice(0, 80))})`] };
  }
  const parsed = outputSchema(schemaId).safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data as T }
    : { ok: false, kind: 'schema', errors: describeIssues(parsed.error) };
}
