import { ChutesProvider, CHUTES_DEFAULT_URL } from './chutes';
import { ConstellationProvider, CONSTELLATION_DEFAULT_TARGET } from './constellation';
import { DesearchProvider, DESEARCH_DEFAULT_URL } from './desearch';
import { ProviderConfigError } from './errors';
import type { Provider } from './types';

/**
 * Providers from the environment (README, "Providers"). A gateway is enabled by its API key; the
 * rest has defaults. Every bad setting is reported at once, naming the variable.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface ProvidersConfig {
  readonly chutes?: ConstructorParameters<typeof ChutesProvider>[0];
  readonly desearch?: ConstructorParameters<typeof DesearchProvider>[0];
  readonly constellation?: ConstructorParameters<typeof ConstellationProvider>[0];
}

/** Reads the provider settings; throws ProviderConfigError listing every malformed one. */
export function providersConfig(env: Env): ProvidersConfig {
  const errors: string[] = [];
  const set = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const number = (name: string, integer: boolean): number | undefined => {
    const raw = set(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isSafeInteger(n))) {
      errors.push(`${name} must be a non-negative ${integer ? 'integer' : 'number'}; got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return n;
  };
  const maxRetryAfterMs = number('ORCH_PROVIDER_MAX_RETRY_AFTER_MS', true);
  const maxResponseBytes = number('ORCH_PROVIDER_MAX_RESPONSE_BYTES', true);
  const common = { ...(maxRetryAfterMs !== undefined ? { maxRetryAfterMs } : {}), ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {}) };
  const config: { -readonly [K in keyof ProvidersConfig]: ProvidersConfig[K] } = {};

  const chutesKey = set('ORCH_CHUTES_API_KEY');
  const prices = parsePrices(set('ORCH_CHUTES_PRICES'), errors);
  const capabilities = set('ORCH_CHUTES_CAPABILITIES')
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (chutesKey) {
    config.chutes = {
      apiKey: chutesKey,
      baseUrl: set('ORCH_CHUTES_URL') ?? CHUTES_DEFAULT_URL,
      ...(prices ? { prices } : {}),
      ...(capabilities ? { capabilities } : {}),
      ...common,
    };
  }
  const desearchKey = set('ORCH_DESEARCH_API_KEY');
  const desearchUsd = number('ORCH_DESEARCH_USD_PER_CALL', false);
  if (desearchKey) {
    config.desearch = {
      apiKey: desearchKey,
      baseUrl: set('ORCH_DESEARCH_URL') ?? DESEARCH_DEFAULT_URL,
      ...(desearchUsd !== undefined ? { usdPerCall: desearchUsd } : {}),
      ...common,
    };
  }
  const constellationKey = set('ORCH_CONSTELLATION_API_KEY');
  const constellationUsd = number('ORCH_CONSTELLATION_USD_PER_CALL', false);
  if (constellationKey) {
    config.constellation = {
      apiKey: constellationKey,
      target: set('ORCH_CONSTELLATION_TARGET') ?? CONSTELLATION_DEFAULT_TARGET,
      ...(constellationUsd !== undefined ? { usdPerCall: constellationUsd } : {}),
      ...common,
    };
  }
  for (const name of ['ORCH_CHUTES_URL', 'ORCH_DESEARCH_URL']) {
    const url = set(name);
    if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) errors.push(`${name} must be an http(s) URL; got ${JSON.stringify(url)}`);
  }
  if (errors.length > 0) throw new ProviderConfigError(`invalid provider settings: ${errors.join('; ')}`);
  return config;
}

/** `model=prompt/completion,…` in USD per million tokens. */
function parsePrices(raw: string | undefined, errors: string[]): Record<string, { promptUsdPerMTok: number; completionUsdPerMTok: number }> | undefined {
  if (raw === undefined) return undefined;
  const prices: Record<string, { promptUsdPerMTok: number; completionUsdPerMTok: number }> = {};
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^(.+)=([0-9.]+)\/([0-9.]+)$/.exec(entry);
    const prompt = Number(m?.[2]);
    const completion = Number(m?.[3]);
    if (!m || !Number.isFinite(prompt) || !Number.isFinite(completion)) {
      errors.push(`ORCH_CHUTES_PRICES entry ${JSON.stringify(entry)} must read model=prompt/completion (USD per million tokens), e.g. deepseek-ai/DeepSeek-V3-0324=0.24/0.84`);
    } else prices[m[1].trim()] = { promptUsdPerMTok: prompt, completionUsdPerMTok: completion };
  }
  return prices;
}

/** The gateway clients a configuration enables, keyed by provider. */
export function createProviders(config: ProvidersConfig): Provider[] {
  return [
    ...(config.chutes ? [new ChutesProvider(config.chutes)] : []),
    ...(config.desearch ? [new DesearchProvider(config.desearch)] : []),
    ...(config.constellation ? [new ConstellationProvider(config.constellation)] : []),
  ];
}

/** Which configured providers serve a capability: the dispatcher's starting point for ranking their sources. */
export function providersFor(providers: readonly Provider[], capability: string): Provider[] {
  return providers.filter((p) => p.capabilities.includes(capability));
}
