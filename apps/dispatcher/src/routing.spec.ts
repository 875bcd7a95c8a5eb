import { dispatcherSettings } from './dispatcher.config';
import { parseCapabilityProviders, parseProviderSources, routesFor } from './routing';
import { expectedUsd, mergeCandidates, priceFactor, scoreSource } from './source-ranking';
import type { SourceCandidate } from './source-call';

describe('routing a task to providers', () => {
  it('follows the catalog: text and code from Chutes first, then miners of the step subnet; financials by the version the task runs under', () => {
    expect(routesFor({ capability: 'text.analysis', netuid: 1 }, {})).toEqual([
      { provider: 'chutes', netuid: 64 },
      { provider: 'axon', netuid: 1 },
    ]);
    // @1 (figures fetched by entity) from SN13's miners; @2 (read from the client's documents) from the LLM gateway.
    expect(routesFor({ capability: 'data.financials', netuid: 13, schemaId: 'data.financials@1' }, {})).toEqual([{ provider: 'axon', netuid: 13 }]);
    expect(routesFor({ capability: 'data.financials', netuid: 64, schemaId: 'data.financials@2' }, {})).toEqual([{ provider: 'chutes', netuid: 64 }]);
    // A schema of another capability, or none, is not trusted over the capability's current version.
    expect(routesFor({ capability: 'data.financials', netuid: 13, schemaId: 'code.python@1' }, {})).toEqual([{ provider: 'chutes', netuid: 64 }]);
    expect(routesFor({ capability: 'data.financials', netuid: 13 }, {})).toEqual([{ provider: 'chutes', netuid: 64 }]);
  });

  it('lets the deployment override the order, and a pinned netuid keep only the providers selling there', () => {
    const overrides = parseCapabilityProviders('text.analysis=axon,chutes; code.python=chutes');
    expect(overrides).toEqual({ 'text.analysis': ['axon', 'chutes'], 'code.python': ['chutes'] });
    const o = overrides as Record<string, never>;
    expect(routesFor({ capability: 'code.python', netuid: 62 }, o)).toEqual([{ provider: 'chutes', netuid: 64 }]);
    expect(routesFor({ capability: 'text.analysis', netuid: 64, netuidPinned: true }, o)).toEqual([
      { provider: 'axon', netuid: 64 },
      { provider: 'chutes', netuid: 64 },
    ]);
    expect(routesFor({ capability: 'text.analysis', netuid: 1, netuidPinned: true }, {})).toEqual([{ provider: 'axon', netuid: 1 }]);
  });

  it('refuses malformed overrides, naming the setting', () => {
    expect(parseCapabilityProviders('text.analysis=openai')).toMatch(/^ORCH_CAPABILITY_PROVIDERS: "text.analysis=openai" is not/);
    expect(parseCapabilityProviders('text.poetry=chutes')).toMatch(/unknown capability "text.poetry"/);
    expect(parseProviderSources('chutes=deepseek-ai/DeepSeek-V3-0324,Qwen/Qwen3:free;desearch=web')).toEqual({
      chutes: ['deepseek-ai/DeepSeek-V3-0324', 'Qwen/Qwen3:free'],
      desearch: ['web'],
    });
    expect(parseProviderSources('axon=uid1')).toMatch(/^ORCH_PROVIDER_SOURCES/);
    expect(() => dispatcherSettings({ ORCH_CAPABILITY_PROVIDERS: 'x', ORCH_TAO_USD_RATE: '0', ORCH_CHUTES_URL: 'ftp://x', ORCH_CHUTES_API_KEY: 'k' })).toThrow(
      /ORCH_CAPABILITY_PROVIDERS.*ORCH_TAO_USD_RATE|ORCH_CHUTES_URL/,
    );
    const settings = dispatcherSettings({ ORCH_CHUTES_API_KEY: 'k', ORCH_TAO_USD_RATE: '250' });
    expect(settings.sourcing).toMatchObject({ taoUsdRate: 250, providers: { chutes: { apiKey: 'k' } } });
  });
});

describe('ranking gateway sources', () => {
  it('prefers cheaper sources at equal reputation, and unknown prices sit in the middle', () => {
    const perToken = expectedUsd({ kind: 'per_token', promptUsdPerMTok: 0.25, completionUsdPerMTok: 1 });
    expect(perToken).toBeCloseTo(0.0015, 10);
    expect(priceFactor(0)).toBe(1);
    expect(priceFactor(undefined)).toBe(0.5);
    const base = { reputation: undefined, weight: 0.5, halfLifeMs: 3_600_000, now: new Date(), load: 0 };
    const cheap = scoreSource({ ...base, price: { kind: 'per_call', usd: 0.001 } });
    const dear = scoreSource({ ...base, price: { kind: 'per_call', usd: 0.1 } });
    expect(cheap.score).toBeGreaterThan(dear.score);
    // Load spreads a burst: the same source with two calls running scores half as much.
    expect(scoreSource({ ...base, price: { kind: 'per_call', usd: 0.001 }, load: 2 }).score).toBeCloseTo(cheap.score / 2, 10);
  });

  it('merges providers in their order, sources by score, the re-asked source first, then skips the rank offset', () => {
    const c = (key: string, score: number): SourceCandidate => ({
      provider: key.startsWith('axon') ? 'axon' : 'chutes',
      source: key.split(':')[1],
      key,
      netuid: 64,
      reputationKey: key,
      score,
      quality: 1,
      basis: '',
    });
    const chutes = [c('chutes:a', 0.2), c('chutes:b', 0.9)];
    const axon = [c('axon:uid1', 0.99)];
    expect(mergeCandidates([chutes, axon], { rankOffset: 0 }).map((x) => x.key)).toEqual(['chutes:b', 'chutes:a', 'axon:uid1']);
    expect(mergeCandidates([chutes, axon], { rankOffset: 0, prefer: 'axon:uid1' }).map((x) => x.key)).toEqual(['axon:uid1', 'chutes:b', 'chutes:a']);
    expect(mergeCandidates([chutes, axon], { rankOffset: 1 }).map((x) => x.key)).toEqual(['chutes:a', 'axon:uid1']);
  });
});
