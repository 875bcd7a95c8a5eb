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

/** Where the twins listen: what the devnet process reports, and all a client needs besides the keys. */
export interface ProviderTwinAddresses {
  /** Base URL of the fake Chutes. */
  readonly chutes: string;
  /** Base URL of the fake Desearch. */
  readonly desearch: string;
  /** `host:port` of the fake Constellation gRPC server. */
  readonly constellation: string;
}

/**
 * What the devnet prices a Constellation call at (USD; the devnet's own figure, not Constellation's
 * tariff). Constellation reports no price with an answer, so an operator configures one
 * (ORCH_CONSTELLATION_USD_PER_CALL); without it the calls would be `unpriced`, and the example's
 * report would show the posts as free.
 */
export const DEVNET_CONSTELLATION_USD_PER_CALL = 0.002;

/**
 * ORCH_* settings for providersConfig that point Orchestra at twins listening at `addresses`,
 * with the keys of `behaviour` (default good): what `ProviderTwins.env()` gives in-process, and
 * what the devnet stack gives the services from the devnet process's report.
 */
export function providerTwinEnv(addresses: ProviderTwinAddresses, behaviour: ProviderBehaviour = 'good'): Record<string, string> {
  return {
    ORCH_CHUTES_API_KEY: DEVNET_CHUTES_KEY,
    ORCH_CHUTES_URL: addresses.chutes,
    ORCH_DESEARCH_API_KEY: devnetProviderKey('desearch', behaviour),
    ORCH_DESEARCH_URL: addresses.desearch,
    ORCH_CONSTELLATION_API_KEY: devnetProviderKey('constellation', behaviour),
    ORCH_CONSTELLATION_TARGET: addresses.constellation,
    ORCH_CONSTELLATION_USD_PER_CALL: String(DEVNET_CONSTELLATION_USD_PER_CALL),
  };
}

export interface ProviderTwins {
  readonly chutes: FakeServer;
  readonly desearch: FakeServer;
  readonly constellation: FakeGrpcServer;
  readonly addresses: ProviderTwinAddresses;
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
  const addresses = { chutes: chutes.url, desearch: desearch.url, constellation: constellation.target };
  return {
    chutes,
    desearch,
    constellation,
    addresses,
    env: (behaviour: ProviderBehaviour = 'good') => providerTwinEnv(addresses, behaviour),
    stop: async () => {
      await Promise.all([chutes.stop(), desearch.stop(), constellation.stop()]);
    },
  };
}
