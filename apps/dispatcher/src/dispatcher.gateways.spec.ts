import { Bus } from '@orchestra/bus';
import { Buckets, DEFAULT_LIMITS, ReputationSchema, Subjects, TaskReady, TaskResult, sourceReputationKey } from '@orchestra/contracts';
import { ProviderTwins, startFakeChutes, startProviderTwins } from '@orchestra/devnet-providers';
import { ChutesProvider, providersConfig } from '@orchestra/providers';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { DispatcherConfig } from './dispatcher.config';
import { DispatcherService } from './dispatcher.service';
import { GatewayHire, MAX_RANKED_SOURCES } from './gateway-hire';
import { ReputationBook } from './reputation-book';

type Task = z.infer<typeof TaskReady.payload>;
type Result = z.infer<typeof TaskResult.payload>;

const RATE = 400;
const ROWS = [
  { entity: 'AAPL', period: 'FY2022', metric: 'revenue', value: 394328, unit: 'USD_millions', source: 'Apple Inc. Form 10-K FY2022' },
  { entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', source: 'Apple Inc. Form 10-K FY2023' },
];

/**
 * The dispatcher hiring from the Chutes twin over real HTTP (no mocks): a real nats-server, the
 * provider twins on loopback, and every published result collected. Text is bought from Chutes
 * only here (ORCH_CAPABILITY_PROVIDERS), from the models each test allows (ORCH_PROVIDER_SOURCES).
 */
describe('DispatcherService with gateway sources (Chutes twin)', () => {
  let server: NatsServerHandle;
  let bus: Bus;
  let twins: ProviderTwins;
  const results: Array<{ jobId: string; payload: Result }> = [];
  const services: DispatcherService[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'dispatcher-gateways-spec', storage: { replicas: 1, storage: 'memory' } });
    twins = await startProviderTwins({ retryAfterSeconds: 2 });
    bus.nc.subscribe(Subjects.taskResult, { callback: (_e, msg) => void results.push(msg.json()) });
  });
  afterAll(async () => {
    for (const s of services) await s.onModuleDestroy();
    await twins?.stop();
    await bus?.close();
    await server?.dispose();
  });

  const config = (env: Record<string, string>, models: string[]): DispatcherConfig => ({
    hotkey: '//Alice',
    allowAddresses: ['loopback'],
    protocols: {},
    timeoutMs: 5_000,
    hirePriceAlpha: 0.01,
    maxResponseBytes: 512 * 1024,
    limits: DEFAULT_LIMITS,
    hedge: { modes: { 'text.analysis': 'off' }, minDelayMs: 100, maxDelayMs: 100, defaultDelayMs: 100, quantile: 0.9, maxExtraCalls: 1 },
    reputation: { halfLifeMs: 3_600_000, weight: 0.5, cacheMs: 0 },
    sourcing: {
      providers: providersConfig(env),
      capabilityProviders: { 'text.analysis': ['chutes'] },
      providerSources: { chutes: models },
      taoUsdRate: RATE,
      sourcesTtlMs: 60_000,
      providerOffMs: 60_000,
    },
  });
  const service = async (env: Record<string, string>, models: string[]) => {
    const s = new DispatcherService(bus, config(env, models));
    await s.onApplicationBootstrap();
    services.push(s);
    return s;
  };
  const putJob = async (jobId: string) =>
    (await bus.kv(Buckets.jobs)).put(jobId, JSON.stringify({ status: 'running', limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 60_000, maxMinerCalls: 32 }, steps: [] }));
  const task = (over: Partial<Task> = {}): Task => ({
    stepId: 'analysis',
    attempt: 1,
    capability: 'text.analysis',
    netuid: 1,
    schemaId: 'text.analysis@1',
    input: { question: 'How did Apple revenue change?', rows: ROWS },
    excludeUids: [],
    rankOffset: 0,
    feedback: [],
    deadlineAt: new Date(Date.now() + 60_000).toISOString(),
    ...over,
  });
  const resultOf = async (jobId: string, attempt = 1): Promise<Result> => {
    await bus.nc.flush();
    const found = results.filter((r) => r.jobId === jobId && r.payload.attempt === attempt);
    expect(found).toHaveLength(1);
    return found[0].payload;
  };
  const reputation = async (model: string) => {
    const entry = await (await bus.kv(Buckets.reputation)).get(sourceReputationKey('chutes', model, 'text.analysis'));
    return entry?.operation === 'PUT' ? ReputationSchema.parse(entry.json()) : undefined;
  };
  /** Reputation is written in batches (every 250 ms): waits for the entry of `model`. */
  const reputationSoon = async (model: string) => {
    for (let i = 0; i < 40; i++) {
      const rep = await reputation(model);
      if (rep) return rep;
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  };
  const chatCalls = (model: string) => twins.chutes.requests.filter((r) => r.path === '/v1/chat/completions' && JSON.parse(r.body).model === model);

  it('hires the cheaper model first; its garbage costs it reputation; the re-ask (with the errors) swaps to the next-best model, priced in USD and TAO', async () => {
    const s = await service(twins.env(), ['devnet/garbage-llm', 'devnet/good-llm']);
    await putJob('job_garbage');
    await s.dispatch('job_garbage', task());
    const first = await resultOf('job_garbage');
    expect(first).toMatchObject({
      provider: 'chutes',
      source: 'devnet/garbage-llm',
      netuid: 64,
      uid: null,
      hotkey: null,
      ok: false,
      fault: 'bad_response',
      costUsd: 0,
      costTao: 0,
    });
    expect(first.raw).toBeUndefined();
    const garbage = await reputationSoon('devnet/garbage-llm');
    expect(garbage).toMatchObject({ calls: 1, answered: 0 });

    // The planner's re-ask: the garbage model excluded by source key, the verifier's errors as feedback.
    await s.dispatch('job_garbage', task({ attempt: 2, excludeSources: ['chutes:devnet/garbage-llm'], feedback: ['(root): not JSON'] }));
    const second = await resultOf('job_garbage', 2);
    expect(second).toMatchObject({ provider: 'chutes', source: 'devnet/good-llm', netuid: 64, ok: true, statusCode: 200, hedgedSources: [] });
    expect(second.raw).toEqual(expect.any(String));
    // Priced from the listing (0.25 / 1 USD per million tokens) and the usage the twin reported.
    expect(second.costUsd).toBeGreaterThan(0);
    expect(second.costTao).toBeCloseTo((second.costUsd ?? 0) / RATE, 12);
    // The prompt was built from the capability (promptFor) and carried the feedback; JSON was asked for.
    const [request] = chatCalls('devnet/good-llm').slice(-1);
    const body = JSON.parse(request.body) as { messages: Array<{ role: string; content: string }>; response_format?: unknown };
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages[0].content).toContain('text.analysis');
    expect(body.messages.at(-1)?.content).toContain('(root): not JSON');
    expect(chatCalls('devnet/garbage-llm')).toHaveLength(1);
  });

  it('turns Chutes off when it refuses our key, says why and how to fix it, and costs no model anything', async () => {
    const s = await service({ ...twins.env(), ORCH_CHUTES_API_KEY: 'not-the-key' }, ['devnet/good-llm']);
    const before = twins.chutes.requests.length;
    await putJob('job_badkey');
    await s.dispatch('job_badkey', task());
    const result = await resultOf('job_badkey');
    expect(result).toMatchObject({ uid: null, source: null, ok: false, statusCode: 0 });
    expect(result.statusMessage).toMatch(/chutes: off — the gateway refused our API key \(401\): check ORCH_CHUTES_API_KEY; chutes is off until /);
    expect(s.providersOff().chutes).toMatch(/refused our API key/);
    expect(s.providerChecks()).toEqual({ provider_chutes: expect.stringMatching(/^off: the gateway refused our API key/), provider_desearch: 'ok', provider_constellation: 'ok' });
    // Off means off: the next task does not knock on the gateway again, and says the same.
    await putJob('job_badkey2');
    await s.dispatch('job_badkey2', task());
    expect((await resultOf('job_badkey2')).statusMessage).toMatch(/chutes: off/);
    expect(twins.chutes.requests.length - before).toBe(1);
    expect(await reputation('devnet/good-llm')).toBeUndefined();
  });

  it('moves on from a rate-limited model within the attempt, rests it for its Retry-After without reputation cost, and leaves it alone meanwhile', async () => {
    const s = await service(twins.env(), ['devnet/rate-limited-llm', 'devnet/good-llm']);
    await putJob('job_429');
    await s.dispatch('job_429', task());
    // The cheaper model answered 429; the attempt moved to the next model at once, which answered.
    const moved = await resultOf('job_429');
    expect(moved).toMatchObject({ provider: 'chutes', source: 'devnet/good-llm', ok: true, hedgedSources: ['chutes:devnet/rate-limited-llm'] });
    expect(chatCalls('devnet/rate-limited-llm')).toHaveLength(1);
    // Another job's task, which excludes nothing, is not sent to the resting model.
    await putJob('job_429b');
    await s.dispatch('job_429b', task());
    expect(await resultOf('job_429b')).toMatchObject({ source: 'devnet/good-llm', ok: true, hedgedSources: [] });
    expect(chatCalls('devnet/rate-limited-llm')).toHaveLength(1);
    // No evidence against it: the 429 was a request to slow down, not a bad answer.
    expect(await reputationSoon('devnet/good-llm')).toBeDefined();
    expect(await reputation('devnet/rate-limited-llm')).toBeUndefined();
  });

  it('ends the attempt with the 429 when the job has no calls left to move with', async () => {
    // Fresh twins, so the rate-limited model's next request is one it refuses (it refuses every other one).
    const fresh = await startProviderTwins({ retryAfterSeconds: 2 });
    const s = await service(fresh.env(), ['devnet/rate-limited-llm', 'devnet/good-llm']);
    const limits = { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 60_000, maxMinerCalls: 1 };
    await (await bus.kv(Buckets.jobs)).put('job_429c', JSON.stringify({ status: 'running', limits, steps: [] }));
    await s.dispatch('job_429c', task());
    const limited = await resultOf('job_429c');
    expect(limited).toMatchObject({ provider: 'chutes', source: 'devnet/rate-limited-llm', ok: false, statusCode: 429, fault: 'rate_limited', hedgedSources: [] });
    expect(limited.statusMessage).toMatch(/resting devnet\/rate-limited-llm for 2000 ms \(Retry-After\)/);
    await fresh.stop();
  });

  it('says why nobody can be hired when a pinned subnet has no provider of the capability', async () => {
    const s = await service(twins.env(), ['devnet/good-llm']);
    await putJob('job_pinned');
    await s.dispatch('job_pinned', task({ netuid: 22, netuidPinned: true }));
    expect((await resultOf('job_pinned')).statusMessage).toBe('nobody to hire for text.analysis: no provider of text.analysis sells on SN22, which the plan pinned');
  });

  it('ranks only the cheapest sources of a gateway that lists many', async () => {
    const models = Array.from({ length: MAX_RANKED_SOURCES + 8 }, (_, i) => ({ id: `many/m${i}`, behaviour: 'good' as const, pricing: { prompt: 100 - i, completion: 100 - i } }));
    const chutes = await startFakeChutes({ apiKeys: ['k'], models: [...models, { id: 'many/unpriced', behaviour: 'good' }] });
    try {
      const hire = new GatewayHire(new ChutesProvider({ apiKey: 'k', baseUrl: chutes.url }), {
        reputation: new ReputationBook(await bus.kv(Buckets.reputation), 0),
        weight: 0.5,
        halfLifeMs: 3_600_000,
        sourcesTtlMs: 60_000,
        offMs: 60_000,
        timeoutMs: 5_000,
        taoUsdRate: RATE,
        textLimitChars: 2_000,
      });
      const { candidates } = await hire.candidates(task());
      expect(candidates).toHaveLength(MAX_RANKED_SOURCES);
      // The 32 cheapest are m8…m39 (prices fall with the index); the unpriced one is left out.
      expect(new Set(candidates.map((c) => c.source))).toEqual(new Set(models.slice(8).map((m) => m.id)));
      expect(candidates[0].source).toBe(`many/m${MAX_RANKED_SOURCES + 7}`);
    } finally {
      await chutes.stop();
    }
  });
});
