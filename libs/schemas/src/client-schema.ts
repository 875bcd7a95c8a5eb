import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { jsonBytes, valueDepthExceeds } from '@orchestra/contracts';

/**
 * JSON Schemas that clients send (a job's `outputSchema`): a stranger's schema, so bounded in
 * size and depth before ajv sees it, compiled without fetching anything (a `$ref` ajv cannot
 * resolve locally is an error, never a request), and its verdicts bounded in number.
 * Draft 2020-12 (what `GET /v1/schemas` serves); formats by ajv-formats.
 */

/** Largest client schema, bytes of JSON. */
export const MAX_CLIENT_SCHEMA_BYTES = 32_768;
/** Deepest client schema. */
export const MAX_CLIENT_SCHEMA_DEPTH = 32;
/** Longest regular expression (`pattern`, `patternProperties`) a client schema may hold. */
export const MAX_CLIENT_PATTERN_CHARS = 200;

/**
 * A regular expression that can backtrack exponentially (JavaScript's engine backtracks): a
 * quantified group that itself holds a quantifier (`(a+)+`, `(\w*x?)*`, `(a|aa){2,}`) or a
 * backreference. Judged on the pattern's text, conservatively: a safe pattern may be refused,
 * never a dangerous one admitted of these shapes.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*?]|\{\d+,?\d*\}|\|)(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;
const BACKREFERENCE = /\\[1-9]|\\k</;

/** Errors reported per validation. */
const MAX_ERRORS = 10;

export type ClientSchemaCheck = { readonly ok: true; readonly validate: ValidateFunction } | { readonly ok: false; readonly errors: string[] };

/** Compiles a client's JSON Schema, or says what is wrong with it (too large, too deep, not a valid schema). */
export function compileClientSchema(schema: unknown): ClientSchemaCheck {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { ok: false, errors: ['a JSON Schema is an object'] };
  const bytes = jsonBytes(schema);
  if (bytes > MAX_CLIENT_SCHEMA_BYTES) return { ok: false, errors: [`the schema is ${bytes} bytes, over the limit of ${MAX_CLIENT_SCHEMA_BYTES}`] };
  if (valueDepthExceeds(schema, MAX_CLIENT_SCHEMA_DEPTH)) return { ok: false, errors: [`the schema nests deeper than ${MAX_CLIENT_SCHEMA_DEPTH} levels`] };
  const risky = riskyPatterns(schema);
  if (risky.length > 0) return { ok: false, errors: risky };
  // A fresh instance per schema: a client's `$id` must not collide with another's in a shared cache.
  const ajv = new Ajv2020({ allErrors: false, strict: false, validateSchema: true, loadSchema: undefined });
  addFormats(ajv);
  try {
    return { ok: true, validate: ajv.compile(schema) };
  } catch (error) {
    return { ok: false, errors: [`not a valid JSON Schema (draft 2020-12): ${String(error instanceof Error ? error.message : error).slice(0, 500)}`] };
  }
}

/** Whether `value` conforms to a client's schema, with the first few reasons when it does not. */
export function conformsToClientSchema(schema: unknown, value: unknown): { readonly ok: true } | { readonly ok: false; readonly errors: string[] } {
  const compiled = compileClientSchema(schema);
  if (!compiled.ok) return compiled;
  if (compiled.validate(value)) return { ok: true };
  return { ok: false, errors: (compiled.validate.errors ?? []).slice(0, MAX_ERRORS).map(describe) };
}

function describe(error: ErrorObject): string {
  return `${error.instancePath || '(root)'}: ${error.message ?? error.keyword}`;
}

/**
 * The regular expressions of a client's schema that could make validation run for ever (the
 * planner validates a job's output against it, so one such pattern would stall it): too long,
 * nested quantifiers, backreferences. Iterative over the (depth-checked) schema.
 */
function riskyPatterns(schema: object): string[] {
  const problems: string[] = [];
  const check = (where: string, pattern: string) => {
    if (pattern.length > MAX_CLIENT_PATTERN_CHARS) problems.push(`${where}: patterns are at most ${MAX_CLIENT_PATTERN_CHARS} characters`);
    else if (NESTED_QUANTIFIER.test(pattern) || BACKREFERENCE.test(pattern)) {
      problems.push(
        `${where}: ${JSON.stringify(pattern)} can backtrack exponentially (a repeated group that repeats inside, or a backreference); rewrite it without nested repetition`,
      );
    }
  };
  const stack: Array<[unknown, string]> = [[schema, '']];
  while (stack.length > 0 && problems.length < 10) {
    const [node, at] = stack.pop() as [unknown, string];
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node)) {
      const where = `${at}/${key}`;
      if (!Array.isArray(node) && key === 'pattern' && typeof child === 'string') check(where, child);
      if (!Array.isArray(node) && key === 'patternProperties' && child && typeof child === 'object') for (const p of Object.keys(child)) check(`${where}/${p}`, p);
      if (child !== null && typeof child === 'object') stack.push([child, where]);
    }
  }
  return problems;
}
