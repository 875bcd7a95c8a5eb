import { JobLimits, JobSpec } from '@orchestra/contracts';
import { exampleInputs } from '@orchestra/devnet-providers';
import { definitionFor, isCapability } from '@orchestra/schemas';
import { buildSteps, resolveInput } from './plan';
import { checkPlan } from './plan-checks';
import { playbookPlan } from './planning';
import { PLAYBOOKS, datasetCodePlaybook, financialAnalysisPlaybook, rankPlaybooks, researchBriefPlaybook, socialSentimentPlaybook, topicWords } from './playbooks';

const limits: JobLimits = { maxTao: 1, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 32 };
const rows = [
  { entity: 'ACME', period: 'FY2022', metric: 'revenue', value: 100, unit: 'USD_millions', source: 'ACME 10-K FY2022' },
  { entity: 'ACME', period: 'FY2023', metric: 'revenue', value: 120, unit: 'USD_millions', source: 'ACME 10-K FY2023' },
];

describe('playbooks', () => {
  it('plans filings -> figures, an analysis and chart code that pass the checks', () => {
    const goal = 'Analyze these financial filings and write a Python script to graph the trends';
    const outcome = playbookPlan({ goal, inputs: { entities: ['AAPL'] }, limits });
    expect(outcome).toMatchObject({ ok: true, source: 'playbook', rejected: [] });
    expect(outcome.ok && outcome.plan.map((s) => [s.id, s.capability, s.deps])).toEqual([
      ['data', 'data.financials', []],
      ['analysis', 'text.analysis', ['data']],
      ['code', 'code.python', ['data']],
    ]);
    expect(outcome.ok && outcome.plan[0].input).toMatchObject({ entities: { $ref: '/inputs/entities' } });
  });

  it("falls back for a non-financial goal on the client's data set to the dataset-code playbook, not the financial one", () => {
    const goal = 'Write a Python script that computes the median of each column of this data set';
    expect(rankPlaybooks(goal, { rows })[0]).toBe(datasetCodePlaybook);
    const outcome = playbookPlan({ goal, inputs: { rows }, limits });
    expect(outcome).toMatchObject({ ok: true, source: 'playbook' });
    expect(outcome.ok && outcome.plan).toEqual([
      { id: 'code', capability: 'code.python', input: { task: goal, rows: { $ref: '/inputs/rows' } }, deps: [] },
      { id: 'analysis', capability: 'text.analysis', input: { question: goal, rows: { $ref: '/inputs/rows' } }, deps: [] },
    ]);
    // Without a data set, the same words are no dataset task.
    expect(datasetCodePlaybook.score(goal, {})).toBe(0);
  });

  it('recognises social sentiment and research goals as theirs, with topic keywords from the goal', () => {
    expect(rankPlaybooks('What is the sentiment on X about the Bittensor halving?', {})[0]).toBe(socialSentimentPlaybook);
    expect(rankPlaybooks('Write a research brief with sources on decentralized AI training', {})[0]).toBe(researchBriefPlaybook);
    expect(rankPlaybooks('What do people say on reddit about the latest iPhone?', {})[0]).toBe(socialSentimentPlaybook);
    const [posts] = socialSentimentPlaybook.plan('What is the sentiment on X about the Bittensor halving?', {});
    expect(posts).toMatchObject({ capability: 'data.social', input: { keywords: ['bittensor', 'halving'], limit: 50 } });
    expect(topicWords('Sentiment about Apple Vision Pro', /sentiment/, 5)).toEqual(['apple', 'vision', 'pro']);
    expect(rankPlaybooks('Write me a poem', {})).toEqual([]);
  });

  it('passes over a playbook whose capability this deployment lacks, recording why, and names every playbook when none fits', () => {
    // Whatever the catalog holds, a playbook is used only when its plan passes the checks.
    const goal = 'Write a research brief with sources on decentralized AI training';
    const outcome = playbookPlan({ goal, inputs: {}, limits }, [], [researchBriefPlaybook]);
    expect(researchBriefPlaybook.plan(goal, {}).every((s) => isCapability(s.capability))).toBe(true);
    expect(outcome).toMatchObject({ ok: true, source: 'playbook' });
    const none = playbookPlan({ goal: 'Write me a poem', inputs: {}, limits });
    expect(none).toMatchObject({ ok: false, reason: expect.stringMatching(/playbooks: financial-analysis, dataset-code, social-sentiment, research-brief/) });
  });

  it('gives every playbook an example goal that it fits best, and a plan that passes the checks once its capabilities are in the catalog', () => {
    for (const playbook of PLAYBOOKS) expect(rankPlaybooks(playbook.exampleGoal, playbook.exampleInputs)[0]).toBe(playbook);
    const usable = PLAYBOOKS.filter((p) => p.plan(p.exampleGoal, p.exampleInputs).every((s) => isCapability(s.capability)));
    expect(usable).toEqual(PLAYBOOKS);
    for (const playbook of usable) {
      expect({ playbook: playbook.name, ...checkPlan(playbook.plan(playbook.exampleGoal, playbook.exampleInputs), { inputs: playbook.exampleInputs, limits }) }).toMatchObject({
        ok: true,
      });
    }
  });
});

