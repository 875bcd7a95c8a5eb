import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authed, followEvents, getJob, submit } from './helpers';

/** Cancelling a job whose miner is still working: the hire is aborted and the job ends at once. */
describe('cancellation (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      devnetConfig: join(__dirname, 'fixtures', 'slow-devnet.json'),
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '15000', ORCH_HEDGE: 'data.financials:off', ORCH_NETUIDS: '13' },
    });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  it('aborts the in-flight hire and ends the job cancelled, long before the miner would answer', async () => {
    const jobId = await submit(stack.api, {
      goal: 'fetch reported revenue',
      plan: [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] } }],
    });
    const following = followEvents(stack.api, jobId);
    // Wait until the miner is hired, then cancel.
    for (let i = 0; i < 50 && (await getJob(stack.api, jobId).catch(() => undefined))?.status !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    const res = await fetch(`${stack.api.url}/v1/jobs/${jobId}/cancel`, {
      method: 'POST',
      headers: authed(stack.api, { 'content-type': 'application/json' }),
      body: JSON.stringify({ reason: 'no longer needed' }),
    });
    expect(res.status).toBe(202);

    const events = await following;
    expect(events.at(-1)).toMatchObject({ event: 'job.cancelled', message: 'no longer needed' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(events.some((e) => e.event === 'step.answered')).toBe(false);
    const job = await getJob(stack.api, jobId);
    expect(job).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    // The dispatcher cut the miner call off rather than waiting for it.
    const aborted = async () =>
      /dispatcher_dropped_tasks_total\{reason="cancelled"[^}]*\} 1\b/.test(await (await fetch(`http://127.0.0.1:${stack.opsPorts.dispatcher}/metrics`)).text());
    for (let i = 0; i < 20 && !(await aborted()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await aborted()).toBe(true);
  }, 60_000);
});
