import { createProviders, Provider, providersConfig, providersFor } from '@orchestra/providers';
import { verifyOutput } from '@orchestra/schemas';
import { ProviderTwins, startProviderTwins } from './twins';

describe('the provider twins behind the configuration Orchestra reads', () => {
  let twins: ProviderTwins;
  let providers: Provider[] = [];
  beforeAll(async () => {
    twins = await startProviderTwins();
  });
  afterAll(async () => {
    for (const p of providers) p.close?.();
    await twins.stop();
  });

  it('serves every configured provider of a capability, each source competing on one input', async () => {
    providers = createProviders(providersConfig(twins.env()));
    const input = { keywords: ['solar'], since: '2026-11-01', until: '2026-11-07', limit: 3 };
    const social = providersFor(providers, 'data.social');
    expect(social.map((p) => p.id)).toEqual(['desearch', 'constellation']);
    const sources = (await Promise.all(social.map((p) => p.listSources()))).flat().filter((s) => s.capabilities.includes('data.social'));
    expect(sources.map((s) => `${s.provider}:${s.id}`)).toEqual(['desearch:twitter', 'constellation:x', 'constellation:reddit']);
    for (const source of sources) {
      const provider = social.find((p) => p.id === source.provider) as Provider;
      const answer = await provider.call({ capability: 'data.social', source: source.id, input, timeoutMs: 5_000 });
      const posts = (answer.value as { posts: Array<{ text: string; date: string }> }).posts;
      expect(posts).toHaveLength(3);
      expect(posts.every((p) => p.text.includes('solar') && p.date >= '2026-11-01' && p.date < '2026-11-08')).toBe(true);
      // Every source's answer is data.social@1 exactly, and passes its checks (keywords, window).
      expect(await verifyOutput('data.social@1', answer.raw, input)).toMatchObject({ ok: true });
    }
  });

  it('gives an unconfigured key a configuration fault from every twin', async () => {
    const bad = createProviders(providersConfig({ ...twins.env(), ORCH_CHUTES_API_KEY: 'x', ORCH_DESEARCH_API_KEY: 'x', ORCH_CONSTELLATION_API_KEY: 'x' }));
    const calls = [
      bad[0].call({ capability: 'text.analysis', source: 'devnet/good-llm', input: { messages: [{ role: 'user', content: 'hi' }] }, timeoutMs: 5_000 }),
      bad[1].call({ capability: 'web.search', source: 'web', input: { query: 'q' }, timeoutMs: 5_000 }),
      bad[2].call({ capability: 'data.social', source: 'x', input: { keywords: ['q'] }, timeoutMs: 5_000 }),
    ];
    for (const outcome of await Promise.allSettled(calls)) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ fault: 'auth', blame: 'config', retryable: false });
    }
    for (const p of bad) p.close?.();
  });
});
