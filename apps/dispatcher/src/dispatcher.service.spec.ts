import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { Bus } from '@orchestra/bus';
import {
  Buckets,
  DEFAULT_LIMITS,
  JobCancelRequested,
  Metagraph,
  Subjects,
  TaskReady,
  TaskResult,
  envelope,
  metagraphKey,
  reputationKey,
  ReputationSchema,
} from '@orchestra/contracts';
import { metricsRegistry } from '@orchestra/service';
import { answerDigest } from '@orchestra/schemas';
import { BehaviourName, SimulatedMiner, neuronOf, startSimulatedMiner } from '@orchestra/devnet-miners';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { DispatcherConfig } from './dispatcher.config';
import { DispatcherService } from './dispatcher.service';

type Task = z.infer<typeof TaskReady.payload>;
type Result = z.infer<typeof TaskResult.payload>;

const SLOW_MS = 8_000;
const HEDGE_MS = 200;
const FIN_INPUT = { entities: ['AAPL', 'MSFT'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] };

const config = (hedge: 'on' | 'off'): DispatcherConfig => ({
  hotkey: '//Alice',
  allowAddresses: ['loopback'],
  protocols: { 13: 'synapse' },
  timeoutMs: 10_000,
  hirePriceAlpha: 0.01,
  maxResponseBytes: 512 * 1024,
  limits: DEFAULT_LIMITS,
  hedge: { modes: { 'data.financials': hedge }, minDelayMs: HEDGE_MS, maxDelayMs: HEDGE_MS, defaultDelayMs: HEDGE_MS, quantile: 0.9, maxExtraCalls: 1 },
  reputation: { halfLifeMs: 3_600_000, weight: 0.5, cacheMs: 0 },
  sourcing: { providers: {}, capabilityProviders: {}, providerSources: {}, taoUsdRate: 400, sourcesTtlMs: 60_000, providerOffMs: 60_000 },
});

const task = (stepId: string, excludeUids: number[] = []): Task => ({
  rankOffset: 0,
  stepId,
  attempt: 1,
  capability: 'data.financials',
  netuid: 13,
  schemaId: 'data.financials@1',
  input: FIN_INPUT,
  excludeUids,
  feedback: [],
  deadlineAt: new Date(Date.now() + 60_000).toISOString(),
});

/**
 * A real nats-server, simulated SN13 miners (signed synapse protocol) of the given
 * behaviours, their metagraph in KV (chain incentive as given, uid = position) and every
 * published task result collected: the world each describe below runs the dispatcher in.
 */
function useSubnet(name: string, specs: ReadonlyArray<{ behaviour: BehaviourName; incentive: number; slowMs?: number }>) {
  const world = {
    server: undefined as unknown as NatsServerHandle,
    bus: undefined as unknown as Bus,
    miners: [] as SimulatedMiner[],
    results: [] as Array<{ jobId: string; payload: Result }>,
  };
  beforeAll(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    world.server = await startNatsServer();
    world.bus = await Bus.connect({ servers: world.server.url, name, storage: { replicas: 1, storage: 'memory' } });
    for (const [uid, { behaviour, slowMs }] of specs.entries()) {
      world.miners.push(await startSimulatedMiner({ netuid: 13, uid, hotkey: keyring.addFromUri(`//${name}${uid}`), behaviour, slowMs }));
    }
    const metagraph: Metagraph = {
      netuid: 13,
      block: 100,
      syncedAt: new Date().toISOString(),
      pool: { netuid: 13, taoReserveRao: '1', alphaReserveRao: '1', price: 1 },
      neurons: world.miners.map((miner, uid) => neuronOf(miner, specs[uid].incentive)),
    };
    await (await world.bus.kv(Buckets.metagraph)).put(metagraphKey(13), JSON.stringify(metagraph));
    world.bus.nc.subscribe(Subjects.taskResult, { callback: (_e, msg) => void world.results.push(msg.json()) });
  });
  afterAll(async () => {
    await Promise.all(world.miners.map((m) => m.stop()));
    await world.bus?.close();
    await world.server?.dispose();
  });
  return world;
}

/** A job record the dispatcher reads before hiring. */
const putJob = async (bus: Bus, jobId: string, status: 'running' | 'cancelled' = 'running', limits: Record<string, unknown> = {}) =>
  (await bus.kv(Buckets.jobs)).put(jobId, JSON.stringify({ status, limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 60_000, maxMinerCalls: 32, ...limits }, steps: [] }));

/**
 * The dispatcher against a real nats-server and real simulated SN13 miners (signed
 * synapse protocol): uid 0 is `slow` and ranked first by the chain, uid 1 is `good`.
 */
