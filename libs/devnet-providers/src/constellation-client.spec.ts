import * as grpc from '@grpc/grpc-js';
import { FakeGrpcServer, startFakeConstellation } from '.';
import { verifyOutput } from '@orchestra/schemas';
import { callWithRetry, ConstellationProvider, jsonToStruct, ProviderAbortedError, ProviderError, SocialPost, sn13Service, structToJson } from '@orchestra/providers';

const keys = { 'mc-good': 'good', 'mc-garbage': 'garbage', 'mc-wrong': 'wrong-schema', 'mc-slow': 'slow', 'mc-down': 'down', 'mc-limited': 'rate-limited' } as const;
const input = { keywords: ['photo', 'mars'], usernames: ['nasa', 'spacex'], keywordMode: 'any' as const, since: '2026-11-20', until: '2026-11-27', limit: 6 };

describe('ConstellationProvider against the fake Constellation (real gRPC)', () => {
  let fake: FakeGrpcServer;
  const open: ConstellationProvider[] = [];
  const provider = (apiKey: string = 'mc-good', options: { usdPerCall?: number; maxResponseBytes?: number } = {}): ConstellationProvider => {
    const p = new ConstellationProvider({ apiKey, target: fake.target, ...options });
    open.push(p);
    return p;
  };

  beforeAll(async () => {
    fake = await startFakeConstellation({ apiKeys: keys, slowMs: 10_000, now: () => Date.parse('2026-11-30T12:00:00Z') });
  });
  afterAll(async () => {
    for (const p of open) p.close();
    await fake.stop();
  });

  // The request mirrors macrocosmos-ts' README example (https://github.com/macrocosm-os/macrocosmos-ts#sn13-client):
  // { source: 'x', usernames: ['nasa', 'spacex'], keywords: ['photo', 'space', 'mars'], startDate, endDate, limit: 3, keywordMode: 'any' },
  // whose proto field names on the wire are start_date, end_date, keyword_mode.
  it('calls OnDemandData with the bearer key and returns citable posts matching the query and window', async () => {
    const answer = await provider('mc-good', { usdPerCall: 0.002 }).call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 });
    const received = fake.requests.at(-1);
    expect(received?.authorization).toBe('Bearer mc-good');
    expect(received?.request).toMatchObject({
      source: 'x',
      usernames: ['nasa', 'spacex'],
      keywords: ['photo', 'mars'],
      keyword_mode: 'any',
      start_date: '2026-11-20T00:00:00Z',
      end_date: '2026-11-27T23:59:59Z',
      limit: '6',
    });
    const { posts } = answer.value as { posts: SocialPost[] };
    expect(posts).toHaveLength(6);
    for (const post of posts) {
      expect(['nasa', 'spacex']).toContain(post.author);
      expect(post.url).toMatch(new RegExp(`^https://x\\.com/${post.author}/status/\\d+$`));
      expect(/photo|mars/i.test(post.text)).toBe(true);
      expect(post.date >= '2026-11-20T00:00:00.000Z' && post.date <= '2026-11-27T23:59:59.999Z').toBe(true);
    }
    expect(answer.usage).toEqual({ items: 6 });
    expect(answer.cost).toEqual({ usd: 0.002, basis: 'configured' });
    expect(await verifyOutput('data.social@1', answer.raw, input)).toMatchObject({ ok: true });
  });

  it('refuses a query for another platform than its source: that hire is a planning error, not the source failing', async () => {
    const error = await provider()
      .call({ capability: 'data.social', source: 'x', input: { keywords: ['gpu'], source: 'reddit' }, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UnsupportedCapabilityError', blame: 'ours', retryable: false });
    expect((error as Error).message).toBe('constellation source x gives x posts, but the query asks for reddit only; hire a reddit source');
  });

  it('reads Reddit posts in data-universe field names', async () => {
    const answer = await provider().call({ capability: 'data.social', source: 'reddit', input: { keywords: ['gpu'], limit: 3 }, timeoutMs: 5_000 });
    const { posts } = answer.value as { posts: SocialPost[] };
    expect(posts).toHaveLength(3);
    expect(posts.every((p) => p.source === 'reddit' && p.url.startsWith('https://www.reddit.com/r/gpu/') && p.text.includes('gpu'))).toBe(true);
    expect(answer.cost).toEqual({ usd: 0, basis: 'unpriced' });
  });

  it('reports a refused key as a non-retryable configuration fault', async () => {
    const error = await provider('nope')
      .call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ fault: 'auth', blame: 'config', retryable: false, status: grpc.status.UNAUTHENTICATED });
    expect((error as Error).message).toMatch(/ORCH_CONSTELLATION_API_KEY/);
  });

  it('honours the retry-after trailer of RESOURCE_EXHAUSTED', async () => {
    const p = provider('mc-limited');
    const before = fake.requests.length;
    const retried: ProviderError[] = [];
    const answer = await callWithRetry(() => p.call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 }), { onRetry: (e) => retried.push(e) });
    expect(retried.map((e) => [e.fault, e.retryAfterMs, e.retryable])).toEqual([['rate_limited', 1_000, true]]);
    expect((answer.value as { posts: unknown[] }).posts).toHaveLength(6);
    const tries = fake.requests.slice(before);
    expect(tries).toHaveLength(2);
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(990);
  });

  it('times out a slow answer at the deadline', async () => {
    await expect(provider('mc-slow').call({ capability: 'data.social', source: 'x', input, timeoutMs: 300 })).rejects.toMatchObject({ fault: 'timeout', retryable: true });
  });

  it('turns undecodable bytes and the wrong shape into clear source faults', async () => {
    const garbage = await provider('mc-garbage')
      .call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(garbage).toMatchObject({ fault: 'bad_response', blame: 'source' });
    expect((garbage as Error).message).toMatch(/not a valid OnDemandDataResponse/);
    const wrong = await provider('mc-wrong')
      .call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(wrong).toMatchObject({ fault: 'bad_response' });
    expect((wrong as Error).message).toMatch(/wrong shape.*url/);
  });

  it('reports an outage as unavailable and retryable, and an oversized answer as too large', async () => {
    await expect(provider('mc-down').call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 })).rejects.toMatchObject({ fault: 'unavailable', retryable: true });
    await expect(provider('mc-good', { maxResponseBytes: 100 }).call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000 })).rejects.toMatchObject({
      fault: 'too_large',
    });
  });

  it('throws the caller abort as ProviderAbortedError', async () => {
    const controller = new AbortController();
    const pending = provider('mc-slow').call({ capability: 'data.social', source: 'x', input, timeoutMs: 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(ProviderAbortedError);
  });

  it('round-trips JSON through google.protobuf.Struct on the wire and bounds its depth', () => {
    const value = { a: 'x', n: 1.5, b: true, z: null, list: [1, 'two', { three: 3 }], nested: { deep: { er: ['!'] } } };
    const method = sn13Service().service['OnDemandData'];
    const wire = method.responseDeserialize(method.responseSerialize({ status: 'success', data: [jsonToStruct(value)] })) as { data: unknown[] };
    expect(structToJson(wire.data[0] as never, 64)).toEqual(value);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++) deep = { d: deep };
    expect(() => structToJson(jsonToStruct(deep) as never, 5)).toThrow(/deeper than 5/);
  });
});
