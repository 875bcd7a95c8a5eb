import { HedgeConfig } from './dispatcher.config';

/** Successful-call latencies kept per (netuid, capability). */
const WINDOW = 200;
/** Samples needed before the observed quantile replaces the default delay. */
const MIN_SAMPLES = 20;

/** Whether to hedge an attempt, and after how long. */
export interface HedgePlan {
  readonly enabled: boolean;
  /** Time after a call starts without an acceptable answer before the next UID is called, ms. */
  readonly delayMs: number;
  /** Where the delay came from, for logs and progress messages. */
  readonly basis: string;
}

/**
 * Decides hedging per (netuid, capability) from the latencies of recent successful
 * calls, kept in memory per replica (a sliding window of the last 200):
 *
 *   delay = clamp(quantile_q(window), minDelayMs, maxDelayMs)   with ≥ 20 samples,
 *   delay = defaultDelayMs                                       before that.
 *
 * `auto` hedges short tasks only: those whose observed quantile is within `maxDelayMs`
 * (unknown counts as short). A task that normally takes longer than that is not sped up
 * by a second copy, only made twice as expensive.
 */
export class HedgePolicy {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly config: HedgeConfig) {}

  /** Records the latency of a call whose answer was acceptable. */
  observe(netuid: number, capability: string, latencyMs: number): void {
    const key = `${netuid}:${capability}`;
    let window = this.windows.get(key);
    if (!window) this.windows.set(key, (window = []));
    window.push(latencyMs);
    if (window.length > WINDOW) window.shift();
  }

  /** The plan for the next attempt of this capability on this subnet. */
  plan(netuid: number, capability: string): HedgePlan {
    const { modes, minDelayMs, maxDelayMs, defaultDelayMs, quantile, maxExtraCalls } = this.config;
    const mode = modes[capability] ?? 'auto';
    const observed = this.quantile(`${netuid}:${capability}`, quantile);
    const delayMs = observed === undefined ? defaultDelayMs : Math.min(maxDelayMs, Math.max(minDelayMs, observed));
    const basis = observed === undefined ? 'default delay' : `p${Math.round(quantile * 100)} ${Math.round(observed)} ms`;
    const short = observed === undefined || observed <= maxDelayMs;
    return { enabled: maxExtraCalls > 0 && (mode === 'on' || (mode === 'auto' && short)), delayMs, basis };
  }

  private quantile(key: string, q: number): number | undefined {
    const window = this.windows.get(key);
    if (!window || window.length < MIN_SAMPLES) return undefined;
    const sorted = [...window].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}
