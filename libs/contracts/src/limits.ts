import { OrchestraError, listingProblems } from './errors';
/**
 * Size budgets: every limit on what Orchestra stores, sends or parses, in one place.
 *
 * Whatever is stored or sent rides on NATS, whose server refuses any message larger than
 * its `max_payload` (1 MiB by default). A write that fails that way fails on every retry,
 * so each kind of message gets a budget derived from `max_payload`, checked before it is
 * written, and client input that could grow a record past its budget is refused at the
 * door. Untrusted text (miner and provider answers, status messages, error details) is cut
 * to a fixed length where it enters, and untrusted JSON is depth-checked before anything
 * walks it recursively.
 *
 * Every limit is a named setting with a safe default (README, "Limits").
 */

/** NATS's default `max_payload`, bytes; services read the real one from the server they connect to. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface SizeLimits {
  /** The server's `max_payload`, bytes: no message or KV value may be larger. */
  readonly maxPayloadBytes: number;
  /** Largest HTTP request body the API reads, bytes (`ORCH_MAX_BODY_BYTES`). */
  readonly maxBodyBytes: number;
  /**
   * Largest JSON a job record may be, bytes: the part of `max_payload` left after the
   * envelope and header overhead (`ORCH_RECORD_BUDGET_BYTES`, at most the derived value).
   */
  readonly recordBudgetBytes: number;
  /**
   * Largest step output or job result kept inline in the record, bytes; larger ones are
   * stored by reference in the object store (`ORCH_INLINE_OUTPUT_BYTES`).
   */
  readonly inlineOutputBytes: number;
  /** Largest value stored by reference in the object store, bytes (`ORCH_MAX_OBJECT_BYTES`). */
  readonly maxObjectBytes: number;
  /** Longest untrusted text kept anywhere (reasons, status messages, quoted answers), characters (`ORCH_TEXT_LIMIT_CHARS`). */
  readonly textLimitChars: number;
  /** Deepest nesting accepted in untrusted JSON (`ORCH_JSON_MAX_DEPTH`). */
  readonly maxJsonDepth: number;
  /** Longest excerpt of a poison message kept in its dead letter, characters (`ORCH_DEAD_LETTER_EXCERPT_CHARS`). */
  readonly deadLetterExcerptChars: number;
}

/** Room kept for the envelope, headers and protocol framing around a budgeted value, bytes. */
export const PAYLOAD_HEADROOM_BYTES = 16 * 1024;

export const DEFAULT_LIMITS: SizeLimits = {
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  maxBodyBytes: 256 * 1024,
  recordBudgetBytes: DEFAULT_MAX_PAYLOAD_BYTES - PAYLOAD_HEADROOM_BYTES,
  inlineOutputBytes: 64 * 1024,
  maxObjectBytes: 16 * 1024 * 1024,
  textLimitChars: 2_000,
  maxJsonDepth: 64,
  deadLetterExcerptChars: 2_048,
};

/** A limit setting that is not a positive integer, or that breaks the relations between the limits. */
export class LimitsConfigError extends OrchestraError {
  override readonly name = 'LimitsConfigError';
  readonly retryable = false;
}

const SETTINGS: ReadonlyArray<readonly [keyof SizeLimits, string]> = [
  ['maxBodyBytes', 'ORCH_MAX_BODY_BYTES'],
  ['recordBudgetBytes', 'ORCH_RECORD_BUDGET_BYTES'],
  ['inlineOutputBytes', 'ORCH_INLINE_OUTPUT_BYTES'],
  ['maxObjectBytes', 'ORCH_MAX_OBJECT_BYTES'],
  ['textLimitChars', 'ORCH_TEXT_LIMIT_CHARS'],
  ['maxJsonDepth', 'ORCH_JSON_MAX_DEPTH'],
  ['deadLetterExcerptChars', 'ORCH_DEAD_LETTER_EXCERPT_CHARS'],
];

/** Limit settings an operator set; the rest keep their defaults. */
export type LimitOverrides = Partial<Omit<SizeLimits, 'maxPayloadBytes'>>;

