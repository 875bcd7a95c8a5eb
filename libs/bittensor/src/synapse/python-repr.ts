import { OrchestraError } from '@orchestra/contracts';
/**
 * Python's `str()`/`repr()` of JSON-like values, ported exactly: the Bittensor body hash is
 * sha3-256 over `str(model_dump()[field])`, so one differing quote or space breaks every signature.
 * References: CPython Objects/unicodeobject.c `unicode_repr`, Objects/floatobject.c `float_repr`
 * (repr style 'r', shortest round-trip digits), Objects/dictobject.c / listobject.c reprs.
 */

/**
 * A number Python holds as `float`. JS cannot tell `12` from `12.0`, but Python prints `12.0`
 * for a float field; wrap such values so they hash as Python would. Serialises to a plain number.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  /** JSON keeps the plain number; pydantic coerces it back to float. */
  toJSON(): number {
    return this.value;
  }
}

/** Values pythonRepr understands: what `model_dump()` yields for JSON-shaped pydantic models. */
export type PyValue = null | undefined | boolean | number | bigint | string | PyFloat | PyValue[] | { [key: string]: PyValue };

/** Thrown for values Python's model_dump could not have produced (functions, symbols, Dates…). */
export class PythonReprError extends OrchestraError {
  override readonly name = 'PythonReprError';
  readonly retryable = false;
}

// Code points CPython's repr escapes: not "printable" (categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs except ' ').
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** `repr(value)` as CPython 3 prints it. `undefined` is treated as `None`. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value instanceof PyFloat) return floatRepr(value.value);
  switch (typeof value) {
    case 'string':
      return stringRepr(value);
    case 'bigint':
      return value.toString();
    case 'number':
      // A JS integer is a Python int (pydantic int fields); anything fractional is a float.
      return Number.isInteger(value) ? BigInt(value).toString() : floatRepr(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
      if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
        const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${stringRepr(k)}: ${pythonRepr(v)}`);
        return `{${entries.join(', ')}}`;
      }
  }
  throw new PythonReprError(`no Python repr for ${Object.prototype.toString.call(value)}`);
}

/** `str(value)`: the same as repr except that a str prints raw (used for header values). */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

/** CPython float repr: shortest round-trip digits; fixed notation when -4 <= exponent < 16. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument yields the shortest digits that round-trip, like Python's repr.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${frac}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1) || '0';
  return `${sign}${intPart}.${fracPart}`;
}

/** CPython str repr: single quotes unless the text has ' and no ", then double quotes. */
export function stringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (!NON_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
