import { JobSpec } from '@orchestra/contracts';
import { FakeServer, answerPlanningRequest, loadDocuments, startFakeChutes } from '@orchestra/devnet-providers';
import { ChutesProvider } from '@orchestra/providers';
import { readPlanningRequest } from '@orchestra/schemas';
import { startJob } from './job-machine';
import { ModelPlanner, PLANNING_CAPABILITY, planningPrompt } from './model-planner';
import { checkPlan } from './plan-checks';

const KEY = 'cpk_planner_test';
const t0 = new Date('2026-01-01T00:00:00.000Z');
/** The filings shipped in fixtures/filings: data.financials@2 extracts figures from documents the client supplies. */
const documents = loadDocuments();

const job = (overrides: Partial<JobSpec> = {}): JobSpec => ({
  jobId: 'job_m',
  tenant: 'default',
  goal: 'Analyze the revenue of AAPL and MSFT in FY2022 and FY2023 and write a Python script to chart it',
  inputs: { documents },
  limits: { maxTao: 1, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 32 },
  submittedAt: t0.toISOString(),
  ...overrides,
});

/**
 * Model planning against the devnet's fake Chutes over real HTTP: the good model plans from the
 * catalog it reads in the prompt; the faulty ones return plans broken one way each, which the
 * checks catch; the planner re-asks, swaps models, and falls back to a playbook, saying which.
 */
describe('model planning against the fake Chutes', () => {
  let fake: FakeServer;
  const planner = (models: string[], reasks = 1) =>
    new ModelPlanner({ provider: new ChutesProvider({ apiKey: KEY, baseUrl: fake.url, capabilities: [PLANNING_CAPABILITY], stream: false }), models, timeoutMs: 5_000, reasks });
  const asked = () => fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => (JSON.parse(r.body) as { model: string }).model);

  beforeAll(async () => {
    fake = await startFakeChutes({ apiKeys: [KEY] });
  });
  afterAll(() => fake.stop());

  it('takes a valid plan from a good model, built from the catalog for this goal', async () => {
    const outcome = await planner(['devnet/good-llm']).plan(job());
    expect(outcome).toMatchObject({ ok: true, source: 'model', rejected: [] });
    if (!outcome.ok) return;
    expect(outcome.plan.map((s) => [s.id, s.capability, s.deps])).toEqual([
      ['financials', 'data.financials', []],
      ['analysis', 'text.analysis', ['financials']],
      ['python', 'code.python', ['financials']],
    ]);
    expect(outcome.plan[0].input).toEqual({ documents: { $ref: '/inputs/documents' } });
    expect(outcome.plan[1].input).toEqual({ question: job().goal, rows: { $ref: '/steps/financials/output/rows' } });
    // And the job runs it, saying where it came from.
    expect(startJob(job(), t0, outcome).state).toMatchObject({ status: 'running', planSource: 'model' });
  });

  it("plans a non-financial goal on the client's data set from the client's inputs", async () => {
    const rows = [{ entity: 'ACME', period: 'FY2023', metric: 'revenue', value: 1, unit: 'USD_millions', source: 'ACME 10-K' }];
    const goal = 'Write a Python script that computes the median value in this data set and give an analysis of it';
    const outcome = await planner(['devnet/good-llm']).plan(job({ goal, inputs: { rows } }));
    expect(outcome.ok && outcome.plan.map((s) => [s.capability, s.input])).toEqual([
      ['text.analysis', { question: goal, rows: { $ref: '/inputs/rows' } }],
      ['code.python', { task: goal, rows: { $ref: '/inputs/rows' } }],
    ]);
  });

  it.each([
    ['social posts', 'What is the sentiment of social posts about the Bittensor halving? Give an analysis.', 'data.social', 'posts'],
    ['web results', 'Search the web for decentralized AI training and write an analysis citing the results', 'web.search', 'results'],
  ])('plans a goal on %s: bought first, then analysed citing them', async (_kind, goal, capability, list) => {
    const outcome = await planner(['devnet/good-llm']).plan(job({ goal, inputs: {} }));
    expect(outcome).toMatchObject({ ok: true, source: 'model', rejected: [] });
    if (!outcome.ok) return;
    const [source, analysis] = outcome.plan;
    expect(outcome.plan.map((s) => [s.capability, s.deps])).toEqual([
      [capability, []],
      ['text.analysis', [source.id]],
    ]);
    expect(analysis.input).toEqual({ question: goal, [list]: { $ref: `/steps/${source.id}/output/${list}` } });
  });

  it.each([
    ['devnet/cyclic-planner-llm', /the plan has a cycle: /],
    ['devnet/unknown-capability-planner-llm', /unknown capability "data.telepathy"/],
    ['devnet/dangling-ref-planner-llm', /reads \/steps\/financials\/output\/nothing_here: in the output of "financials" \(data.financials\): "nothing_here" is not in the output/],
    ['devnet/over-budget-planner-llm', /over the job's budget of 1 TAO/],
    ['devnet/prose-planner-llm', /the answer holds no JSON plan/],
  ])('re-asks %s with the reasons, then takes the next model', async (bad, reason) => {
    const before = fake.requests.length;
    const outcome = await planner([bad, 'devnet/good-llm']).plan(job());
    expect(outcome).toMatchObject({
      ok: true,
      source: 'model',
      rejected: [
        { by: `model:${bad}`, reasons: expect.arrayContaining([expect.stringMatching(reason)]) },
        { by: `model:${bad}`, reasons: expect.arrayContaining([expect.stringMatching(reason)]) },
      ],
    });
    expect(asked().slice(-3)).toEqual([bad, bad, 'devnet/good-llm']);
    // The re-ask carried the reasons back to the model.
    const reask = fake.requests.slice(before).filter((r) => r.path === '/v1/chat/completions')[1];
    const request = readPlanningRequest((JSON.parse(reask.body) as { messages: Array<{ role: string; content: string }> }).messages);
    expect(request?.feedback).toEqual(expect.arrayContaining([expect.stringMatching(reason)]));
  });

  it('falls back to the best playbook when no model gives a valid plan (or none answers), recording every rejected plan', async () => {
    const outcome = await planner(['devnet/cyclic-planner-llm', 'devnet/down-llm'], 0).plan(job());
    expect(outcome).toMatchObject({
      ok: true,
      source: 'playbook',
      rejected: [
        { by: 'model:devnet/cyclic-planner-llm', reasons: [expect.stringMatching(/cycle/)] },
        { by: 'model:devnet/down-llm', reasons: [expect.stringMatching(/the model could not be asked: .*503|unavailable/i)] },
      ],
    });
    expect(outcome.ok && outcome.plan.map((s) => s.id)).toEqual(['figures', 'analysis', 'code']);
    const state = startJob(job(), t0, outcome).state;
    expect(state).toMatchObject({ planSource: 'playbook', rejectedPlans: [{ by: 'model:devnet/cyclic-planner-llm' }, { by: 'model:devnet/down-llm' }] });
  });

  it.each([
    ['What do people on reddit say about the Bittensor halving?', 'social-sentiment', ['posts', 'analysis']],
    ['Write a research brief with sources on decentralized AI training', 'research-brief', ['search', 'brief']],
  ])('falls back for the non-financial goal "%s" to the %s playbook', async (goal, _playbook, ids) => {
    const outcome = await planner(['devnet/prose-planner-llm'], 0).plan(job({ goal, inputs: {} }));
    expect(outcome).toMatchObject({ ok: true, source: 'playbook', rejected: [{ by: 'model:devnet/prose-planner-llm' }] });
    expect(outcome.ok && outcome.plan.map((s) => s.id)).toEqual(ids);
  });

  it('fails the job naming every rejected plan when neither a model nor a playbook fits', async () => {
    const outcome = await planner(['devnet/prose-planner-llm'], 0).plan(job({ goal: 'Compose a sonnet' }));
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringMatching(/no valid plan for this goal: .*model:devnet\/prose-planner-llm: the answer holds no JSON plan/) });
    expect(startJob(job({ goal: 'Compose a sonnet' }), t0, outcome).state).toMatchObject({ status: 'failed', error: { code: 'invalid_plan' } });
  });
});

