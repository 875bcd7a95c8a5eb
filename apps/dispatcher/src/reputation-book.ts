import { Reputation, ReputationObservation, ReputationSchema, observeReputation, reputationFilter, reputationKey, uidOfReputationKey } from '@orchestra/contracts';
import { compareAndSet } from '@orchestra/bus';
import { KV } from '@nats-io/kv';

/**
 * The dispatcher's view of KV `orch_reputation`: reads one subnet's entries for a
 * capability (cached for `cacheMs`, since ranking happens on every hire and a few
 * seconds of staleness change little) and records observations by compare-and-set.
 */
export class ReputationBook {
  private readonly cache = new Map<string, { readAt: number; entries: Promise<Map<number, Reputation>> }>();

  constructor(
    private readonly kv: KV,
    private readonly halfLifeMs: number,
    private readonly cacheMs: number,
  ) {}

  /** Every UID's entry for this subnet and capability, by UID. */
  forCapability(netuid: number, capability: string): Promise<Map<number, Reputation>> {
    const filter = reputationFilter(netuid, capability);
    const cached = this.cache.get(filter);
    if (cached && Date.now() - cached.readAt < this.cacheMs) return cached.entries;
    const entries = this.read(filter);
    this.cache.set(filter, { readAt: Date.now(), entries });
    entries.catch(() => this.cache.delete(filter));
    return entries;
  }

  /** Adds one observation to a UID's entry. */
  async observe(netuid: number, uid: number, capability: string, obs: ReputationObservation): Promise<void> {
    await compareAndSet(this.kv, reputationKey(netuid, uid, capability), ReputationSchema, (current) =>
      observeReputation(current, obs, new Date(), this.halfLifeMs),
    );
  }

  private async read(filter: string): Promise<Map<number, Reputation>> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(filter)) keys.push(key);
    const entries = await Promise.all(
      keys.map(async (key) => {
        const entry = await this.kv.get(key);
        const parsed = entry?.operation === 'PUT' ? ReputationSchema.safeParse(entry.json()) : undefined;
        const uid = uidOfReputationKey(key);
        return parsed?.success && uid !== undefined ? ([[uid, parsed.data]] as const) : [];
      }),
    );
    return new Map(entries.flat());
  }
}