describe('DispatcherService (hedging, cancellation)', () => {
  const world = useSubnet('dispatcher-spec', [
    { behaviour: 'slow', incentive: 0.9, slowMs: SLOW_MS },
    { behaviour: 'good', incentive: 0.5 },
  ]);
  const results = world.results;

  const service = async (hedge: 'on' | 'off') => {
    const s = new DispatcherService(world.bus, config(hedge));
    await s.onApplicationBootstrap();
    return s;
  };
  const job = (jobId: string, status: 'running' | 'cancelled' = 'running') => putJob(world.bus, jobId, status);
  const resultOf = async (jobId: string) => {
    await world.bus.nc.flush();
    return results.filter((r) => r.jobId === jobId).map((r) => r.payload);
  };
  const hedgedTotal = async () => (await metricsRegistry().getSingleMetric('orchestra_dispatcher_hedged_calls_total')?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;

  it('hedges a slow hire to the next-best UID, takes its answer, aborts the slow call and counts the extra call', async () => {
    const dispatcher = await service('on');
    await job('job_hedge');
    const before = await hedgedTotal();
    const started = Date.now();
    await dispatcher.dispatch('job_hedge', task('data'));
    expect(Date.now() - started).toBeLessThan(SLOW_MS / 2);

    const [result] = await resultOf('job_hedge');
    expect(result).toMatchObject({ uid: 1, ok: true, hedgedUids: [0], statusCode: 200 });
    // The race's checks passed on this very answer: the verifier will not parse it again.
    expect(result.prechecked).toEqual({ sha256: answerDigest(result.raw as string) });
    expect(result.latencyMs).toBeGreaterThanOrEqual(HEDGE_MS);
    expect(await hedgedTotal()).toBe(before + 1);

    // Reputation is written in batches (ReputationLedger): flush what this hire recorded.
    await dispatcher.onModuleDestroy();
    const reputation = await world.bus.kv(Buckets.reputation);
    const slow = ReputationSchema.parse((await reputation.get(reputationKey(13, 0, 'data.financials')))?.json());
    const good = ReputationSchema.parse((await reputation.get(reputationKey(13, 1, 'data.financials')))?.json());
    // The slow call was aborted: no call counted, only its latency bound.
    expect(slow).toMatchObject({ calls: 0 });
    expect(slow.latencyMs).toBeGreaterThanOrEqual(HEDGE_MS);
    expect(good).toMatchObject({ calls: 1, answered: 1 });
  });

  it('aborts an in-flight slow hire at once when its job is cancelled, and publishes nothing', async () => {
    const dispatcher = await service('off');
    await job('job_cancel');
    const started = Date.now();
    const hiring = dispatcher.dispatch('job_cancel', task('data', [1]));
    setTimeout(() => void world.bus.publish(Subjects.jobCancel, envelope(JobCancelRequested, 'job_cancel', { reason: 'changed my mind' })), 300);
    await hiring;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await resultOf('job_cancel')).toEqual([]);
  });

  it('does not hire for a job that is no longer running', async () => {
    const dispatcher = await service('on');
    await job('job_over', 'cancelled');
    const started = Date.now();
    await dispatcher.dispatch('job_over', task('data', [1]));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await resultOf('job_over')).toEqual([]);
  });
});

/**
 * Hostile miners against the real dispatcher, nats-server and signed protocol: uid 0
 * (ranked first) answers JSON nested 100,000 deep, uid 1 a 400,000-character error,
 * uid 2 is `good`. No hire may throw; each is a failed reply of that miner, bounded.
 */
