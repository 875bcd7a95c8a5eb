import { AddressClass, DEFAULT_SUBNET_PROTOCOLS, HotkeySource, SubnetProtocol } from '@orchestra/bittensor';
import { SizeLimits, minerResponseBudgetBytes, reputationHalfLifeMs, sizeLimits } from '@orchestra/contracts';
import { ServiceConfigError } from '@orchestra/service';

/** Whether a capability's hires are hedged: always, never, or when its tasks are short (`auto`). */
export type HedgeMode = 'on' | 'off' | 'auto';

/** When and how much to hedge. */
export interface HedgeConfig {
  /** Per capability; capabilities not listed are `auto`. */
  readonly modes: Readonly<Record<string, HedgeMode>>;
  /** Bounds of the hedge delay, ms; `auto` capabilities whose observed quantile is above `maxDelayMs` count as long and are not hedged. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Hedge delay before there are enough latency samples, ms. */
  readonly defaultDelayMs: number;
  /** Latency quantile of recent successful calls the delay is set to (0.9 = p90). */
  readonly quantile: number;
  /** Extra calls per attempt at most. */
  readonly maxExtraCalls: number;
}

/** How Orchestra's own observations of miners weigh in ranking. */
export interface ReputationConfig {
  /** Half-life of the evidence, ms. */
  readonly halfLifeMs: number;
  /** Weight of reputation against the chain signals, 0..1. */
  readonly weight: number;
  /** How long a subnet's reputation entries are cached between reads, ms. */
  readonly cacheMs: number;
}

/** Dispatcher settings, from the environment. */
export interface DispatcherConfig {
  /**
   * Orchestra's validator hotkey: `ORCH_HOTKEY_FILE` (a Bittensor wallet hotkey file, e.g. a
   * mounted secret), else `ORCH_HOTKEY` (a mnemonic, a `0x` hex seed, or a dev URI such as `//Alice`).
   */
  readonly hotkey: HotkeySource;
  /** Address classes miners may have anyway (the devnet allows `loopback`). */
  readonly allowAddresses: AddressClass[];
  /** Protocol per netuid. */
  readonly protocols: Readonly<Record<number, SubnetProtocol>>;
  /** Miner call timeout, ms. */
  readonly timeoutMs: number;
  /** What one answered call costs, in the subnet's alpha (converted to TAO at the pool price). */
  readonly hirePriceAlpha: number;
  /** Largest miner answer accepted, bytes (it travels in one NATS message): minerResponseBudgetBytes(limits). */
  readonly maxResponseBytes: number;
  /** Size budgets (ORCH_TEXT_LIMIT_CHARS, ORCH_JSON_MAX_DEPTH, ORCH_RECORD_BUDGET_BYTES…). */
  readonly limits: SizeLimits;
  readonly hedge: HedgeConfig;
  readonly reputation: ReputationConfig;
}

/**
 * Reads ORCH_HOTKEY, ORCH_ALLOW_ADDRESSES, ORCH_SUBNET_PROTOCOLS, ORCH_MINER_TIMEOUT_MS,
 * ORCH_HIRE_PRICE_ALPHA, the ORCH_HEDGE* settings and the ORCH_REPUTATION_* settings
 * (see the README's configuration table). Throws ServiceConfigError on a malformed value.
 */
export function dispatcherConfig(env: NodeJS.ProcessEnv = process.env): DispatcherConfig {
  const hedge: HedgeConfig = {
    modes: parseHedgeModes(env.ORCH_HEDGE ?? ''),
    minDelayMs: num(env, 'ORCH_HEDGE_MIN_MS', 100),
    maxDelayMs: num(env, 'ORCH_HEDGE_MAX_MS', 3_000),
    defaultDelayMs: num(env, 'ORCH_HEDGE_DEFAULT_MS', 1_000),
    quantile: num(env, 'ORCH_HEDGE_QUANTILE', 0.9),
    maxExtraCalls: num(env, 'ORCH_HEDGE_MAX_EXTRA', 1),
  };
  if (hedge.minDelayMs > hedge.maxDelayMs) throw new ServiceConfigError(`ORCH_HEDGE_MIN_MS (${hedge.minDelayMs}) is above ORCH_HEDGE_MAX_MS (${hedge.maxDelayMs})`);
  if (!(hedge.quantile > 0 && hedge.quantile < 1)) throw new ServiceConfigError(`ORCH_HEDGE_QUANTILE must be in (0, 1), got ${hedge.quantile}`);
  const reputation: ReputationConfig = {
    halfLifeMs: reputationHalfLifeMs(env.ORCH_REPUTATION_HALF_LIFE_MS),
    weight: num(env, 'ORCH_REPUTATION_WEIGHT', 0.5),
    cacheMs: num(env, 'ORCH_REPUTATION_CACHE_MS', 2_000),
  };
  if (reputation.weight > 1) throw new ServiceConfigError(`ORCH_REPUTATION_WEIGHT must be in [0, 1], got ${reputation.weight}`);
  const limits = sizeLimits(env);
  return {
    hotkey: env.ORCH_HOTKEY_FILE ? { file: env.ORCH_HOTKEY_FILE } : (env.ORCH_HOTKEY ?? '//Alice'),
    allowAddresses: (env.ORCH_ALLOW_ADDRESSES ?? '').split(',').filter(Boolean) as AddressClass[],
    protocols: { ...DEFAULT_SUBNET_PROTOCOLS, ...(env.ORCH_SUBNET_PROTOCOLS ? JSON.parse(env.ORCH_SUBNET_PROTOCOLS) : {}) },
    timeoutMs: num(env, 'ORCH_MINER_TIMEOUT_MS', 12_000),
    hirePriceAlpha: num(env, 'ORCH_HIRE_PRICE_ALPHA', 0.01),
    maxResponseBytes: minerResponseBudgetBytes(limits),
    limits,
    hedge,
    reputation,
  };
}

/** `data.financials:on,text.analysis:off` → { 'data.financials': 'on', 'text.analysis': 'off' }. */
export function parseHedgeModes(spec: string): Record<string, HedgeMode> {
  const modes: Record<string, HedgeMode> = {};
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [capability, mode] = item.split(':').map((s) => s.trim());
    if (!capability || (mode !== 'on' && mode !== 'off' && mode !== 'auto')) {
      throw new ServiceConfigError(`ORCH_HEDGE: "${item}" is not <capability>:on|off|auto (e.g. data.financials:on,code.python:off)`);
    }
    modes[capability] = mode;
  }
  return modes;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ServiceConfigError(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** Nest token for a DispatcherConfig given in code (tests, benchmarks); without it the service reads the environment. */
export const DISPATCHER_CONFIG = Symbol('DispatcherConfig');
