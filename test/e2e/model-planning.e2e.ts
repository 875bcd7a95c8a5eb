import { loadDocuments } from '@orchestra/devnet-providers';
import { ReportSchema, conformsToClientSchema, outputSchema } from '@orchestra/schemas';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit } from './helpers';

/** The filings shipped in fixtures/filings (AAPL FY2022 and FY2023, MSFT FY2023): figures are extracted from documents the client supplies. */
const DOCUMENTS = loadDocuments();
const ROWS = [
  { entity: 'AAPL', period: 'FY2022', metric: 'revenue', value: 394328, unit: 'USD_millions', source: 'AAPL 10-K FY2022' },
  { entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', source: 'AAPL 10-K FY2023' },
];

/**
 * Goals of different kinds, none of them the example, planned by a model (the devnet's fake
 * Chutes; the first model asked answers with cycles, so each plan is also a re-ask and a swap)
 * and run as separate processes on the devnet, its gateway twins included (figures, text and
 * code from the good Chutes model, posts from Constellation, results from Desearch, or the
 * subnets' miners): every step verified, the plan the model's, the result conforming to the
 * job's outputSchema. And a client's plan that fans out.
 */
describe('goals planned by a model, end to end (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      // The dispatcher hires only the good Chutes model; the planner asks the cyclic one first.
      gateways: true,
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000', ORCH_PLANNER_MODELS: 'devnet/cyclic-planner-llm,devnet/good-llm' },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const cases: Array<{ kind: string; body: Record<string, unknown>; capabilities: string[] }> = [
    {
      kind: 'figures from filings, analysis and chart code',
      body: {
        goal: 'Analyze the revenue and net income of AAPL and MSFT in these filings and write a Python script to chart them',
        inputs: { documents: DOCUMENTS },
      },
      capabilities: ['data.financials', 'text.analysis', 'code.python'],
    },
    {
      kind: 'sentiment of social posts',
      body: { goal: 'What is the sentiment of social posts about the Bittensor halving? Give an analysis.' },
      capabilities: ['data.social', 'text.analysis'],
    },
    {
      kind: 'an analysis of web results',
      body: { goal: 'Search the web for decentralized AI training and write an analysis citing the results' },
      capabilities: ['web.search', 'text.analysis'],
    },
    {
      kind: "a script over the client's data set",
      body: { goal: 'Write a Python script that computes the year-over-year growth in this data set and give an analysis of it', inputs: { rows: ROWS } },
      capabilities: ['text.analysis', 'code.python'],
    },
    {
      kind: 'figures only, in the shape the client asked for',
      body: {
        goal: 'List the net income stated in these filings',
        inputs: { documents: DOCUMENTS },
        outputSchema: {
          type: 'object',
          required: ['rows'],
          properties: { rows: { type: 'array', minItems: 2, items: { type: 'object', required: ['entity', 'value', 'quote'] } } },
        },
      },
      capabilities: ['data.financials'],
    },
  ];

  it.each(cases)(
    '$kind',
    async ({ body, capabilities }) => {
      const jobId = await submit(stack.api, { ...body, limits: { deadlineMs: 120_000 } });
      const events = await followEvents(stack.api, jobId);
      const job = await getJob(stack.api, jobId);
      expect([events.at(-1)?.event, job.status, job.error]).toEqual(['job.succeeded', 'succeeded', undefined]);
      expect(job.planSource).toBe('model');
      expect(job.rejectedPlans?.map((r) => r.by)).toEqual(['model:devnet/cyclic-planner-llm', 'model:devnet/cyclic-planner-llm']);
      expect(job.steps.map((s) => s.capability)).toEqual(capabilities);
      expect(job.steps.every((s) => s.status === 'verified')).toBe(true);
      const report = ReportSchema.parse(job.result);
      for (const p of report.provenance) expect(() => outputSchema(p.schemaId).parse(report.outputs[p.stepId])).not.toThrow();
      if (body.outputSchema) expect(conformsToClientSchema(body.outputSchema, report.output)).toEqual({ ok: true });
    },
    120_000,
  );

  it('fans a step out over a list and in again: one verified run per item, the dependant reading their outputs', async () => {
    const questions = ['Did AAPL revenue grow from FY2022 to FY2023?', 'How large was AAPL revenue in FY2023?'];
    const jobId = await submit(stack.api, {
      goal: 'Answer each question about these figures, then chart them',
      inputs: { rows: ROWS, questions },
      plan: [
        { id: 'answers', capability: 'text.analysis', forEach: { $ref: '/inputs/questions' }, input: { question: { $ref: '/item' }, rows: { $ref: '/inputs/rows' } } },
        { id: 'chart', capability: 'code.python', input: { task: 'Chart the revenue per year', rows: { $ref: '/inputs/rows' } }, deps: ['answers'] },
      ],
    });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    const job = await getJob(stack.api, jobId);
    expect(job.steps.map((s) => [s.id, s.status])).toEqual([
      ['answers', 'verified'],
      ['answers[0]', 'verified'],
      ['answers[1]', 'verified'],
      ['chart', 'verified'],
    ]);
    // The chart waited for every run. Compared with each run's last answer, which the dispatcher
    // publishes before the result the verifier judges: the verifier's own step.verified event is
    // another service's publish and may land after the planner has already dispatched the chart.
    const answeredAt = (stepId: string) => events.filter((e) => e.event === 'step.answered' && e.stepId === stepId).at(-1)?.seq ?? Infinity;
    const chartDispatched = events.find((e) => e.event === 'step.dispatched' && e.stepId === 'chart')?.seq ?? -1;
    expect(chartDispatched).toBeGreaterThan(Math.max(answeredAt('answers[0]'), answeredAt('answers[1]')));
    const report = ReportSchema.parse(job.result);
    expect(report.outputs.answers).toHaveLength(2);
    expect(report.provenance.map((p) => p.stepId)).toEqual(['answers[0]', 'answers[1]', 'chart']);
  }, 120_000);
});
