import { BehaviourTuning, PROVIDER_BEHAVIOURS, ProviderBehaviour } from './behaviours';
import { startFakeChutes } from './fake-chutes';
import { FakeGrpcServer, startFakeConstellation } from './fake-constellation';
import { startFakeDesearch } from './fake-desearch';
import { FakeServer } from './http-fake';

/**
 * All three provider twins at once, for the devnet and cross-process tests. Chutes accepts one
 * key (its models carry the behaviours); Desearch and Constellation accept one key per behaviour,
 * `devnet-<provider>-<behaviour>`. `env()` gives the settings that point Orchestra's provider
 * configuration (providersConfig) at the twins, with the key of the behaviour asked for.
 */
export const DEVNET_CHUTES_KEY = 'devnet-chutes-key';

export function devnetProviderKey(provider: 'desearch' | 'constellation', behaviour: ProviderBehaviour): string {
  return `devnet-${provider}-${behaviour}`;
}

export interface ProviderTwins {
  readonly chutes: FakeServer;
  readonly desearch: FakeServer;
  readonly constellation: FakeGrpcServer;
  /** ORCH_* settings for providersConfig, using the keys of `behaviour` (default good). */
  env(behaviour?: ProviderBehaviour): Record<string, string>;
  stop(): Promise<void>;
}

export async function startProviderTwins(options: BehaviourTuning & { readonly host?: string } = {}): Promise<ProviderTwins> {
  const keysOf = (provider: 'desearch' | 'constellation') =>
    Object.fromEntries(PROVIDER_BEHAVIOURS.map((b) => [devnetProviderKey(provider, b), b])) as Record<string, ProviderBehaviour>;
  const [chutes, desearch, constellation] = await Promise.all([
    startFakeChutes({ ...options, apiKeys: [DEVNET_CHUTES_KEY] }),
    startFakeDesearch({ ...options, apiKeys: keysOf('desearch') }),
    startFakeConstellation({ ...options, apiKeys: keysOf('constellation') }),
  ]);
  return {
    chutes,
    desearch,
    constellation,
    env: (behaviour: ProviderBehaviour = 'good') => ({
      ORCH_CHUTES_API_KEY: DEVNET_CHUTES_KEY,
      ORCH_CHUTES_URL: chutes.url,
      ORCH_DESEARCH_API_KEY: devnetProviderKey('desearch', behaviour),
      ORCH_DESEARCH_URL: desearch.url,
      ORCH_CONSTELLATION_API_KEY: devnetProviderKey('constellation', behaviour),
      ORCH_CONSTELLATION_TARGET: constellation.target,
    }),
    stop: async () => {
      await Promise.all([chutes.stop(), desearch.stop(), constellation.stop()]);
    },
  };
}
