import { KV } from '@nats-io/kv';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { z } from 'zod';
import { PayloadTooLargeError, RetryableError } from './errors';

/** The outcome of a compare-and-set update. */
export interface CasResult<T> {
  /** The value now stored (the new one, or the unchanged current one). */
  readonly value: T | undefined;
  /** Whether this call wrote it. */
  readonly changed: boolean;
}

export interface CasOptions {
  /** Lost races before giving up with a RetryableError (default 20). */
  readonly maxRaces?: number;
  /**
   * Largest value written, bytes (usually the bus's `limits.recordBudgetBytes` or
   * `maxPayloadBytes`): a larger one throws PayloadTooLargeError before anything is sent,
   * since the server would refuse it on every retry.
   */
  readonly maxBytes?: number;
}

/**
 * Reads a JSON entry, lets `decide` compute the next value from it, and writes it
 * only if nobody wrote in between (compare-and-set on the revision); on a lost race it
 * re-reads and decides again. `decide` returns undefined to leave the entry unchanged,
 * so it must be a pure function of the current value — it may run several times.
 */
export async function compareAndSet<T>(
  kv: KV,
  key: string,
  schema: z.ZodType<T>,
  decide: (current: T | undefined) => T | undefined,
  options: CasOptions = {},
): Promise<CasResult<T>> {
  const maxRaces = options.maxRaces ?? 20;
  for (let race = 0; race < maxRaces; race++) {
    const entry = await kv.get(key);
    const exists = entry !== null && entry.operation === 'PUT';
    const current = exists ? schema.parse(entry.json()) : undefined;
    const next = decide(current);
    if (next === undefined) return { value: current, changed: false };
    try {
      const data = JSON.stringify(next);
      if (options.maxBytes !== undefined) {
        const bytes = Buffer.byteLength(data);
        if (bytes > options.maxBytes) throw new PayloadTooLargeError(`KV ${entry?.bucket ?? 'bucket'}/${key}`, bytes, options.maxBytes);
      }
      if (exists) await kv.update(key, data, entry.revision);
      else await kv.create(key, data);
      return { value: next, changed: true };
    } catch (error) {
      if (!isRevisionConflict(error)) throw error;
      // Back off a little, with jitter, so writers of a hot key stop colliding in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** race)));
    }
  }
  throw new RetryableError(`gave up on KV key "${key}" after ${maxRaces} lost compare-and-set races`);
}

/** Reads and validates a JSON entry; undefined when absent or deleted. */
export async function readJson<T>(kv: KV, key: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const entry = await kv.get(key);
  return entry && entry.operation === 'PUT' ? schema.parse(entry.json()) : undefined;
}

/**
 * readJson for keys read far more often than written (the metagraph: rewritten about once a
 * block, read by every task): a value parsed and validated at a revision is reused while the
 * key stays at that revision — a revision's value never changes. Still one read per call, so
 * a new value is seen at once; only the parsing is saved. Frozen, as it is shared.
 */
export class ParsedJsonCache<T> {
  private readonly parsed = new Map<string, { revision: number; value: T }>();

  constructor(
    private readonly kv: KV,
    private readonly schema: z.ZodType<T>,
    /** Keys remembered at most; the cache starts over beyond. */
    private readonly maxKeys = 1_024,
  ) {}

  async read(key: string): Promise<T | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const cached = this.parsed.get(key);
    if (cached?.revision === entry.revision) return cached.value;
    const value = deepFreeze(this.schema.parse(entry.json()));
    if (this.parsed.size >= this.maxKeys) this.parsed.clear();
    this.parsed.set(key, { revision: entry.revision, value });
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function isRevisionConflict(error: unknown): boolean {
  if (error instanceof JetStreamApiError) {
    return error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown;
  }
  // kv.create() on an existing key reports "wrong last sequence" in its message.
  return error instanceof Error && /wrong last sequence|key exists/i.test(error.message);
}