describe('the planning prompt', () => {
  it("carries the catalog, the goal, the inputs' shapes (not their contents), the limits and vetted examples", () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ entity: 'ACME', period: 'FY2023', metric: 'revenue', value: i, unit: 'USD_millions', source: 'a long filing name' }));
    const messages = planningPrompt(job({ inputs: { rows } }));
    const request = readPlanningRequest(messages);
    expect(request?.goal).toBe(job().goal);
    expect(request?.catalog.map((c) => c.capability)).toEqual(expect.arrayContaining(['data.financials', 'text.analysis', 'code.python']));
    expect(request?.catalog.find((c) => c.capability === 'data.financials')).toMatchObject({
      subnet: 64,
      input: { type: 'object', required: ['documents'] },
      output: { type: 'object' },
    });
    expect(request?.inputs.rows).toMatchObject({ array: 5_000, of: { entity: 'string "ACME"', value: 'number' } });
    // Bounded, not minimal: each catalog entry carries its input and output JSON Schemas (text.report's lists every citable item).
    expect(JSON.stringify(messages).length).toBeLessThan(30_000);
    expect(request?.limits).toMatchObject({ maxTao: 1, maxFanOut: 20 });
    expect(request?.examples.length).toBeGreaterThan(0);
    for (const example of request?.examples ?? []) expect(checkPlan(example.plan, { inputs: example.inputs, limits: job().limits }).ok).toBe(true);
  });

  it('is read by the fake LLM, whose plan follows a renamed capability', () => {
    const request = readPlanningRequest(planningPrompt(job()));
    if (!request) throw new Error('the planning prompt was not recognised');
    const renamed = { ...request, catalog: request.catalog.map((c) => (c.capability === 'text.analysis' ? { ...c, capability: 'text.insight' } : c)) };
    const plan = (JSON.parse(answerPlanningRequest(renamed)) as { steps: Array<{ capability: string }> }).steps;
    expect(plan.map((s) => s.capability)).toEqual(['data.financials', 'text.insight', 'code.python']);
    const original = (JSON.parse(answerPlanningRequest(request)) as { steps: Array<{ capability: string }> }).steps;
    expect(original.map((s) => s.capability)).toEqual(['data.financials', 'text.analysis', 'code.python']);
    // A renamed producer too: the analysis reads the posts from the step of the new name.
    const social = readPlanningRequest(planningPrompt(job({ goal: 'What is the sentiment of social posts about the Bittensor halving? Give an analysis.', inputs: {} })));
    if (!social) throw new Error('the planning prompt was not recognised');
    const chatter = { ...social, catalog: social.catalog.map((c) => (c.capability === 'data.social' ? { ...c, capability: 'data.chatter' } : c)) };
    const steps = (JSON.parse(answerPlanningRequest(chatter)) as { steps: Array<{ id: string; capability: string; input: Record<string, unknown> }> }).steps;
    expect(steps.map((s) => [s.id, s.capability])).toEqual([
      ['chatter', 'data.chatter'],
      ['analysis', 'text.analysis'],
    ]);
    expect(steps[1].input.posts).toEqual({ $ref: '/steps/chatter/output/posts' });
  });
});
