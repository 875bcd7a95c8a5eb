import { Buckets, DEFAULT_REPUTATION_HALF_LIFE_MS, ReputationObservation, ReputationSchema, observeReputation, reputationHalfLifeMs, reputationKey } from '@orchestra/contracts';
import { KV } from '@nats-io/kv';
import { Bus } from './bus';
import { compareAndSet } from './kv';

/** How reputation evidence decays; every writer of reputation must use the same. */
export interface ReputationSettings {
  /** `ORCH_REPUTATION_HALF_LIFE_MS`. */
  readonly halfLifeMs: number;
}

/** The reputation section of a service's config: `ORCH_REPUTATION_HALF_LIFE_MS`. */
export function reputationSettings(env: Readonly<Record<string, string | undefined>>): ReputationSettings {
  return { halfLifeMs: reputationHalfLifeMs(env.ORCH_REPUTATION_HALF_LIFE_MS) };
}

/** Nest token of the {@link ReputationSettings} in force; `runBusWorker` provides it. */
export const REPUTATION_SETTINGS = Symbol('ReputationSettings');

/** The settings when none are given (tests): one hour. */
export const DEFAULT_REPUTATION_SETTINGS: ReputationSettings = { halfLifeMs: DEFAULT_REPUTATION_HALF_LIFE_MS };

/**
 * Writes reputation evidence to KV `orch_reputation` in batches. Every hire produces
 * evidence about one popular UID from several services at once; a compare-and-set per
 * observation makes them fight over the same keys (each lost race is another round
 * trip) and slows the handlers that wait on it. The ledger queues observations with
 * their time and, every `flushMs`, applies each key's queue in one compare-and-set.
 * Reputation is advisory: a failed flush is reported and its observations dropped;
 * a crash loses at most one interval of evidence.
 */
export class ReputationLedger {
  private queued = new Map<string, Array<{ obs: ReputationObservation; at: Date }>>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly kv: KV,
    private readonly halfLifeMs: number,
    private readonly onError: (key: string, error: unknown) => void,
    flushMs = 250,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** A ledger on the bus's reputation bucket, decaying evidence with `halfLifeMs` ({@link reputationSettings}). */
  static async open(bus: Bus, halfLifeMs: number, onError: (key: string, error: unknown) => void): Promise<ReputationLedger> {
    return new ReputationLedger(await bus.kv(Buckets.reputation), halfLifeMs, onError);
  }

  /** Queues one observation about a UID's work on a capability. */
  record(netuid: number, uid: number, capability: string, obs: ReputationObservation, at = new Date()): void {
    this.recordKey(reputationKey(netuid, uid, capability), obs, at);
  }

  /** Queues one observation under a reputation key (reputationKey, sourceReputationKey, reputationKeyOfSource). */
  recordKey(key: string, obs: ReputationObservation, at = new Date()): void {
    const queue = this.queued.get(key);
    if (queue) queue.push({ obs, at });
    else this.queued.set(key, [{ obs, at }]);
  }

  /** Writes everything queued so far (one compare-and-set per key); resolves when written. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.queued;
      this.queued = new Map();
      await Promise.all(
        [...batch].map(async ([key, observations]) => {
          try {
            await compareAndSet(this.kv, key, ReputationSchema, (current) => observations.reduce((rep, { obs, at }) => observeReputation(rep, obs, at, this.halfLifeMs), current));
          } catch (error) {
            this.onError(key, error);
          }
        }),
      );
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left (call on shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
