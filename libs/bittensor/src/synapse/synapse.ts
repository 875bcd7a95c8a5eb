import { createHash } from 'node:crypto';
import { floatRepr, PyFloat, pythonStr } from './python-repr';
import { OrchestraError } from '@orchestra/contracts';

/**
 * The Synapse wire model of the Bittensor SDK (bittensor/core/synapse.py), for a TS client and server.
 * A synapse travels as HTTP headers (routing, identities, signature) plus a JSON body (every field).
 */

/** One subclass field of a synapse. */
export interface SynapseField {
  /** Value when the sender omits it; also what an empty instance holds. */
  readonly default: unknown;
  /**
   * The Python field has no default (pydantic "required"): the sender adds a
   * `bt_header_input_obj_<field>` header so the axon can build the synapse from headers alone.
   */
  readonly required?: boolean;
  /**
   * Python holds the value's numbers as `float` (`float`, `list[float]`, `dict[str, float]`…):
   * `12` must hash and print as `12.0`, at any depth.
   */
  readonly float?: boolean;
}

/** What a subclass of `bt.Synapse` declares: its class name (the route), fields and hash fields. */
export interface SynapseDefinition {
  /** Python class name; the axon route is `POST /<name>`. */
  readonly name: string;
  /** Subclass fields in declaration order (the base fields are implied). */
  readonly fields: Readonly<Record<string, SynapseField>>;
  /** The class variable `required_hash_fields`: the fields the body hash covers, in order. */
  readonly requiredHashFields: readonly string[];
  /**
   * A `bt.StreamingSynapse`: a successful answer is a stream of concatenated JSON events
   * (`text/event-stream`, the synapse's headers carry the status), not the synapse's JSON.
   */
  readonly streaming?: boolean;
}

/** `bt.TerminalInfo`: one end of a call as it appears in `bt_header_axon_*` / `bt_header_dendrite_*`. */
export interface TerminalInfo {
  status_code?: number;
  status_message?: string;
  /** Seconds (float). */
  process_time?: number;
  ip?: string;
  port?: number;
  version?: number;
  /** Nanoseconds since the epoch; exceeds 2^53, hence bigint. */
  nonce?: bigint;
  uuid?: string;
  hotkey?: string;
  signature?: string;
}

/** TerminalInfo fields in pydantic declaration order (the order `to_headers` emits them). */
export const TERMINAL_FIELDS = ['status_code', 'status_message', 'process_time', 'ip', 'port', 'version', 'nonce', 'uuid', 'hotkey', 'signature'] as const;
const INT_TERMINAL_FIELDS = new Set(['status_code', 'port', 'version']);

/** The SDK's default per-call timeout, seconds (Synapse.timeout). */
export const DEFAULT_SYNAPSE_TIMEOUT_S = 12;

/**
 * Checks a definition (hash fields must be declared fields) and returns it frozen.
 * Throws a plain Error: a bad definition is a programming error.
 */
export function defineSynapse(definition: SynapseDefinition): SynapseDefinition {
  for (const f of definition.requiredHashFields) {
    if (!(f in definition.fields)) throw new Error(`synapse ${definition.name}: hash field "${f}" is not a declared field`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(definition.name)) throw new Error(`synapse name "${definition.name}" is not a Python class name`);
  return Object.freeze({ ...definition, fields: Object.freeze({ ...definition.fields }) });
}

/** Lowercase hex sha3-256 of the UTF-8 text: the SDK's `bittensor.utils.get_hash`. */
export function sha3Hex(text: string): string {
  return createHash('sha3-256').update(text, 'utf8').digest('hex');
}

/**
 * `Synapse.body_hash`: sha3_256 over the concatenated sha3_256 hex of `str(model_dump()[f])`
 * for each required hash field. With no hash fields this is sha3_256("").
 * Float fields must be passed as PyFloat (see `synapseBodyHash`, which does that from a definition).
 */
export function bodyHash(synapse: Readonly<Record<string, unknown>>, requiredHashFields: readonly string[]): string {
  return sha3Hex(requiredHashFields.map((f) => sha3Hex(pythonStr(synapse[f]))).join(''));
}

/** The body hash of subclass field values under a definition (defaults filled, float fields as Python floats). */
export function synapseBodyHash(definition: SynapseDefinition, values: Readonly<Record<string, unknown>>): string {
  return bodyHash(pythonFieldValues(definition, values), definition.requiredHashFields);
}

/** Subclass field values with defaults filled in and the numbers of float fields wrapped as PyFloat. */
export function pythonFieldValues(definition: SynapseDefinition, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(definition.fields)) {
    const v = values[name] === undefined ? field.default : values[name];
    out[name] = field.float ? asPythonFloats(v) : v;
  }
  return out;
}

/** Every number in a float field, at any depth, as a PyFloat (`[1, 0.5]` prints `[1.0, 0.5]`). */
function asPythonFloats(value: unknown): unknown {
  if (typeof value === 'number') return new PyFloat(value);
  if (Array.isArray(value)) return value.map(asPythonFloats);
  if (value !== null && typeof value === 'object' && !(value instanceof PyFloat)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asPythonFloats(v)]));
  }
  return value;
}

