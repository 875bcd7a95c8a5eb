import { Buckets } from '@orchestra/contracts';
import { ApiUnderTest, IssuedKey, TEST_ADMIN_KEY, bearer, startApiUnderTest } from './api.fixture';
import { publishedCounts, writeJobRecord } from './job-record.fixture';
import { apiSettings } from './settings';
import { BUILT_IN_QUOTAS } from './tenants';

/**
 * Tenants' quotas against the real API over a real nats-server: 429 with Retry-After for
 * rate, concurrency and daily spend (reserved budgets of running jobs counted, so
 * concurrent submissions cannot overshoot), 422 naming the cap a job's limit exceeds, and
 * nothing published for a refused request.
 */

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
  expect([res.status, res.headers.get('content-type')]).toEqual([status, 'application/problem+json; charset=utf-8']);
  const problem = (await res.json()) as Problem;
  expect(problem).toMatchObject({ status, type: `https://orchestra.dev/problems/${kind}` });
  return problem;
}

describe('tenant quotas', () => {
  let api: ApiUnderTest;
  const admin = { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY) };

  beforeAll(async () => {
    api = await startApiUnderTest('api-quotas-spec', apiSettings({ ORCH_SPEND_PER_DAY_TAO: '1000' }));
  });
  afterAll(() => api?.close());

  const call = (path: string, init: RequestInit = {}) => fetch(`${api.base}${path}`, init);
  const setQuotas = async (tenant: string, quotas: unknown) => {
    const res = await call(`/v1/tenants/${tenant}`, { method: 'PUT', headers: admin, body: JSON.stringify(quotas) });
    expect(res.status).toBe(200);
    return res.json() as Promise<{ quotas: typeof BUILT_IN_QUOTAS; overrides: unknown }>;
  };
  const submit = (key: IssuedKey, body: unknown = { goal: 'g' }) =>
    call('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key.key) }, body: JSON.stringify(body) });
  const jobIdOf = async (res: Response) => ((await res.json()) as { jobId: string }).jobId;

  it('shows the defaults for a tenant nobody configured, and merges a PUT over what is set', async () => {
    const fresh = (await (await call('/v1/tenants/fresh', { headers: admin })).json()) as { quotas: unknown; overrides: unknown };
    expect(fresh).toEqual({ tenant: 'fresh', quotas: BUILT_IN_QUOTAS, overrides: {} });
    await setQuotas('fresh', { jobsPerMinute: 5, maxSpendPerJob: { tao: 2 } });
    const merged = await setQuotas('fresh', { concurrentJobs: 3, excludedProviders: ['axon'] });
    expect(merged.quotas).toEqual({ ...BUILT_IN_QUOTAS, jobsPerMinute: 5, concurrentJobs: 3, maxSpendPerJob: { tao: 2 }, excludedProviders: ['axon'] });
    expect(merged.overrides).toEqual({ jobsPerMinute: 5, concurrentJobs: 3, maxSpendPerJob: { tao: 2 }, excludedProviders: ['axon'] });
    const bad = await call('/v1/tenants/fresh', { method: 'PUT', headers: admin, body: JSON.stringify({ jobsPerMinute: -1, excludedProviders: ['nowhere'], unknown: 1 }) });
    expect((await expectProblem(bad, 400, 'validation-error')).errors?.map((e) => e.pointer).sort()).toEqual(['/excludedProviders/0', '/jobsPerMinute', '/unknown']);
  });

  it('429 rate-limited with Retry-After past jobsPerMinute, publishing nothing', async () => {
    await setQuotas('rated', { jobsPerMinute: 2 });
    const key = await api.issueKey('rated');
    expect((await submit(key)).status).toBe(202);
    expect((await submit(key)).status).toBe(202);
    const before = await publishedCounts(api.bus);
    const refused = await submit(key);
    const problem = await expectProblem(refused, 429, 'rate-limited');
    expect(problem.detail).toMatch(/2 jobs per minute/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await publishedCounts(api.bus)).toEqual(before);
  });

  it('429 too-many-concurrent-jobs while concurrentJobs run; a finished job frees its slot', async () => {
    await setQuotas('busy', { concurrentJobs: 2 });
    const key = await api.issueKey('busy');
    const first = await jobIdOf(await submit(key));
    await jobIdOf(await submit(key));
    const refused = await submit(key);
    await expectProblem(refused, 429, 'too-many-concurrent-jobs');
    expect(refused.headers.get('retry-after')).toBe('5');
    await writeJobRecord(api.bus, { jobId: first, tenant: 'busy', status: 'succeeded', spentTao: 0.01 });
    expect((await submit(key)).status).toBe(202);
  });

  it('422 naming the limit a job asks beyond the tenant cap; an unset budget defaults within the cap', async () => {
    await setQuotas('capped', { maxSpendPerJob: { tao: 0.5 }, spendPerDay: { tao: 4 } });
    const key = await api.issueKey('capped');
    const before = await publishedCounts(api.bus);
    const perJob = await expectProblem(await submit(key, { goal: 'g', limits: { maxTao: 1_000_000 } }), 422, 'limit-exceeds-cap');
    expect(perJob.errors).toEqual([{ pointer: '/limits/maxTao', detail: "1000000 exceeds the tenant's maxSpendPerJob.tao of 0.5" }]);
    expect(perJob.detail).toMatch(/\/limits\/maxTao/);
    expect(await publishedCounts(api.bus)).toEqual(before);

    const accepted = await jobIdOf(await submit(key, { goal: 'no budget given' }));
    expect((await (await api.bus.kv(Buckets.submissions)).get(accepted))?.json()).toMatchObject({ limits: { maxTao: 0.5 } });
  });

  it("puts the tenant's excludedProviders, joined with the client's, in each job's limits (the dispatcher reads them there)", async () => {
    await setQuotas('picky', { excludedProviders: ['desearch'] });
    const key = await api.issueKey('picky');
    const specOf = async (res: Response) => (await (await api.bus.kv(Buckets.submissions)).get(await jobIdOf(res)))?.json() as { limits: Record<string, unknown> };
    expect((await specOf(await submit(key))).limits.excludedProviders).toEqual(['desearch']);
    expect((await specOf(await submit(key, { goal: 'g', limits: { excludedProviders: ['axon', 'desearch'] } }))).limits.excludedProviders).toEqual(['axon', 'desearch']);
    // A tenant that excludes nothing: the record has no such field.
    expect((await specOf(await submit(await api.issueKey('open')))).limits).not.toHaveProperty('excludedProviders');
  });

  it('counts budgets reserved by running jobs against the daily cap: concurrent submissions cannot overshoot it', async () => {
    await setQuotas('daily', { spendPerDay: { tao: 3 }, concurrentJobs: 100, jobsPerMinute: 100 });
    const key = await api.issueKey('daily');
    const results = await Promise.all(Array.from({ length: 8 }, () => submit(key, { goal: 'spend', limits: { maxTao: 1 } })));
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 429);
    expect([accepted.length, refused.length]).toEqual([3, 5]);
    for (const res of refused) {
      expect((await expectProblem(res, 429, 'daily-spend-exhausted')).detail).toMatch(/spent or reserved 3 of its 3 TAO/);
      // Running jobs hold the budget: room comes back as they finish.
      expect(res.headers.get('retry-after')).toBe('5');
    }
    const usage = async () =>
      (await (await call('/v1/usage', { headers: bearer(key.key) })).json()) as {
        running: number;
        days: Array<{ jobs: number; spent: { tao: number }; reserved: { tao: number } }>;
      };
    expect(await usage()).toMatchObject({ tenant: 'daily', running: 3, days: [{ jobs: 3, spent: { tao: 0 }, reserved: { tao: 3 } }] });

    // One job ends having spent a quarter of its budget: the rest of its reservation is released.
    const [done] = await Promise.all(accepted.map(jobIdOf));
    await writeJobRecord(api.bus, { jobId: done, tenant: 'daily', status: 'failed', spentTao: 0.25 });
    expect(await usage()).toMatchObject({ running: 2, days: [{ jobs: 3, spent: { tao: 0.25 }, reserved: { tao: 2 } }] });
    await expectProblem(await submit(key, { goal: 'too much', limits: { maxTao: 1 } }), 429, 'daily-spend-exhausted');
    expect((await submit(key, { goal: 'fits', limits: { maxTao: 0.75 } })).status).toBe(202);
  });

  it('a budget that can never fit the daily cap is 422, not 429', async () => {
    await setQuotas('small', { maxSpendPerJob: { tao: 5 }, spendPerDay: { tao: 2 } });
    const key = await api.issueKey('small');
    const problem = await expectProblem(await submit(key, { goal: 'g', limits: { maxTao: 3 } }), 422, 'limit-exceeds-cap');
    expect(problem.errors?.[0].detail).toBe("3 exceeds the tenant's spendPerDay.tao of 2");
  });

  it('a dry run reserves no budget and holds no running slot (nothing to settle), but counts against the submission rate', async () => {
    await setQuotas('dry', { spendPerDay: { tao: 1 }, concurrentJobs: 1, jobsPerMinute: 3 });
    const key = await api.issueKey('dry');
    // A real job holds the whole day's spend and the only running slot.
    expect((await submit(key, { goal: 'spend it all', limits: { maxTao: 1 } })).status).toBe(202);
    await expectProblem(await submit(key, { goal: 'no room', limits: { maxTao: 1 } }), 429, 'too-many-concurrent-jobs');
    // Dry runs of the same budget still go through: they hire nobody.
    const dry = { goal: 'what would it cost?', dryRun: true, limits: { maxTao: 1 } };
    const dryRun = await submit(key, dry);
    expect(dryRun.status).toBe(202);
    expect((await (await api.bus.kv(Buckets.submissions)).get(await jobIdOf(dryRun)))?.json()).toMatchObject({ dryRun: true, limits: { maxTao: 1 } });
    const usage = (await (await call('/v1/usage', { headers: bearer(key.key) })).json()) as unknown;
    expect(usage).toMatchObject({ running: 1, days: [{ jobs: 2, spent: { tao: 0 }, reserved: { tao: 1 } }] });
    // The rate counts every submission it admits: the fourth in a minute (the refused one above counts nothing) is refused.
    expect((await submit(key, dry)).status).toBe(202);
    await expectProblem(await submit(key, dry), 429, 'rate-limited');
  });

  it('an idempotent replay takes no quota', async () => {
    await setQuotas('replayer', { jobsPerMinute: 1 });
    const key = await api.issueKey('replayer');
    const once = { 'content-type': 'application/json', ...bearer(key.key), 'idempotency-key': 'only-once' };
    const first = await call('/v1/jobs', { method: 'POST', headers: once, body: JSON.stringify({ goal: 'g' }) });
    expect(first.status).toBe(202);
    const again = await call('/v1/jobs', { method: 'POST', headers: once, body: JSON.stringify({ goal: 'g' }) });
    expect(again.status).toBe(200);
    await expectProblem(await submit(key), 429, 'rate-limited');
  });
});