/**
 * The limits an operator set (README "Limits"), each checked on its own: a positive
 * integer. Read once at start by each service's config module; {@link fitLimits} fits
 * them to the server's `max_payload` once connected. Throws LimitsConfigError naming
 * every bad setting.
 */
export function limitOverrides(env: Readonly<Record<string, string | undefined>>): LimitOverrides {
  const errors: string[] = [];
  const overrides = readOverrides(env, errors);
  if (errors.length > 0) throw listingProblems(new LimitsConfigError(`invalid size limits: ${errors.join('; ')}`), errors);
  return overrides;
}

/** The well-formed limit settings of `env`; a malformed one is added to `errors` and left out. */
function readOverrides(env: Readonly<Record<string, string | undefined>>, errors: string[]): LimitOverrides {
  const overrides: { -readonly [K in keyof LimitOverrides]: number } = {};
  for (const [key, name] of SETTINGS) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) errors.push(`${name} must be a positive integer; got ${JSON.stringify(raw)}`);
    else overrides[key as keyof LimitOverrides] = value;
  }
  return overrides;
}

/**
 * The limits in force: defaults, overridden by `overrides`, fitted to the server's
 * `max_payload`. Throws LimitsConfigError listing every bad combination: a record budget
 * above what the server accepts, or a body limit that lets a client grow a record past
 * its budget, would turn into writes that fail forever.
 */
export function fitLimits(overrides: LimitOverrides = {}, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES, errors: string[] = []): SizeLimits {
  // `errors` may already hold the bad values of sizeLimits' env, so one error lists both.
  const derivedBudget = maxPayloadBytes - PAYLOAD_HEADROOM_BYTES;
  const limits: SizeLimits = { ...DEFAULT_LIMITS, maxPayloadBytes, recordBudgetBytes: derivedBudget, ...overrides };
  if (limits.recordBudgetBytes > derivedBudget) {
    errors.push(
      `ORCH_RECORD_BUDGET_BYTES=${limits.recordBudgetBytes} exceeds what the NATS server accepts (max_payload ${maxPayloadBytes} less ${PAYLOAD_HEADROOM_BYTES} bytes of headroom = ${derivedBudget})`,
    );
  }
  // A record holds the client's inputs plus each step's input and output: the body must leave room for them.
  if (limits.maxBodyBytes * 2 > limits.recordBudgetBytes) {
    errors.push(`ORCH_MAX_BODY_BYTES=${limits.maxBodyBytes} is more than half the job record budget (${limits.recordBudgetBytes} bytes); a job could not record its own plan`);
  }
  if (limits.inlineOutputBytes * 4 > limits.recordBudgetBytes) {
    errors.push(`ORCH_INLINE_OUTPUT_BYTES=${limits.inlineOutputBytes} is more than a quarter of the job record budget (${limits.recordBudgetBytes} bytes)`);
  }
  if (errors.length > 0) throw listingProblems(new LimitsConfigError(`invalid size limits: ${errors.join('; ')}`), errors);
  return limits;
}

/**
 * {@link limitOverrides} of `env` fitted to `maxPayloadBytes` ({@link fitLimits}), every
 * bad value and bad combination listed in one LimitsConfigError (a bad value leaves its
 * default in place, so the combinations are still checked against something sensible).
 */
export function sizeLimits(env: Readonly<Record<string, string | undefined>> = {}, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): SizeLimits {
  const errors: string[] = [];
  return fitLimits(readOverrides(env, errors), maxPayloadBytes, errors);
}

// Buffer.byteLength counts without encoding: TextEncoder.encode allocates a copy per call,
// ten times slower when a value's many small parts are measured one by one.

/** Bytes of a value's JSON text (UTF-8). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Bytes of a string as UTF-8. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The most bytes of a miner's answer Orchestra reads: what is left of a task result's budget
 * (one NATS message) after the largest task input it carries beside the answer (a task input
 * comes from the client's body or a step output, neither larger than `maxBodyBytes`).
 * The dispatcher cuts a response off here and still checks the finished result against
 * `recordBudgetBytes` before publishing it (JSON escaping can grow an answer).
 */
export function minerResponseBudgetBytes(limits: SizeLimits): number {
  return limits.recordBudgetBytes - limits.maxBodyBytes;
}