/** A full synapse as it travels: base fields, terminals and subclass field values. */
export interface SynapseEnvelope {
  readonly definition: SynapseDefinition;
  /** Seconds. */
  readonly timeout: number;
  readonly dendrite: TerminalInfo;
  readonly axon: TerminalInfo;
  /** Header value of `computed_body_hash` (the body always carries ""). */
  readonly computedBodyHash: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** `Synapse.to_headers()`: all values are Python `str()` of the field. */
export function toHeaders(env: SynapseEnvelope): Record<string, string> {
  const headers: Record<string, string> = { name: env.definition.name, timeout: floatRepr(env.timeout) };
  addTerminalHeaders(headers, 'axon', env.axon);
  addTerminalHeaders(headers, 'dendrite', env.dendrite);
  for (const [name, field] of Object.entries(env.definition.fields)) {
    const value = env.values[name] ?? field.default;
    if (!field.required || value === null || value === undefined) continue;
    // The SDK sends JSON of an EMPTY instance of the value's type, so the axon's pydantic validation passes.
    headers[`bt_header_input_obj_${name}`] = Buffer.from(JSON.stringify(emptyOfType(value)), 'utf8').toString('base64');
  }
  // header_size/total_size are Python sys.getsizeof figures, informational only: sent as the defaults.
  headers.header_size = '0';
  headers.total_size = '0';
  headers.computed_body_hash = env.computedBodyHash;
  return headers;
}

function addTerminalHeaders(headers: Record<string, string>, side: 'axon' | 'dendrite', info: TerminalInfo): void {
  for (const key of TERMINAL_FIELDS) {
    const v = info[key];
    if (v === undefined || v === null) continue;
    headers[`bt_header_${side}_${key}`] = key === 'process_time' ? floatRepr(v as number) : pythonStr(v);
  }
}

function emptyOfType(value: unknown): unknown {
  if (Array.isArray(value)) return [];
  switch (typeof value) {
    case 'string':
      return '';
    case 'number':
    case 'bigint':
      return 0;
    case 'boolean':
      return false;
    default:
      return {};
  }
}

/** `Synapse.model_dump()` as JSON: base fields, terminals, `computed_body_hash: ""` and subclass fields. */
export function toBody(env: SynapseEnvelope): string {
  return stringifyJson({
    name: env.definition.name,
    timeout: env.timeout,
    total_size: 0,
    header_size: 0,
    dendrite: terminalDump(env.dendrite),
    axon: terminalDump(env.axon),
    computed_body_hash: '',
    ...pythonFieldValues(env.definition, env.values),
  });
}

function terminalDump(info: TerminalInfo): Record<string, unknown> {
  return Object.fromEntries(TERMINAL_FIELDS.map((k) => [k, info[k] ?? null]));
}

/** JSON.stringify that writes bigint as a JSON integer (nonces exceed 2^53) and PyFloat as its number. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `\u0000bigint:${v}` : v)).replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/** Headers that could not be read as a synapse (the SDK's SynapseParsingError, HTTP 400). */
export class SynapseHeaderError extends OrchestraError {
  override readonly name = 'SynapseHeaderError';
  readonly retryable = false;
}

/** What `Synapse.from_headers` recovers: base fields and both terminals. */
export interface ParsedSynapseHeaders {
  name?: string;
  timeout?: number;
  computedBodyHash: string;
  axon: TerminalInfo;
  dendrite: TerminalInfo;
}

/** `Synapse.from_headers` for the base fields: typed and strict (pydantic would refuse the same inputs). */
export function parseSynapseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): ParsedSynapseHeaders {
  const get = (k: string): string | undefined => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const timeoutText = get('timeout');
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
  if (timeout !== undefined && !Number.isFinite(timeout)) throw new SynapseHeaderError(`timeout header "${timeoutText}" is not a number`);
  return {
    name: get('name'),
    timeout,
    computedBodyHash: get('computed_body_hash') ?? '',
    axon: parseTerminal(get, 'axon'),
    dendrite: parseTerminal(get, 'dendrite'),
  };
}

function parseTerminal(get: (k: string) => string | undefined, side: 'axon' | 'dendrite'): TerminalInfo {
  const info: Record<string, unknown> = {};
  for (const key of TERMINAL_FIELDS) {
    const text = get(`bt_header_${side}_${key}`);
    if (text === undefined || text === 'None') continue;
    if (INT_TERMINAL_FIELDS.has(key) || key === 'nonce') {
      if (!/^-?\d+$/.test(text)) throw new SynapseHeaderError(`bt_header_${side}_${key} "${text}" is not an integer`);
      info[key] = key === 'nonce' ? BigInt(text) : Number(text);
    } else if (key === 'process_time') {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new SynapseHeaderError(`bt_header_${side}_process_time "${text}" is not a number`);
      info[key] = n;
    } else info[key] = text;
  }
  return info as TerminalInfo;
}

/** `major*1e6 + minor*1e3 + patch` (bittensor/core/settings.py `version_as_int`). */
export function versionAsInt(version: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`version "${version}" is not semver`);
  return Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3]);
}

/** The SDK version Orchestra presents itself as (>= 7.2.0, so axons apply the nonce-window rule). */
export const BITTENSOR_VERSION = '9.12.0';
/** `version_as_int` of BITTENSOR_VERSION. */
export const BITTENSOR_VERSION_INT = versionAsInt(BITTENSOR_VERSION);
/** bittensor/core/settings.py: nonces of versions at or above this are checked against a time window. */
export const V_7_2_0 = 7_002_000;
