import { DEFAULT_DESEARCH_COSTS, FakeServer, startFakeDesearch } from '.';
import { callWithRetry, DesearchProvider, ProviderError, SearchItem, SocialPost } from '@orchestra/providers';
import { verifyOutput } from '@orchestra/schemas';

const keys = {
  'dsr-good': 'good',
  'dsr-garbage': 'garbage',
  'dsr-wrong': 'wrong-schema',
  'dsr-slow': 'slow',
  'dsr-down': 'down',
  'dsr-limited': 'rate-limited',
} as const;

describe('DesearchProvider against the fake Desearch', () => {
  let fake: FakeServer;
  const provider = (apiKey: keyof typeof keys | string = 'dsr-good'): DesearchProvider => new DesearchProvider({ apiKey, baseUrl: fake.url });

  beforeAll(async () => {
    fake = await startFakeDesearch({ apiKeys: keys, slowMs: 10_000, now: () => Date.parse('2026-11-30T12:00:00Z') });
  });
  afterAll(() => fake.stop());

  it('searches the web with the raw key and takes the cost from X-Desearch-Cost-Usd', async () => {
    const input = { query: 'lithium battery recycling', count: 5 };
    const answer = await provider().call({ capability: 'web.search', source: 'web', input, timeoutMs: 5_000 });
    const request = fake.requests.at(-1);
    expect(request).toMatchObject({ method: 'GET', path: '/web', query: { query: 'lithium battery recycling', start: '0' } });
    expect(request?.headers.authorization).toBe('dsr-good'); // no Bearer
    const { results } = answer.value as { results: SearchItem[] };
    expect(results).toHaveLength(5);
    for (const item of results) {
      expect(item.url).toMatch(/^https:\/\/[a-z-]+\.example\//);
      expect(`${item.title} ${item.snippet}`.toLowerCase()).toContain('lithium battery recycling');
    }
    expect(answer.cost).toEqual({ usd: DEFAULT_DESEARCH_COSTS.web, basis: 'reported' });
    expect(answer.usage).toEqual({ items: 5 });
    expect(JSON.parse(answer.raw)).toEqual(answer.value);
    // Normalized to web.search@1 exactly: the verifier judges a gateway's answer as it judges any source's.
    expect(await verifyOutput('web.search@1', answer.raw, input)).toMatchObject({ ok: true });
  });

  it('searches X for the keywords and authors of a social query, inside its window', async () => {
    const input = { keywords: ['bittensor', 'subnet'], usernames: ['opentensor', 'const_reborn'], since: '2026-11-01', until: '2026-11-15', limit: 8 };
    const answer = await provider().call({ capability: 'data.social', source: 'twitter', input, timeoutMs: 5_000 });
    expect(fake.requests.at(-1)?.query).toEqual({
      query: 'bittensor subnet (from:opentensor OR from:const_reborn)',
      sort: 'Latest',
      count: '8',
      start_date: '2026-11-01',
      end_date: '2026-11-15',
    });
    const { posts } = answer.value as { posts: SocialPost[] };
    expect(posts).toHaveLength(8);
    for (const post of posts) {
      expect(post.source).toBe('x');
      expect(['opentensor', 'const_reborn']).toContain(post.author);
      expect(post.url).toBe(`https://x.com/${post.author}/status/${post.url.split('/').at(-1)}`);
      expect(post.text.toLowerCase()).toEqual(expect.stringContaining('bittensor'));
      expect(post.text.toLowerCase()).toEqual(expect.stringContaining('subnet'));
      expect(Date.parse(post.date)).toBeGreaterThanOrEqual(Date.parse('2026-11-01T00:00:00Z'));
      expect(Date.parse(post.date)).toBeLessThanOrEqual(Date.parse('2026-11-15T23:59:59Z'));
    }
    expect(answer.cost).toEqual({ usd: DEFAULT_DESEARCH_COSTS.twitter, basis: 'reported' });
    expect(await verifyOutput('data.social@1', answer.raw, input)).toMatchObject({ ok: true });
  });

  it('asks the AI search for links, and answers with the links alone (web.search@1)', async () => {
    const input = { query: 'grid-scale storage tenders', since: '2026-06-01' };
    const answer = await provider().call({ capability: 'web.search', source: 'ai-search', input, timeoutMs: 5_000 });
    const sent = JSON.parse(fake.requests.at(-1)?.body ?? '{}');
    expect(sent).toEqual({
      prompt: 'grid-scale storage tenders',
      tools: ['web'],
      start_date: '2026-06-01T00:00:00Z',
      count: 10,
      streaming: false,
      result_type: 'LINKS_WITH_FINAL_SUMMARY',
    });
    const value = answer.value as { results: SearchItem[] };
    expect(Object.keys(value)).toEqual(['results']);
    expect(value.results).toHaveLength(10);
    expect(value.results.every((i) => i.date && i.date >= '2026-06-01')).toBe(true);
    expect(await verifyOutput('web.search@1', answer.raw, input)).toMatchObject({ ok: true });
    expect(answer.cost).toEqual({ usd: DEFAULT_DESEARCH_COSTS['ai-search'], basis: 'reported' });
  });

  it('gives the same items for the same query (seeded)', async () => {
    const call = () => provider().call({ capability: 'web.search', source: 'web', input: { query: 'copper prices' }, timeoutMs: 5_000 });
    expect((await call()).value).toEqual((await call()).value);
  });

  it('reports a refused key as a non-retryable configuration fault', async () => {
    const error = await provider('nope')
      .call({ capability: 'web.search', source: 'web', input: { query: 'x' }, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ fault: 'auth', blame: 'config', retryable: false, status: 401 });
    expect((error as Error).message).toMatch(/Invalid API key.*ORCH_DESEARCH_API_KEY/);
  });

  it('honours Retry-After on 429', async () => {
    const p = provider('dsr-limited');
    const before = fake.requests.length;
    const retried: ProviderError[] = [];
    const answer = await callWithRetry(() => p.call({ capability: 'web.search', source: 'web', input: { query: 'rate limits' }, timeoutMs: 5_000 }), {
      onRetry: (e) => retried.push(e),
    });
    expect(retried.map((e) => [e.fault, e.retryAfterMs])).toEqual([['rate_limited', 1_000]]);
    expect((answer.value as { results: unknown[] }).results.length).toBeGreaterThan(0);
    const tries = fake.requests.slice(before);
    expect(tries).toHaveLength(2);
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(990);
  });

  it('times out a slow endpoint', async () => {
    await expect(provider('dsr-slow').call({ capability: 'data.social', source: 'twitter', input: { keywords: ['a'] }, timeoutMs: 300 })).rejects.toMatchObject({
      fault: 'timeout',
      retryable: true,
    });
  });

  it('turns garbage and wrong shapes into clear source faults', async () => {
    const garbage = await provider('dsr-garbage')
      .call({ capability: 'web.search', source: 'web', input: { query: 'q' }, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(garbage).toMatchObject({ fault: 'bad_response', blame: 'source' });
    expect((garbage as Error).message).toMatch(/not JSON.*<html>/);
    for (const [source, capability, input] of [
      ['web', 'web.search', { query: 'q' }],
      ['twitter', 'data.social', { keywords: ['q'] }],
    ] as const) {
      const wrong = await provider('dsr-wrong')
        .call({ capability, source, input, timeoutMs: 5_000 })
        .catch((e: unknown) => e);
      expect(wrong).toMatchObject({ fault: 'bad_response' });
      expect((wrong as Error).message).toMatch(/wrong shape/);
    }
  });

  it('reports an outage as unavailable and retryable', async () => {
    await expect(provider('dsr-down').call({ capability: 'web.search', source: 'web', input: { query: 'q' }, timeoutMs: 5_000 })).rejects.toMatchObject({
      fault: 'unavailable',
      status: 503,
      retryable: true,
    });
  });

  it('refuses an unknown source and a malformed query as our own mistakes', async () => {
    await expect(provider().call({ capability: 'data.social', source: 'web', input: { keywords: ['a'] }, timeoutMs: 1_000 })).rejects.toMatchObject({ blame: 'ours' });
    await expect(provider().call({ capability: 'data.social', source: 'twitter', input: { keywords: [] }, timeoutMs: 1_000 })).rejects.toMatchObject({
      name: 'InvalidProviderInputError',
    });
  });
});
