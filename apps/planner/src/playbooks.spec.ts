import { JobLimits } from '@orchestra/contracts';
import { isCapability } from '@orchestra/schemas';
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
    const available = researchBriefPlaybook.plan(goal, {}).every((s) => isCapability(s.capability));
    if (available) expect(outcome).toMatchObject({ ok: true, source: 'playbook' });
    else expect(outcome).toMatchObject({ ok: false, rejected: [{ by: 'playbook:research-brief', reasons: [expect.stringMatching(/unknown capability "web.search"/)] }] });
    const none = playbookPlan({ goal: 'Write me a poem', inputs: {}, limits });
    expect(none).toMatchObject({ ok: false, reason: expect.stringMatching(/playbooks: financial-analysis, dataset-code, social-sentiment, research-brief/) });
  });

  it('gives every playbook an example goal that it fits best, and a plan that passes the checks once its capabilities are in the catalog', () => {
    for (const playbook of PLAYBOOKS) expect(rankPlaybooks(playbook.exampleGoal, playbook.exampleInputs)[0]).toBe(playbook);
    const usable = PLAYBOOKS.filter((p) => p.plan(p.exampleGoal, p.exampleInputs).every((s) => isCapability(s.capability)));
    expect(usable).toEqual(expect.arrayContaining([financialAnalysisPlaybook, datasetCodePlaybook]));
    for (const playbook of usable) {
      expect({ playbook: playbook.name, ...checkPlan(playbook.plan(playbook.exampleGoal, playbook.exampleInputs), { inputs: playbook.exampleInputs, limits }) }).toMatchObject({
        ok: true,
      });
    }
  });
});
