import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { ReportSchema, outputSchema } from '@orchestra/schemas';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authed, followEvents, getJob, submit } from './helpers';

const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';

/**
 * The whole system as separate processes — nats-server, the devnet (fake subtensor +
 * simulated miners) and the five services — driven over HTTP like a client would.
 * In the default devnet config the top-ranked UID of every subnet is broken.
 */
describe('example goal end to end (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({ ports: 'auto', logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')), serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000' } });
  }, 120_000);

  afterAll(async () => {
    const codes = await stack?.stop();
    // Every service drains and exits 0 on SIGTERM.
    if (codes) for (const name of ['api', 'planner', 'dispatcher', 'verifier', 'metagraph-sync']) expect([name, codes[name]]).toEqual([name, 0]);
  }, 60_000);

  it('swaps the broken top-ranked UIDs and returns a verified report', async () => {
    const jobId = await submit(stack.api, { goal: GOAL });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));

    // Each step's first hire (uid 1, the top-ranked and broken miner) was rejected and swapped.
    for (const stepId of ['data', 'analysis', 'code']) {
      const rejected = events.filter((e) => e.event === 'step.rejected' && e.stepId === stepId);
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      expect(rejected[0]).toMatchObject({ attempt: 1, uid: 1 });
      expect(events.some((e) => e.event === 'step.retrying' && e.stepId === stepId)).toBe(true);
    }

    const job = await getJob(stack.api, jobId);
    expect(job.status).toBe('succeeded');
    // Only miners were hired: the devnet's validators (UID 0, //Alice, and the UIDs after the
    // six miners of each subnet) hold permits, big stakes and served axons.
    const hired = job.steps.flatMap((s) => s.attempts.map((a) => a.uid));
    expect(hired.length).toBeGreaterThan(0);
    expect(hired.filter((uid) => uid === undefined || uid < 1 || uid > 6)).toEqual([]);
    const report = ReportSchema.parse(job.result);
    for (const p of report.provenance) {
      expect(p.uid).not.toBe(1);
      expect(() => outputSchema(p.schemaId).parse(report.outputs[p.stepId])).not.toThrow();
    }
    const data = report.outputs.data as { rows: Array<{ entity: string }> };
    expect(new Set(data.rows.map((r) => r.entity))).toEqual(new Set(['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA']));
    expect(job.steps.find((s) => s.id === 'data')?.attempts[0]).toMatchObject({ status: 'rejected', uid: 1 });
    expect(report.spend.totalTao).toBeGreaterThan(0);
  }, 90_000);

  it('answers an invalid body with 400 problem+json naming the field', async () => {
    const res = await fetch(`${stack.api.url}/v1/jobs`, { method: 'POST', headers: authed(stack.api, { 'content-type': 'application/json' }), body: JSON.stringify({ goal: 42 }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(await res.json())).toMatch(/goal/);
  });
});
