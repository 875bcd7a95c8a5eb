import { createProviders, providersConfig, providersFor } from './config';
import { ProviderConfigError } from './errors';

describe('providersConfig', () => {
  it('enables a gateway by its key, with defaults for the rest', () => {
    const config = providersConfig({ ORCH_DESEARCH_API_KEY: 'k' });
    expect(config).toEqual({ desearch: { apiKey: 'k', baseUrl: 'https://api.desearch.ai' } });
  });

  it('reads every setting', () => {
    const config = providersConfig({
      ORCH_CHUTES_API_KEY: 'c',
      ORCH_CHUTES_URL: 'http://127.0.0.1:9000',
      ORCH_CHUTES_PRICES: 'a/b=0.24/0.84, c=1/2',
      ORCH_CHUTES_CAPABILITIES: 'text.analysis, code.python',
      ORCH_DESEARCH_API_KEY: 'd',
      ORCH_DESEARCH_USD_PER_CALL: '0.004',
      ORCH_CONSTELLATION_API_KEY: 'm',
      ORCH_CONSTELLATION_TARGET: '127.0.0.1:9001',
      ORCH_CONSTELLATION_USD_PER_CALL: '0.002',
      ORCH_PROVIDER_MAX_RETRY_AFTER_MS: '5000',
      ORCH_PROVIDER_MAX_RESPONSE_BYTES: '65536',
    });
    expect(config.chutes).toEqual({
      apiKey: 'c',
      baseUrl: 'http://127.0.0.1:9000',
      prices: { 'a/b': { promptUsdPerMTok: 0.24, completionUsdPerMTok: 0.84 }, c: { promptUsdPerMTok: 1, completionUsdPerMTok: 2 } },
      capabilities: ['text.analysis', 'code.python'],
      maxRetryAfterMs: 5000,
      maxResponseBytes: 65536,
    });
    expect(config.desearch?.usdPerCall).toBe(0.004);
    expect(config.constellation).toMatchObject({ target: '127.0.0.1:9001', usdPerCall: 0.002 });
    const providers = createProviders(config);
    expect(providers.map((p) => p.id)).toEqual(['chutes', 'desearch', 'constellation']);
    expect(providersFor(providers, 'data.social').map((p) => p.id)).toEqual(['desearch', 'constellation']);
    expect(providersFor(providers, 'code.python').map((p) => p.id)).toEqual(['chutes']);
    for (const p of providers) p.close?.();
  });

  it('lists every malformed setting at once, by name', () => {
    let error: unknown;
    try {
      providersConfig({ ORCH_CHUTES_API_KEY: 'c', ORCH_CHUTES_PRICES: 'model=cheap', ORCH_DESEARCH_USD_PER_CALL: '-1', ORCH_CHUTES_URL: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toMatch(/ORCH_CHUTES_PRICES entry "model=cheap".*ORCH_DESEARCH_USD_PER_CALL.*ORCH_CHUTES_URL/);
  });
});
