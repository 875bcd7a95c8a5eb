import { DEFAULT_FAKE_CHUTES_MODELS, FakeServer, fakeTokens, startFakeChutes } from '.';
import { callWithRetry, ChutesProvider, ProviderAbortedError, ProviderError } from '@orchestra/providers';

const KEY = 'cpk_devnet_test';
const FILING = [
  'Halvorsen Timber AB reported net sales of SEK 3,418 million for 2025, up 4% on the prior year.',
  'Operating profit was SEK 296.4 million.',
  'The board proposes a dividend of SEK 2.10 per share.',
].join(' ');
const messages = [
  { role: 'system' as const, content: 'You extract figures from filings. Answer with JSON only.' },
  { role: 'user' as const, content: `Return {"net_sales": number, "operating_profit": number, "quote": string} for this filing.\nFiling:\n${FILING}` },
];

describe('ChutesProvider against the fake Chutes', () => {
  let fake: FakeServer;
  const provider = (options: Partial<ConstructorParameters<typeof ChutesProvider>[0]> = {}): ChutesProvider => new ChutesProvider({ apiKey: KEY, baseUrl: fake.url, ...options });

  beforeAll(async () => {
    fake = await startFakeChutes({ apiKeys: [KEY], slowMs: 10_000 });
  });
  afterAll(() => fake.stop());

  it('lists the models as sources with the prices the listing reports', async () => {
    const sources = await provider().listSources();
    expect(sources.map((s) => s.id)).toEqual(DEFAULT_FAKE_CHUTES_MODELS.map((m) => m.id));
    expect(sources.find((s) => s.id === 'devnet/good-llm')?.price).toEqual({ kind: 'per_token', promptUsdPerMTok: 0.25, completionUsdPerMTok: 1 });
    expect(sources.find((s) => s.id === 'devnet/unpriced-llm')?.price).toBeUndefined();
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('answers a whole completion, read from the prompt, with usage and its cost at the listed price', async () => {
    const answer = await provider().call({ capability: 'data.financials', source: 'devnet/good-llm', input: { messages, stream: false }, timeoutMs: 5_000 });
    expect(JSON.parse(answer.raw)).toEqual({ net_sales: 3418, operating_profit: 296.4, quote: 'Operating profit was SEK 296.4 million.' });
    const prompt = fakeTokens(messages.map((m) => m.content).join('\n'));
    const completion = fakeTokens(answer.raw);
    expect(answer.usage).toEqual({ promptTokens: prompt, completionTokens: completion });
    expect(answer.cost.basis).toBe('tokens');
    expect(answer.cost.usd).toBeCloseTo((prompt * 0.25 + completion * 1) / 1e6, 12);
    const sent = JSON.parse(fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.body ?? '{}');
    expect(sent).toMatchObject({ model: 'devnet/good-llm', messages, stream: false });
  });

  it('streams SSE chunks to the same answer and takes usage from the final chunk', async () => {
    const whole = await provider().call({ capability: 'data.financials', source: 'devnet/good-llm', input: { messages, stream: false }, timeoutMs: 5_000 });
    const streamed = await provider().call({ capability: 'data.financials', source: 'devnet/good-llm', input: { messages }, timeoutMs: 5_000 });
    expect(streamed.raw).toBe(whole.raw);
    expect(streamed.usage).toEqual(whole.usage);
    expect(streamed.cost).toEqual(whole.cost);
    const request = fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(request?.headers.accept).toBe('text/event-stream');
  });

  it('prices a model the listing does not price from configuration, and leaves it unpriced without', async () => {
    const input = { messages, stream: false };
    const configured = await provider({ prices: { 'devnet/unpriced-llm': { promptUsdPerMTok: 2, completionUsdPerMTok: 4 } } }).call({
      capability: 'data.financials',
      source: 'devnet/unpriced-llm',
      input,
      timeoutMs: 5_000,
    });
    const { promptTokens = 0, completionTokens = 0 } = configured.usage;
    expect(configured.cost).toEqual({ usd: (promptTokens * 2 + completionTokens * 4) / 1e6, basis: 'tokens' });
    const unpriced = await provider().call({ capability: 'data.financials', source: 'devnet/unpriced-llm', input, timeoutMs: 5_000 });
    expect(unpriced.cost).toEqual({ usd: 0, basis: 'unpriced' });
  });

  it('reports a refused key as a non-retryable configuration fault', async () => {
    const bad = new ChutesProvider({ apiKey: 'wrong', baseUrl: fake.url });
    const error = await bad.call({ capability: 'text.analysis', source: 'devnet/good-llm', input: { messages }, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ fault: 'auth', blame: 'config', retryable: false, status: 401 });
    expect((error as Error).message).toMatch(/ORCH_CHUTES_API_KEY/);
    await expect(bad.listSources()).rejects.toMatchObject({ fault: 'auth' });
  });

  it('reports 429 as retryable after Retry-After, and callWithRetry waits that long before the next call', async () => {
    const p = provider();
    const call = () => p.call({ capability: 'text.analysis', source: 'devnet/rate-limited-llm', input: { messages }, timeoutMs: 5_000 });
    const before = fake.requests.length;
    const retried: ProviderError[] = [];
    const answer = await callWithRetry(call, { onRetry: (error) => retried.push(error) });
    expect(answer.raw).toContain('296.4');
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({ fault: 'rate_limited', blame: 'source', retryable: true, retryAfterMs: 1_000, status: 429 });
    const tries = fake.requests.slice(before).filter((r) => r.body.includes('rate-limited'));
    expect(tries).toHaveLength(2);
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(990);
    // Without the helper, the next call is refused again (the fake limits every other call).
    await expect(call()).rejects.toMatchObject({ fault: 'rate_limited', retryAfterMs: 1_000 });
  });

  it('times out a slow model as the source fault, retryable', async () => {
    const error = await provider()
      .call({ capability: 'text.analysis', source: 'devnet/slow-llm', input: { messages }, timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ fault: 'timeout', blame: 'source', retryable: true });
  });

  it('turns garbage into a clear bad_response, whole or streamed', async () => {
    for (const stream of [false, true]) {
      const error = await provider()
        .call({ capability: 'text.analysis', source: 'devnet/garbage-llm', input: { messages, stream }, timeoutMs: 5_000 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ fault: 'bad_response', blame: 'source', retryable: false });
      expect((error as Error).message).toMatch(/not JSON/);
    }
  });

  it('rejects an answer of the wrong shape, whole or streamed', async () => {
    for (const stream of [false, true]) {
      const error = await provider()
        .call({ capability: 'text.analysis', source: 'devnet/wrong-schema-llm', input: { messages, stream }, timeoutMs: 5_000 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ fault: 'bad_response' });
      expect((error as Error).message).toMatch(/wrong shape: choices/);
    }
  });

  it('reports a down model as unavailable (retryable) and an intermittent one every other call', async () => {
    await expect(provider().call({ capability: 'text.analysis', source: 'devnet/down-llm', input: { messages }, timeoutMs: 5_000 })).rejects.toMatchObject({
      fault: 'unavailable',
      status: 503,
      retryable: true,
    });
    const p = provider();
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await p.call({ capability: 'text.analysis', source: 'devnet/intermittent-llm', input: { messages }, timeoutMs: 5_000 }).then(
          () => 'ok',
          (e: ProviderError) => e.fault,
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'unavailable', 'ok', 'unavailable']);
  });

  it('bounds the answer size', async () => {
    const error = await provider({ maxResponseBytes: 200 })
      .call({ capability: 'text.analysis', source: 'devnet/good-llm', input: { messages, stream: false }, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ fault: 'too_large', blame: 'source' });
  });

  it('throws the caller abort as ProviderAbortedError, not as a source fault', async () => {
    const controller = new AbortController();
    const pending = provider().call({ capability: 'text.analysis', source: 'devnet/slow-llm', input: { messages }, timeoutMs: 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(ProviderAbortedError);
  });

  it('refuses a capability it is not configured for and malformed input, as our own mistakes', async () => {
    await expect(provider().call({ capability: 'web.search', source: 'devnet/good-llm', input: { messages }, timeoutMs: 1_000 })).rejects.toMatchObject({
      name: 'UnsupportedCapabilityError',
      blame: 'ours',
    });
    await expect(provider().call({ capability: 'text.analysis', source: 'devnet/good-llm', input: { messages: [] }, timeoutMs: 1_000 })).rejects.toMatchObject({
      name: 'InvalidProviderInputError',
      blame: 'ours',
    });
  });
});
