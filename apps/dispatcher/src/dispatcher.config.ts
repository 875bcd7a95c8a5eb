import { AddressClass, DEFAULT_SUBNET_PROTOCOLS, HotkeySource, SubnetProtocol } from '@orchestra/bittensor';
import {
  DEFAULT_LIMITS,
  DEFAULT_REPUTATION_HALF_LIFE_MS,
  SizeLimits,
  SourceProviderId,
  listingProblems,
  minerResponseBudgetBytes,
  reputationHalfLifeMs,
} from '@orchestra/contracts';
import { ProvidersConfig, providersConfig } from '@orchestra/providers';
import { ServiceConfigError } from '@orchestra/service';
import { parseCapabilityProviders, parseProviderSources } from './routing';

// Records over the unions, so adding a protocol or address class without listing it here does not compile.
const PROTOCOL_NAMES: Record<SubnetProtocol, true> = { synapse: true, epistula: true, platform: true };
const SUBNET_PROTOCOLS = Object.keys(PROTOCOL_NAMES) as SubnetProtocol[];
const ADDRESS_CLASS_NAMES: Record<AddressClass, true> = { private: true, loopback: true, 'link-local': true, multicast: true, unspecified: true, reserved: true };
const ADDRESS_CLASSES: ReadonlySet<string> = new Set(Object.keys(ADDRESS_CLASS_NAMES));

/**
 * USD per TAO when ORCH_TAO_USD_RATE is not set: a round figure near late-2026 prices, so
 * devnet costs read plausibly. A deployment that budgets in both units must set the real rate.
 */
export const DEFAULT_TAO_USD_RATE = 400;

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

/** Where work is bought besides miner axons, and how it is accounted. */
export interface SourcingConfig {
  /** The gateways enabled (by their API keys) and their settings (libs/providers, README "Providers"). */
  readonly providers: ProvidersConfig;
  /** ORCH_CAPABILITY_PROVIDERS: providers per capability, in order, overriding the catalog's. */
  readonly capabilityProviders: Readonly<Record<string, readonly SourceProviderId[]>>;
  /** ORCH_PROVIDER_SOURCES: the only sources hired per gateway (absent: every source it lists). */
  readonly providerSources: Readonly<Record<string, readonly string[]>>;
  /** ORCH_TAO_USD_RATE: USD per TAO, to state every cost in both units. */
  readonly taoUsdRate: number;
  /** ORCH_SOURCES_TTL_MS: how long a gateway's source listing is used before it is read again. */
  readonly sourcesTtlMs: number;
  /** ORCH_PROVIDER_OFF_MS: how long a gateway that refused our key or could not be reached is left alone. */
  readonly providerOffMs: number;
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
  readonly sourcing: SourcingConfig;
}

/** The dispatcher's own settings; the size budgets come from the connected bus. */
export type DispatcherSettings = Omit<DispatcherConfig, 'limits' | 'maxResponseBytes'>;

/**
 * The dispatcher's section of its config: ORCH_HOTKEY / ORCH_HOTKEY_FILE,
 * ORCH_ALLOW_ADDRESSES, ORCH_SUBNET_PROTOCOLS, ORCH_MINER_TIMEOUT_MS, ORCH_HIRE_PRICE_ALPHA,
 * the ORCH_HEDGE* settings and the ORCH_REPUTATION_* settings (README, "Configuration").
 * Throws ServiceConfigError naming every malformed value (never the hotkey's).
 */
