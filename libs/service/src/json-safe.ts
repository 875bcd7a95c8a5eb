import { isSecretKey, redactText, REDACTED } from './redact';

/**
 * Converts an arbitrary value into something `JSON.stringify` renders faithfully, with
 * secrets removed (fields named like secrets, passwords in URLs, bearer credentials: see
 * redact.ts), so a log line can hold any object, including a configuration or an error
 * that quotes one:
 * Errors become `{ name, message, stack, cause, ...ownFields }` (recursively, so the
 * `cause` chain survives), bigints become decimal strings (stake/emission are u64 rao),
 * and cycles become "[Circular]" instead of throwing mid-log-line.
 */
export function toJsonSafe(value: unknown): unknown {
  return convert(value, new Set<object>());
}

/** Depth bound so a pathological object graph cannot stall the logger. */
const MAX_DEPTH = 12;

function convert(value: unknown, ancestors: Set<object>, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    // Functions and symbols have no JSON form; name them rather than silently dropping.
    if (typeof value === 'function') return `[Function ${value.name || 'anonymous'}]`;
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'string') return redactText(value);
    return value;
  }
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (value instanceof Date) return value.toISOString();

  ancestors.add(value);
  try {
    if (value instanceof Error) return convertError(value, ancestors, depth);
    if (Array.isArray(value)) return value.map((item) => convert(item, ancestors, depth + 1));
    if (value instanceof Map) return convert(Object.fromEntries(value), ancestors, depth);
    if (value instanceof Set) return convert([...value], ancestors, depth);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = isSecretKey(key) ? REDACTED : convert(item, ancestors, depth + 1);
    return out;
  } finally {
    ancestors.delete(value);
  }
}

function convertError(error: Error, ancestors: Set<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: error.name,
    message: redactText(error.message),
    stack: error.stack === undefined ? undefined : redactText(error.stack),
  };
  // Own enumerable fields carry context such as `code` or `errno` (Node system errors).
  for (const [key, item] of Object.entries(error)) {
    if (!(key in out)) out[key] = isSecretKey(key) ? REDACTED : convert(item, ancestors, depth + 1);
  }
  if (error.cause !== undefined) out.cause = convert(error.cause, ancestors, depth + 1);
  if (error instanceof AggregateError) out.errors = convert(error.errors, ancestors, depth + 1);
  return out;
}
