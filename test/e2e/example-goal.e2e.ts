import { exampleInputs } from '@orchestra/devnet-providers';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { ReportSchema, outputSchema } from '@orchestra/schemas';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authed, followEvents, getJob, submit } from './helpers';

const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';
const RATE = 400;

/**
 * Issue 10's example as `npm start` runs it: the whole system as separate processes —
 * nats-server, the devnet (fake subtensor, simulated miners and the gateway twins) and the five
 * services — driven over HTTP like a client would, with the filings of fixtures/filings as the
 * client's inputs. The figures are extracted by the fake Chutes (SN64), the posts bought on SN13
 * (Constellation's twin first), the news on SN22 (Desearch's twin first), the analysis cites
 * them, the script charts the figures; every step verified, each priced in USD and TAO.
 */
describe('example goal end to end (separate processes, gateways on)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      gateways: true,
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000', ORCH_TAO_USD_RATE: String(RATE) },
    });
  }, 120_000);

  afterAll(async () => {
    const codes = await stack?.stop();
    // Every service drains and exits 0 on SIGTERM.
    if (codes) for (const name of ['api', 'planner', 'dispatcher', 'verifier', 'metagraph-sync']) expect([name, codes[name]]).toEqual([name, 0]);
  }, 60_000);

  it('buys figures from the LLM gateway, posts on SN13 and news on SN22, verifies every step and prices each in USD and TAO', async () => {
    const inputs = exampleInputs();
    const jobId = await submit(stack.api, { goal: GOAL, inputs });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));

    const job = await getJob(stack.api, jobId);
    expect(job.status).toBe('succeeded');
    expect(job.steps.map((s) => [s.id, s.capability, s.status]).sort()).toEqual(
      [
        ['analysis', 'text.analysis', 'verified'],
        ['code', 'code.python', 'verified'],
        ['figures', 'data.financials', 'verified'],
        ['news', 'web.search', 'verified'],
        ['social', 'data.social', 'verified'],
      ].sort(),
    );

    const report = ReportSchema.parse(job.result);
    const by = new Map(report.provenance.map((p) => [p.stepId, p]));
    // Where each step was bought: the LLM gateway for figures, SN13 for posts, SN22 for news.
    expect(by.get('figures')).toMatchObject({ provider: 'chutes', netuid: 64, schemaId: 'data.financials@2' });
    expect(by.get('social')).toMatchObject({ netuid: 13, schemaId: 'data.social@1' });
    expect(['constellation', 'axon']).toContain(by.get('social')?.provider);
    expect(by.get('news')).toMatchObject({ netuid: 22, schemaId: 'web.search@1' });
    expect(['desearch', 'axon']).toContain(by.get('news')?.provider);
    expect(by.get('analysis')).toMatchObject({ schemaId: 'text.analysis@2' });
    expect(by.get('code')).toMatchObject({ schemaId: 'code.python@1' });

    // Every step verified against its schema, and priced in both units at the deployment's rate.
    expect([...by.keys()].sort()).toEqual(['analysis', 'code', 'figures', 'news', 'social']);
    for (const p of report.provenance) {
      expect(() => outputSchema(p.schemaId).parse(report.outputs[p.stepId])).not.toThrow();
      expect(p.costUsd).toBeGreaterThan(0);
      expect(p.costTao).toBeCloseTo((p.costUsd as number) / RATE, 12);
    }
    expect(report.spend.totalUsd).toBeGreaterThan(0);
    expect(report.spend.totalTao).toBeGreaterThan(0);

    // The figures quote the client's filings; the analysis cites figures, posts and news.
    const documents = new Map((inputs.documents as Array<{ id: string; text: string }>).map((d) => [d.id, d.text]));
    const figures = report.outputs.figures as { rows: Array<{ entity: string; documentId: string; quote: string }> };
    expect(new Set(figures.rows.map((r) => r.entity))).toEqual(new Set(['AAPL', 'MSFT']));
    const spaced = (text = '') => text.replace(/\s+/g, ' ');
    for (const row of figures.rows) expect(spaced(documents.get(row.documentId))).toContain(spaced(row.quote));
    const analysis = report.outputs.analysis as { findings: Array<{ citations: Array<{ item: string }> }> };
    const cited = new Set(analysis.findings.flatMap((f) => f.citations.map((c) => c.item)));
    expect([...cited].sort()).toEqual(['posts', 'results', 'rows']);
  }, 180_000);

  it("with the search gateways excluded (the job's limits.excludedProviders), buys the posts from SN13's axons and the news from SN22's", async () => {
    const jobId = await submit(stack.api, { goal: GOAL, inputs: exampleInputs(), limits: { excludedProviders: ['constellation', 'desearch'] } });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    const job = await getJob(stack.api, jobId);
    const attempts = job.steps.flatMap((s) => s.attempts);
    expect(attempts.filter((a) => a.provider === 'constellation' || a.provider === 'desearch')).toEqual([]);
    const report = ReportSchema.parse(job.result);
    const by = new Map(report.provenance.map((p) => [p.stepId, p]));
    expect(by.get('social')).toMatchObject({ provider: 'axon', netuid: 13, schemaId: 'data.social@1' });
    expect(by.get('news')).toMatchObject({ provider: 'axon', netuid: 22, schemaId: 'web.search@1' });
    for (const p of report.provenance) expect(p.costTao).toBeGreaterThan(0);
  }, 120_000);

  it('without filings (npm start -- --goal), fetches the figures from SN13 miners, swapping the broken top-ranked UID', async () => {
    const jobId = await submit(stack.api, { goal: GOAL });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    // The figures' first hire (uid 1, the top-ranked and broken miner) was rejected and swapped.
    const rejected = events.filter((e) => e.event === 'step.rejected' && e.stepId === 'data');
    expect(rejected[0]).toMatchObject({ attempt: 1, uid: 1 });
    expect(events.some((e) => e.event === 'step.retrying' && e.stepId === 'data')).toBe(true);

    const job = await getJob(stack.api, jobId);
    const data = job.steps.find((s) => s.id === 'data');
    expect(data?.attempts[0]).toMatchObject({ status: 'rejected', uid: 1, provider: 'axon', netuid: 13 });
    // Only miners were hired on SN13: the devnet's validators (UID 0, //Alice, and the UIDs after the six miners) hold permits and big stakes.
    expect(data?.attempts.every((a) => a.uid !== undefined && a.uid >= 1 && a.uid <= 6)).toBe(true);
    const report = ReportSchema.parse(job.result);
    expect(report.provenance.find((p) => p.stepId === 'data')).toMatchObject({ provider: 'axon', netuid: 13, schemaId: 'data.financials@1' });
    expect(new Set((report.outputs.data as { rows: Array<{ entity: string }> }).rows.map((r) => r.entity))).toEqual(new Set(['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA']));
  }, 120_000);

  it('answers an invalid body with 400 problem+json naming the field', async () => {
    const res = await fetch(`${stack.api.url}/v1/jobs`, { method: 'POST', headers: authed(stack.api, { 'content-type': 'application/json' }), body: JSON.stringify({ goal: 42 }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(await res.json())).toMatch(/goal/);
  });
});
