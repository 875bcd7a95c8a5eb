/**
 * Per-miner request budgets: a subnet's miners blacklist a validator hotkey that sends more
 * than N requests of a kind per period (SN13: GetMinerIndex 1, GetContentsByBuckets 5 an hour),
 * so Orchestra counts its own calls and does not send the one that would get it refused. A
 * sliding window: at most `limit` calls in any `periodMs`, which keeps within a miner's count
 * however its fixed periods fall. Counts live in this process only; replicas (and restarts)
 * each count their own, which the subnets' own 2× allowance for restarts absorbs.
 */
export class RequestBudget {
  private readonly calls = new Map<string, number[]>();

  constructor(
    private readonly limits: Readonly<Record<string, number>>,
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
    /** Keys kept at most; idle ones are dropped first (a bound against a metagraph's churn). */
    private readonly maxKeys = 10_000,
  ) {}

  /**
   * Takes one call of `kind` to `miner` if the budget allows (returns undefined), else returns
   * when (ms since the epoch) the next one will be allowed. Kinds without a limit are unlimited.
   */
  take(miner: string, kind: string): number | undefined {
    const limit = this.limits[kind];
    if (limit === undefined) return undefined;
    const key = `${kind}\u0000${miner}`;
    const now = this.now();
    const recent = (this.calls.get(key) ?? []).filter((t) => t > now - this.periodMs);
    if (recent.length >= limit) {
      this.calls.set(key, recent);
      return recent[0] + this.periodMs;
    }
    recent.push(now);
    this.calls.delete(key);
    this.calls.set(key, recent);
    // Map order is insertion order: the first keys are the least recently used.
    for (const stale of this.calls.keys()) {
      if (this.calls.size <= this.maxKeys) break;
      this.calls.delete(stale);
    }
    return undefined;
  }
}
