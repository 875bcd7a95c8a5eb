import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { FinancialRow } from '@orchestra/schemas';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit } from './helpers';

/**
 * A colluding pair on top of SN13's ranking: two UIDs of one coldkey returning the same
 * schema-valid, complete, wrong figures. A single-answer step would take their answer;
 * a 2-of-n quorum step counts them once, hires honest miners, and outvotes the ring.
 */
describe('quorum against a colluding Sybil pair (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      devnetConfig: join(__dirname, 'fixtures', 'sybil-devnet.json'),
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000', ORCH_NETUIDS: '13' },
    });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  const request = { entities: ['AAPL', 'MSFT'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] };

  it('verifies the honest figures and records the colluders as outvoted', async () => {
    const jobId = await submit(stack.api, {
      goal: 'fetch reported revenue, cross-checked',
      plan: [{ id: 'data', capability: 'data.financials', input: request, maxAttempts: 4, quorum: { agree: 2, checker: 'same-rows' } }],
    });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    expect(events.find((e) => e.event === 'step.quorum')?.message).toMatch(/2 answers agree \(uid 3, uid 4, same-rows\); outvoted: uid 1, uid 2/);

    const job = await getJob(stack.api, jobId);
    const step = job.steps[0];
    expect(step.attempts.map((a) => [a.uid, a.status])).toEqual([
      [1, 'outvoted'],
      [2, 'outvoted'],
      [3, 'verified'],
      [4, 'verified'],
    ]);
    // The reported 10-K figures, not the ring's inflated ones.
    const rows = (step.output as { rows: FinancialRow[] }).rows;
    expect(rows.find((r) => r.entity === 'AAPL' && r.period === 'FY2023')?.value).toBe(383285);
  }, 90_000);

  it('without a quorum, the same ring would have been believed', async () => {
    const jobId = await submit(stack.api, { goal: 'fetch reported revenue', plan: [{ id: 'data', capability: 'data.financials', input: request }] });
    await followEvents(stack.api, jobId);
    const rows = ((await getJob(stack.api, jobId)).steps[0].output as { rows: FinancialRow[] }).rows;
    expect(rows.find((r) => r.entity === 'AAPL' && r.period === 'FY2023')?.value).not.toBe(383285);
  }, 90_000);
});
