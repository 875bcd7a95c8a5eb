import { ReportSchema } from '@orchestra/schemas';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit } from './helpers';

const RATE = 400;
const PLAN = [
  { id: 'data', capability: 'data.financials', input: { entities: ['AAPL', 'MSFT'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] }, deps: [] },
  { id: 'analysis', capability: 'text.analysis', input: { question: 'How did revenue change?', rows: { $ref: '/steps/data/output/rows' } }, deps: ['data'] },
  { id: 'code', capability: 'code.python', input: { task: 'Plot revenue per company and year', rows: { $ref: '/steps/data/output/rows' } }, deps: ['data'] },
];

/**
 * The five services as processes with the devnet's gateway twins: text and code are bought
 * from the fake Chutes (the cheaper garbage model first, then the good one, whose answers are
 * verified), data from SN13's miners. Every attempt, event and the report name provider, source, subnet and cost in USD and TAO.
 */
describe('gateway providers end to end (Chutes twin, separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-gateways-')),
      gateways: true,
      chutesModels: ['devnet/garbage-llm', 'devnet/good-llm'],
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000', ORCH_HEDGE: 'text.analysis:off,code.python:off', ORCH_TAO_USD_RATE: String(RATE) },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('buys text and code from Chutes models, swapping the garbage one, and accounts every call in USD and TAO', async () => {
    const jobId = await submit(stack.api, { goal: 'Chart revenue', plan: PLAN, limits: { maxAttemptsPerStep: 6, maxUsd: 5 } });
    const events = await followEvents(stack.api, jobId);
    const job = await getJob(stack.api, jobId);
    expect(job.status).toBe('succeeded');

    const data = job.steps.find((s) => s.id === 'data');
    expect(data?.attempts.every((a) => a.provider === 'axon' && a.source === `uid${a.uid}` && a.netuid === 13)).toBe(true);

    for (const stepId of ['analysis', 'code']) {
      const step = job.steps.find((s) => s.id === stepId);
      const [garbage, good, ...rest] = step?.attempts ?? [];
      // The cheaper model first: its garbage is that model's failure, paid nothing.
      expect(garbage).toMatchObject({ provider: 'chutes', source: 'devnet/garbage-llm', netuid: 64, status: 'rejected', rejectedAs: 'miner_error', costUsd: 0 });
      expect(garbage.uid).toBeUndefined();
      // The re-ask went to the next-best model, which answered and was paid in USD (and TAO at the rate).
      expect(good).toMatchObject({ provider: 'chutes', source: 'devnet/good-llm', netuid: 64 });
      expect(good.costUsd).toBeGreaterThan(0);
      expect(good.costTao).toBeCloseTo((good.costUsd as number) / RATE, 12);
      // The devnet's LLM reads Orchestra's prompts, so the good model's answer is verified: the step never reaches the miners.
      expect(good).toMatchObject({ status: 'verified' });
      expect(rest).toEqual([]);
      for (const a of step?.attempts ?? []) {
        expect(a).toEqual(
          expect.objectContaining({
            provider: expect.any(String),
            source: expect.any(String),
            netuid: expect.any(Number),
            costUsd: expect.any(Number),
            costTao: expect.any(Number),
          }),
        );
      }
    }

    // Events name provider and source; the tenant's view of them carries no miner address.
    const hired = events.filter((e) => e.event === 'step.hired' && e.stepId === 'analysis');
    expect(hired[0]).toMatchObject({ provider: 'chutes', source: 'devnet/garbage-llm' });
    expect(hired[1]).toMatchObject({ provider: 'chutes', source: 'devnet/good-llm' });
    const answered = events.find((e) => e.event === 'step.answered' && e.stepId === 'analysis' && e.source === 'devnet/good-llm');
    expect(answered?.data).toMatchObject({ netuid: 64, costUsd: expect.any(Number), costTao: expect.any(Number) });
    expect(JSON.stringify(events)).not.toMatch(/127\.0\.0\.1:\d+/);

    // Spend and the report, in both units.
    const attempts = job.steps.flatMap((s) => s.attempts);
    const usd = attempts.reduce((n, a) => n + (a.costUsd ?? 0), 0);
    expect(job.spend.totalUsd).toBeCloseTo(usd, 12);
    expect(job.spend.totalUsd).toBeGreaterThan(0);
    const report = ReportSchema.parse(job.result);
    expect(report.spend).toMatchObject({ budgetUsd: 5, totalUsd: job.spend.totalUsd });
    for (const p of report.provenance) expect(p).toEqual(expect.objectContaining({ provider: expect.any(String), source: expect.any(String), costUsd: expect.any(Number) }));
  }, 120_000);
});