describe('the deployment ceiling', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApiUnderTest('api-ceiling-spec', apiSettings({ ORCH_SPEND_PER_DAY_TAO: '2.5' }));
  });
  afterAll(() => api?.close());

  it('caps the spend of all tenants together per day (429), and a budget above it is 422', async () => {
    const [a, b] = await Promise.all([api.issueKey('tenant-a'), api.issueKey('tenant-b')]);
    const submit = (key: IssuedKey, maxTao: number) =>
      fetch(`${api.base}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key.key) },
        body: JSON.stringify({ goal: 'g', limits: { maxTao } }),
      });
    const results = await Promise.all([submit(a, 1), submit(b, 1), submit(a, 1), submit(b, 1)]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 202, 429, 429]);
    for (const res of results.filter((r) => r.status === 429)) await expectProblem(res, 429, 'deployment-spend-exhausted');
    // The refused submissions gave their tenant reservations back.
    const usage = (await (await fetch(`${api.base}/v1/usage`, { headers: bearer(a.key) })).json()) as { running: number };
    const usageB = (await (await fetch(`${api.base}/v1/usage`, { headers: bearer(b.key) })).json()) as { running: number };
    expect(usage.running + usageB.running).toBe(2);
    expect((await submit(a, 0.5)).status).toBe(202);
    const tooBig = await expectProblem(await submit(b, 3), 422, 'limit-exceeds-cap');
    expect(tooBig.errors?.[0].detail).toBe("3 exceeds the deployment's daily spend ceiling (tao) of 2.5");
  });

  it("settles every tenant's finished jobs before the ceiling refuses anyone", async () => {
    const [quiet, busy] = await Promise.all([api.issueKey('quiet'), api.issueKey('busy')]);
    const submit = (key: IssuedKey, maxTao: number) =>
      fetch(`${api.base}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key.key) },
        body: JSON.stringify({ goal: 'g', limits: { maxTao } }),
      });
    // The jobs the last test left running end; their tenants send nothing more.
    for (const tenant of ['tenant-a', 'tenant-b']) {
      const page = (await (await fetch(`${api.base}/v1/jobs?tenant=${tenant}`, { headers: bearer(TEST_ADMIN_KEY) })).json()) as { jobs: Array<{ jobId: string }> };
      for (const { jobId } of page.jobs) await writeJobRecord(api.bus, { jobId, tenant, status: 'succeeded', spentTao: 0 });
    }
    // The ledger still holds their 2.5 TAO of reservations: only a sweep of every tenant frees them.
    const held = await submit(quiet, 2);
    expect(held.status).toBe(202);
    const { jobId } = (await held.json()) as { jobId: string };
    await writeJobRecord(api.bus, { jobId, tenant: 'quiet', status: 'succeeded', spentTao: 0.1 });
    // Only `quiet` could settle its job, and it sends nothing more: the ceiling settles it.
    expect((await submit(busy, 2)).status).toBe(202);
  });
});
