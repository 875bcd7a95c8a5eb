import { Reputation, ReputationSchema, reputationKey } from '@orchestra/contracts';
import { KV } from '@nats-io/kv';

/**
 * The dispatcher's reads of KV `orch_reputation`: the entries of a subnet's candidates for
 * a capability, cached for `cacheMs`, since ranking happens on every hire and a few
 * seconds of staleness change little. (Writes go through a ReputationLedger.)
 */
export class ReputationBook {
  private readonly cache = new Map<string, { readAt: number; entries: Promise<Map<number, Reputation>> }>();
  private readonly keyCache = new Map<string, { readAt: number; entries: Promise<Map<string, Reputation>> }>();

  constructor(
    private readonly kv: KV,
    private readonly cacheMs: number,
  ) {}

  /**
   * The entries of these UIDs (the subnet's candidates) for a capability, by UID. Read key
   * by key rather than by listing the bucket: a listing is a consumer over the whole
   * bucket, slower than a few gets, and one that stalls would stall every hire sharing
   * the cached read.
   */
  forCandidates(netuid: number, capability: string, uids: readonly number[]): Promise<Map<number, Reputation>> {
    const cacheKey = `${netuid}/${capability}/${uids.join(',')}`;
    const cached = this.cache.get(cacheKey);
    if (cached && Date.now() - cached.readAt < this.cacheMs) return cached.entries;
    const entries = this.read(netuid, capability, uids);
    this.cache.set(cacheKey, { readAt: Date.now(), entries });
    entries.catch(() => this.cache.delete(cacheKey));
    return entries;
  }

  /** The entries under these keys (a gateway's sources for a capability), by key; cached likewise. */
  forKeys(keys: readonly string[]): Promise<Map<string, Reputation>> {
    const cacheKey = `keys/${keys.join(',')}`;
    const cached = this.keyCache.get(cacheKey);
    if (cached && Date.now() - cached.readAt < this.cacheMs) return cached.entries;
    const entries = Promise.all(
      keys.map(async (key) => {
        const entry = await this.kv.get(key);
        const parsed = entry?.operation === 'PUT' ? ReputationSchema.safeParse(entry.json()) : undefined;
        return parsed?.success ? ([[key, parsed.data]] as const) : [];
      }),
    ).then((found) => new Map<string, Reputation>(found.flat()));
    this.keyCache.set(cacheKey, { readAt: Date.now(), entries });
    entries.catch(() => this.keyCache.delete(cacheKey));
    return entries;
  }

  private async read(netuid: number, capability: string, uids: readonly number[]): Promise<Map<number, Reputation>> {
    const entries = await Promise.all(
      uids.map(async (uid) => {
        const entry = await this.kv.get(reputationKey(netuid, uid, capability));
        const parsed = entry?.operation === 'PUT' ? ReputationSchema.safeParse(entry.json()) : undefined;
        return parsed?.success ? ([[uid, parsed.data]] as const) : [];
      }),
    );
    return new Map(entries.flat());
  }
}