const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';
const job = (inputs: Record<string, unknown>): JobSpec => ({
  jobId: 'job-1',
  tenant: 'default',
  goal: GOAL,
  inputs,
  limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 },
  submittedAt: '2026-12-01T00:00:00.000Z',
});

/** Placeholder outputs of the steps the playbooks read, in their capabilities' shapes. */
const OUTPUTS = {
  figures: {
    output: {
      rows: [{ entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', documentId: 'aapl-10k-fy2023', quote: 'Total net sales $ 383,285' }],
    },
  },
  social: { output: { posts: [{ url: 'https://x.com/a/status/1', source: 'x', author: 'a', date: '2026-11-30T00:00:00.000Z', text: 'Apple' }] } },
  news: { output: { results: [{ url: 'https://news.example/a', title: 'Apple results', snippet: '' }] } },
};

/** Each step's input, once the client's inputs and the placeholder outputs are resolved, is valid for the version it runs under. */
function expectInputsValid(steps: ReturnType<typeof buildSteps>, spec: JobSpec, outputs: Record<string, { output: unknown }>): void {
  for (const step of steps) {
    const input = resolveInput(step.input, { inputs: spec.inputs, steps: outputs });
    expect(isCapability(step.capability)).toBe(true);
    if (!isCapability(step.capability)) continue;
    expect([step.id, definitionFor(step.capability, input).input.safeParse(input).success]).toEqual([step.id, true]);
  }
}

describe('the non-financial playbooks', () => {
  it.each([
    ['social-sentiment', 'What is the sentiment on X about the Bittensor halving?', {}, ['posts', 'analysis'], { posts: OUTPUTS.social }],
    ['social-sentiment', 'How do people on reddit feel about it?', { keywords: ['bittensor', 'halving'] }, ['posts', 'analysis'], { posts: OUTPUTS.social }],
    ['research-brief', 'Write a research brief with sources on decentralized AI training', {}, ['search', 'brief'], { search: OUTPUTS.news }],
  ])('%s: the fallback for "%s" passes every plan check, each input valid once resolved', (name, goal, inputs, ids, outputs) => {
    const spec = { ...job(inputs), goal };
    const outcome = playbookPlan(spec);
    expect(outcome).toMatchObject({ ok: true, source: 'playbook', rejected: [], estimate: { calls: 2 } });
    if (!outcome.ok) return;
    expect(rankPlaybooks(goal, inputs)[0].name).toBe(name);
    expect(outcome.plan.map((s) => s.id)).toEqual(ids);
    const steps = buildSteps(outcome.plan, spec);
    expect(steps.map((s) => [s.id, s.schemaId, s.deps])).toEqual([
      [ids[0], name === 'research-brief' ? 'web.search@1' : 'data.social@1', []],
      [ids[1], 'text.analysis@2', [ids[0]]],
    ]);
    // The client's own keywords are read in place, not re-derived from the goal.
    if ('keywords' in inputs) expect(outcome.plan[0].input).toMatchObject({ keywords: { $ref: '/inputs/keywords' } });
    expectInputsValid(steps, spec, outputs);
  });

  it('passes over the social playbook when the goal names no topic to search for (no keywords), recording why', () => {
    const outcome = playbookPlan({ goal: 'What is the sentiment on X?', inputs: {}, limits }, [], [socialSentimentPlaybook]);
    expect(outcome).toMatchObject({
      ok: false,
      rejected: [{ by: 'playbook:social-sentiment', reasons: [expect.stringMatching(/step "posts": .*keywords/)] }],
    });
  });
});

describe('the financial playbook', () => {
  it('works from the filings the client supplies: figures from the documents, posts and news beside them, all cited by the analysis', () => {
    const spec = job(exampleInputs());
    const steps = buildSteps(financialAnalysisPlaybook.plan(spec.goal, spec.inputs), spec);
    expect(steps.map((s) => [s.id, s.capability, s.schemaId, s.netuid, s.deps])).toEqual([
      ['figures', 'data.financials', 'data.financials@2', 64, []],
      ['social', 'data.social', 'data.social@1', 13, []],
      ['news', 'web.search', 'web.search@1', 22, []],
      ['analysis', 'text.analysis', 'text.analysis@2', 1, ['figures', 'social', 'news']],
      ['code', 'code.python', 'code.python@1', 62, ['figures']],
    ]);
    expectInputsValid(steps, spec, OUTPUTS);
  });

  it('buys no posts or news the client did not ask for', () => {
    const { social: _social, news: _news, ...inputs } = exampleInputs();
    const spec = job(inputs);
    expect(financialAnalysisPlaybook.plan(spec.goal, spec.inputs).map((s) => s.id)).toEqual(['figures', 'analysis', 'code']);
  });

  it('fetches the figures from the data subnet when no filings are supplied (data.financials@1)', () => {
    const spec = job({ entities: ['AAPL'] });
    const steps = buildSteps(financialAnalysisPlaybook.plan(spec.goal, spec.inputs), spec);
    expect(steps.map((s) => [s.id, s.schemaId, s.netuid])).toEqual([
      ['data', 'data.financials@1', 13],
      ['analysis', 'text.analysis@2', 1],
      ['code', 'code.python@1', 62],
    ]);
  });
});
