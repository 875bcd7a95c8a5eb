import { jsonBytes } from './limits';

/**
 * Locating parts of untrusted JSON values by RFC 6901 pointer: the part that makes a
 * value too large, and keys that must never be used. Both walk iteratively (a stack,
 * never recursion), so any depth is safe, though callers depth-check first anyway.
 */

/** RFC 6901 pointer from path segments; `''` is the whole value. */
export function jsonPointer(segments: readonly string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** A part of a JSON value: where it is and how many bytes of JSON it takes. */
export interface JsonPart {
  /** RFC 6901 pointer into the value, e.g. `/inputs/entities`; `''` is the whole value. */
  readonly pointer: string;
  readonly bytes: number;
}

/**
 * The part of a value that makes it large, to name in a "too large" answer: starting from
 * the whole value, step into its largest member while that member holds more than half of
 * its parent's bytes. For `{ goal, inputs: { entities: [...100 000 tickers] } }` that is
 * `/inputs/entities` — the field to shrink — rather than the root, or one of many small
 * items of the array.
 */
export function largestPart(value: unknown): JsonPart {
  const segments: string[] = [];
  let current = value;
  let bytes = jsonBytes(value);
  for (;;) {
    if (current === null || typeof current !== 'object') break;
    let dominant: { key: string; child: unknown; bytes: number } | undefined;
    let measured = 0;
    // Measuring stops as soon as the answer is known: a member over half is the only one;
    // once half the bytes are measured without one, the rest cannot hold one either. A
    // hostile array of 100 000 small items is measured half, not wholly.
    const keys = Array.isArray(current) ? undefined : Object.keys(current);
    const count = keys ? keys.length : (current as unknown[]).length;
    for (let i = 0; i < count; i++) {
      const key = keys ? keys[i] : i;
      const child: unknown = (current as Record<string | number, unknown>)[key];
      const childBytes = jsonBytes(child);
      if (childBytes * 2 > bytes) {
        dominant = { key: String(key), child, bytes: childBytes };
        break;
      }
      measured += childBytes;
      if (measured * 2 >= bytes) break;
    }
    if (!dominant) break;
    segments.push(dominant.key);
    current = dominant.child;
    bytes = dominant.bytes;
  }
  return { pointer: jsonPointer(segments), bytes };
}

/**
 * Where a parsed JSON value uses a key that can rewrite object prototypes when the value
 * is merged or copied (`__proto__`, or `constructor` holding a `prototype`), as a JSON
 * pointer to the offending key; undefined when there is none. JSON.parse makes such keys
 * ordinary own properties, so the value itself is harmless until some code spreads or
 * assigns it; refusing them at the door means no code has to be careful later.
 */
export function forbiddenKeyPointer(value: unknown): string | undefined {
  const stack: Array<[unknown, string[]]> = [[value, []]];
  while (stack.length > 0) {
    const [current, path] = stack.pop() as [unknown, string[]];
    if (current === null || typeof current !== 'object') continue;
    const isArray = Array.isArray(current);
    for (const [key, child] of Object.entries(current)) {
      if (!isArray && key === '__proto__') return jsonPointer([...path, key]);
      if (!isArray && key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        return jsonPointer([...path, key, 'prototype']);
      }
      if (child !== null && typeof child === 'object') stack.push([child, [...path, key]]);
    }
  }
  return undefined;
}