export function dispatcherSettings(env: Readonly<Record<string, string | undefined>>): DispatcherSettings {
  const errors: string[] = [];
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (Number.isFinite(value) && value >= 0) return value;
    errors.push(`${name} must be a non-negative number; got ${JSON.stringify(raw)}`);
    return fallback;
  };
  let modes: Record<string, HedgeMode> = {};
  try {
    modes = parseHedgeModes(env.ORCH_HEDGE ?? '');
  } catch (error) {
    errors.push((error as Error).message);
  }
  const hedge: HedgeConfig = {
    modes,
    minDelayMs: num('ORCH_HEDGE_MIN_MS', 100),
    maxDelayMs: num('ORCH_HEDGE_MAX_MS', 3_000),
    defaultDelayMs: num('ORCH_HEDGE_DEFAULT_MS', 1_000),
    quantile: num('ORCH_HEDGE_QUANTILE', 0.9),
    maxExtraCalls: num('ORCH_HEDGE_MAX_EXTRA', 1),
  };
  if (hedge.minDelayMs > hedge.maxDelayMs) errors.push(`ORCH_HEDGE_MIN_MS (${hedge.minDelayMs}) is above ORCH_HEDGE_MAX_MS (${hedge.maxDelayMs})`);
  if (!(hedge.quantile > 0 && hedge.quantile < 1)) errors.push(`ORCH_HEDGE_QUANTILE must be in (0, 1); got ${hedge.quantile}`);
  let halfLifeMs = DEFAULT_REPUTATION_HALF_LIFE_MS;
  try {
    halfLifeMs = reputationHalfLifeMs(env.ORCH_REPUTATION_HALF_LIFE_MS);
  } catch (error) {
    errors.push((error as Error).message);
  }
  const reputation: ReputationConfig = { halfLifeMs, weight: num('ORCH_REPUTATION_WEIGHT', 0.5), cacheMs: num('ORCH_REPUTATION_CACHE_MS', 2_000) };
  if (reputation.weight > 1) errors.push(`ORCH_REPUTATION_WEIGHT must be in [0, 1]; got ${reputation.weight}`);
  let protocols: Record<number, SubnetProtocol> = {};
  const rawProtocols = env.ORCH_SUBNET_PROTOCOLS;
  if (rawProtocols?.trim()) {
    const parsed = parseSubnetProtocols(rawProtocols);
    if (typeof parsed === 'string') errors.push(parsed);
    else protocols = parsed;
  }
  let providers: ProvidersConfig = {};
  try {
    providers = providersConfig(env);
  } catch (error) {
    errors.push((error as Error).message);
  }
  const parsed = <T>(name: string, parse: (raw: string) => T | string, fallback: T): T => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = parse(raw);
    if (typeof value === 'string') errors.push(value);
    return typeof value === 'string' ? fallback : value;
  };
  const sourcing: SourcingConfig = {
    providers,
    capabilityProviders: parsed('ORCH_CAPABILITY_PROVIDERS', parseCapabilityProviders, {}),
    providerSources: parsed('ORCH_PROVIDER_SOURCES', parseProviderSources, {}),
    taoUsdRate: num('ORCH_TAO_USD_RATE', DEFAULT_TAO_USD_RATE),
    sourcesTtlMs: num('ORCH_SOURCES_TTL_MS', 60_000),
    providerOffMs: num('ORCH_PROVIDER_OFF_MS', 60_000),
  };
  if (!(sourcing.taoUsdRate > 0)) errors.push(`ORCH_TAO_USD_RATE must be a positive number of USD per TAO; got ${JSON.stringify(env.ORCH_TAO_USD_RATE)}`);
  const allowAddresses = (env.ORCH_ALLOW_ADDRESSES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknownClasses = allowAddresses.filter((c) => !ADDRESS_CLASSES.has(c));
  if (unknownClasses.length > 0) errors.push(`ORCH_ALLOW_ADDRESSES: ${JSON.stringify(unknownClasses.join(','))} is not a list of ${[...ADDRESS_CLASSES].join(', ')}`);
  const settings: DispatcherSettings = {
    hotkey: env.ORCH_HOTKEY_FILE ? { file: env.ORCH_HOTKEY_FILE } : (env.ORCH_HOTKEY ?? '//Alice'),
    allowAddresses: allowAddresses as AddressClass[],
    protocols: { ...DEFAULT_SUBNET_PROTOCOLS, ...protocols },
    timeoutMs: num('ORCH_MINER_TIMEOUT_MS', 12_000),
    hirePriceAlpha: num('ORCH_HIRE_PRICE_ALPHA', 0.01),
    hedge,
    reputation,
    sourcing,
  };
  if (errors.length > 0) throw listingProblems(new ServiceConfigError(`invalid dispatcher settings: ${errors.join('; ')}`), errors);
  return settings;
}

/** The dispatcher's whole config: its settings with the size budgets in force (the connected bus's). */
export function dispatcherConfig(settings: DispatcherSettings, limits: SizeLimits = DEFAULT_LIMITS): DispatcherConfig {
  return { ...settings, limits, maxResponseBytes: minerResponseBudgetBytes(limits) };
}

/** `ORCH_SUBNET_PROTOCOLS`: a JSON object of netuid → protocol; a string says what is wrong with it. */
function parseSubnetProtocols(raw: string): Record<number, SubnetProtocol> | string {
  const bad = `ORCH_SUBNET_PROTOCOLS must be a JSON object of netuid to protocol (${SUBNET_PROTOCOLS.join(', ')})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return `${bad}; it is not JSON`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad;
  for (const [netuid, protocol] of Object.entries(parsed)) {
    if (!/^\d+$/.test(netuid) || !SUBNET_PROTOCOLS.includes(protocol as SubnetProtocol)) return `${bad}; got ${JSON.stringify(netuid)}: ${JSON.stringify(protocol).slice(0, 80)}`;
  }
  return parsed as Record<number, SubnetProtocol>;
}

/** `data.financials:on,text.analysis:off` → { 'data.financials': 'on', 'text.analysis': 'off' }. */
export function parseHedgeModes(spec: string): Record<string, HedgeMode> {
  const modes: Record<string, HedgeMode> = {};
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [capability, mode] = item.split(':').map((s) => s.trim());
    if (!capability || (mode !== 'on' && mode !== 'off' && mode !== 'auto')) {
      throw new ServiceConfigError(`ORCH_HEDGE: "${item}" is not <capability>:on|off|auto (e.g. data.financials:on,code.python:off)`);
    }
    modes[capability] = mode;
  }
  return modes;
}

/** Nest token of the DispatcherConfig in force (main.ts provides it; tests and benchmarks give their own); without it every default. */
export const DISPATCHER_CONFIG = Symbol('DispatcherConfig');
