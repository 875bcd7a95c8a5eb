import { DEFAULT_LIMITS } from './limits';
import { OrchestraError } from './errors';

/**
 * Handling text and JSON that strangers wrote: miner and provider answers, status
 * messages, error details, request bodies, NATS messages from outside the deployment.
 * Cut once where it enters, depth-checked before anything walks it recursively.
 */

/** The marker that ends a cut text, followed by how much was cut. */
export const TRUNCATION_MARKER = '…[truncated';

/**
 * `text` cut to at most `max` characters (plus a marker saying how many were cut).
 * Lone surrogates left by the cut are dropped, so the result is always valid UTF-16.
 */
export function truncateText(text: string, max: number = DEFAULT_LIMITS.textLimitChars): string {
  if (text.length <= max) return text;
  let head = text.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}${TRUNCATION_MARKER} ${text.length - head.length} chars]`;
}

/** Untrusted JSON that is too large, too deep or not JSON at all. */
export class UntrustedJsonError extends OrchestraError {
  override readonly name = 'UntrustedJsonError';
  readonly retryable = false;
  constructor(
    message: string,
    /** `too_large`, `too_deep` or `not_json`. */
    readonly kind: 'too_large' | 'too_deep' | 'not_json',
  ) {
    super(message);
  }
}

/**
 * The deepest nesting of arrays and objects in a JSON text, stopping as soon as it
 * exceeds `limit` (so a hostile 10 MB of `[` costs one short scan, not a stack overflow
 * later in whatever walks the parsed value). Brackets inside strings do not count.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

export interface UntrustedJsonLimits {
  /** Longest text accepted, characters. */
  readonly maxChars?: number;
  /** Deepest nesting accepted (default `ORCH_JSON_MAX_DEPTH`'s default). */
  readonly maxDepth?: number;
}

/**
 * JSON.parse for untrusted text, bounded in size and depth. Throws UntrustedJsonError
 * (never a RangeError or SyntaxError) so callers can blame the sender.
 */
export function parseUntrustedJson(text: string, limits: UntrustedJsonLimits = {}): unknown {
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxJsonDepth;
  if (limits.maxChars !== undefined && text.length > limits.maxChars) {
    throw new UntrustedJsonError(`JSON of ${text.length} characters exceeds the limit of ${limits.maxChars}`, 'too_large');
  }
  if (jsonDepthExceeds(text, maxDepth)) throw new UntrustedJsonError(`JSON nested deeper than ${maxDepth} levels`, 'too_deep');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UntrustedJsonError(`not JSON: ${truncateText(error instanceof Error ? error.message : String(error), 200)}`, 'not_json');
  }
}

/**
 * Whether an already-parsed value nests deeper than `limit` (for values that arrived
 * parsed, e.g. a request body parsed by the HTTP framework). Iterative: safe at any depth.
 */
export function valueDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Limits of {@link parseUntrustedJsonSequence}: those of one value, plus how many values. */
export interface UntrustedJsonSequenceLimits extends UntrustedJsonLimits {
  /** Most values accepted (default 10,000). */
  readonly maxValues?: number;
}

/**
 * A stream of concatenated JSON objects or arrays (`{…}{…}[…]`, whitespace between them
 * allowed), as streaming synapses answer (Desearch writes one `json.dumps` per event, no
 * separator), parsed value by value with parseUntrustedJson's bounds. Each value is cut out by
 * one linear scan that tracks strings and depth, so a hostile stream costs one pass. Throws
 * UntrustedJsonError: `not_json` for a scalar at the top level, text between values or a
 * value left unfinished, `too_deep`, or `too_large` past `maxValues` values.
 */
export function parseUntrustedJsonSequence(text: string, limits: UntrustedJsonSequenceLimits = {}): unknown[] {
  const maxValues = limits.maxValues ?? 10_000;
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxJsonDepth;
  if (limits.maxChars !== undefined && text.length > limits.maxChars) {
    throw new UntrustedJsonError(`JSON stream of ${text.length} characters exceeds the limit of ${limits.maxChars}`, 'too_large');
  }
  const values: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const open = text.charCodeAt(i);
    if (open !== 0x7b /* { */ && open !== 0x5b /* [ */) {
      throw new UntrustedJsonError(`not a JSON stream: expected an object or array at character ${i}, found ${JSON.stringify(text.slice(i, i + 20))}`, 'not_json');
    }
    if (values.length >= maxValues) throw new UntrustedJsonError(`JSON stream holds more than ${maxValues} values`, 'too_large');
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === 0x5c /* \ */) i++;
        else if (c === 0x22 /* " */) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x5b || c === 0x7b) {
        if (++depth > maxDepth) throw new UntrustedJsonError(`JSON nested deeper than ${maxDepth} levels`, 'too_deep');
      } else if ((c === 0x5d /* ] */ || c === 0x7d) /* } */ && --depth === 0) break;
    }
    if (i >= text.length) throw new UntrustedJsonError(`not a JSON stream: the value starting at character ${start} is unfinished`, 'not_json');
    i++;
    values.push(parseUntrustedJson(text.slice(start, i), { maxDepth }));
  }
  return values;
}