describe('DispatcherService (hostile miners)', () => {
  const world = useSubnet('dispatcher-hostile-spec', [
    { behaviour: 'deep-json', incentive: 0.9 },
    { behaviour: 'huge-error', incentive: 0.8 },
    { behaviour: 'good', incentive: 0.5 },
  ]);
  const results = world.results;

  const run = async (jobId: string, excludeUids: number[], overrides: Partial<DispatcherConfig> = {}) => {
    const dispatcher = new DispatcherService(world.bus, { ...config('off'), ...overrides });
    await dispatcher.onApplicationBootstrap();
    await putJob(world.bus, jobId);
    await dispatcher.dispatch(jobId, task('data', excludeUids));
    await dispatcher.onModuleDestroy();
    await world.bus.nc.flush();
    return results.filter((r) => r.jobId === jobId).map((r) => r.payload);
  };
  const reputationOf = async (uid: number) => ReputationSchema.parse((await (await world.bus.kv(Buckets.reputation)).get(reputationKey(13, uid, 'data.financials')))?.json());

  it('deep JSON: publishes a failed result of that miner and records the failed call, instead of throwing', async () => {
    const [result] = await run('job_deep', []);
    expect(result).toMatchObject({ uid: 0, ok: false, statusCode: 422, fault: 'bad_response' });
    expect(result.statusMessage).toContain('deeper than');
    expect(result.raw).toBeUndefined();
    expect(await reputationOf(0)).toMatchObject({ calls: 1, answered: 0 });
  });

  it('a 400,000-character error: the result carries it cut to textLimitChars', async () => {
    const [result] = await run('job_huge_error', [0]);
    expect(result).toMatchObject({ uid: 1, ok: false, statusCode: 500, fault: 'error_status' });
    expect(result.statusMessage.length).toBeLessThanOrEqual(DEFAULT_LIMITS.textLimitChars + 40);
    expect(result.statusMessage).toContain('…[truncated');
  });

  it('an answer that cannot travel with its task in one message: a too_large failure of that miner, published', async () => {
    const limits = { ...DEFAULT_LIMITS, recordBudgetBytes: 600 };
    const [result] = await run('job_too_large', [0, 1], { limits });
    expect(result).toMatchObject({ uid: 2, ok: false, fault: 'too_large' });
    expect(result.raw).toBeUndefined();
    expect(result.statusMessage).toMatch(/^answer of \d+ bytes \(as JSON\) does not fit in one message with the task's input \(\d+ of at most 600 bytes\)$/);
  });
});

/**
 * SN13's per-hotkey budgets (GetContentsByBuckets: 5 an hour per miner, libs/bittensor
 * request-budget.ts) against real simulated data-universe miners: once the budget with the
 * top-ranked miner is spent, its call is not sent, and the attempt moves to the next UID at once
 * without costing the first any reputation.
 */
describe('DispatcherService (SN13 request budgets)', () => {
  const world = useSubnet('dispatcher-budget-spec', [
    { behaviour: 'good', incentive: 0.9 },
    { behaviour: 'good', incentive: 0.5 },
  ]);
  const socialTask = (stepId: string): Task => ({
    ...task(stepId),
    capability: 'data.social',
    schemaId: 'data.social@1',
    input: { keywords: ['Apple'], limit: 5 },
  });
  const reputationOf = async (uid: number) => ReputationSchema.parse((await (await world.bus.kv(Buckets.reputation)).get(reputationKey(13, uid, 'data.social')))?.json());

  it('a rate_limited miner is passed over at once and keeps its reputation', async () => {
    const base = config('off');
    const dispatcher = new DispatcherService(world.bus, { ...base, hedge: { ...base.hedge, modes: { 'data.social': 'off' } } });
    await dispatcher.onApplicationBootstrap();
    const jobs = Array.from({ length: 6 }, (_, i) => `job_budget_${i}`);
    for (const jobId of jobs) {
      await putJob(world.bus, jobId);
      await dispatcher.dispatch(jobId, socialTask('social'));
    }
    await dispatcher.onModuleDestroy();
    await world.bus.nc.flush();
    const results = jobs.map((jobId) => world.results.filter((r) => r.jobId === jobId).map((r) => r.payload));
    // Five answers from the top-ranked miner spend the hour's budget with it; the sixth goes to the next.
    for (const [result] of results.slice(0, 5)) expect(result).toMatchObject({ uid: 0, ok: true, statusCode: 200 });
    expect(results[5]).toHaveLength(1);
    expect(results[5][0]).toMatchObject({ uid: 1, ok: true, statusCode: 200 });
    // The call that was never sent is no evidence: five calls (decayed by the half-life), all answered.
    const reputation = await reputationOf(0);
    expect(reputation.calls).toBeCloseTo(5, 2);
    expect(reputation.answered).toBe(reputation.calls);
  });
});

/** A job whose limits exclude providers (its tenant's excludedProviders, or the client's): none of their sources is hired. */
describe('DispatcherService (excluded providers)', () => {
  const world = useSubnet('dispatcher-excluded-spec', [{ behaviour: 'good', incentive: 0.9 }]);

  const run = async (jobId: string, excludedProviders: string[]) => {
    const dispatcher = new DispatcherService(world.bus, config('off'));
    await dispatcher.onApplicationBootstrap();
    await putJob(world.bus, jobId, 'running', { excludedProviders });
    await dispatcher.dispatch(jobId, task('data'));
    await dispatcher.onModuleDestroy();
    await world.bus.nc.flush();
    return world.results.filter((r) => r.jobId === jobId).map((r) => r.payload);
  };

  it('hires nobody from an excluded provider, and says the job excludes it', async () => {
    const [result] = await run('job_no_axon', ['axon']);
    expect(result).toMatchObject({ uid: null, ok: false, statusCode: 0 });
    expect(result.statusMessage).toMatch(/^nobody to hire for data\.financials: the job excludes axon \(its limits\.excludedProviders/);
  });

  it('hires as usual when only other providers are excluded', async () => {
    const [result] = await run('job_no_chutes', ['chutes', 'desearch']);
    expect(result).toMatchObject({ uid: 0, ok: true, statusCode: 200 });
  });
});
