import { PlanningRequest, capabilityCatalog, readPlanningRequest, planningMessages } from '@orchestra/schemas';
import { PLAN_FAULTS, answerPlanningRequest, planGoal } from './plan-engine';

const request = (goal: string, inputs: Record<string, unknown> = {}): PlanningRequest => ({
  goal,
  catalog: capabilityCatalog(),
  inputs,
  limits: { maxTao: 1, maxMinerCalls: 32, maxFanOut: 20, estimatedTaoPerCall: 0.02 },
  examples: [],
});

describe('the fake LLM planner', () => {
  it('reads the request back out of the planning prompt', () => {
    const asked = request('Chart the revenue of AAPL in FY2023 with a Python script');
    expect(readPlanningRequest(planningMessages(asked))).toEqual(asked);
    expect(readPlanningRequest([{ role: 'user', content: 'What is 2+2?' }])).toBeUndefined();
  });

  it('plans from the catalog it is given: producers first, references by property name, values from the goal', () => {
    const goal = 'Analyze the revenue of AAPL and MSFT in these filings';
    const steps = planGoal(request(goal, { documents: { array: 3 } }));
    expect(steps).toEqual([
      { id: 'financials', capability: 'data.financials', input: { documents: { $ref: '/inputs/documents' } }, deps: [] },
      { id: 'analysis', capability: 'text.analysis', input: { question: goal, rows: { $ref: '/steps/financials/output/rows' } }, deps: ['financials'] },
    ]);
    // Without the filings there is nothing to extract figures from, and so nothing to analyse: left out rather than guessed.
    expect(planGoal(request('Analyze the revenue of AAPL and MSFT')).map((s) => s.capability)).toEqual([]);
    // The same prompt, the same plan.
    expect(answerPlanningRequest(request(goal))).toBe(answerPlanningRequest(request(goal)));
  });

  it("feeds the analysis the social posts or web results it cites, querying them by the goal's topic", () => {
    const social = 'What is the sentiment of social posts about the Bittensor halving? Give an analysis.';
    expect(planGoal(request(social))).toEqual([
      { id: 'social', capability: 'data.social', input: { keywords: ['sentiment', 'bittensor', 'halving'] }, deps: [] },
      { id: 'analysis', capability: 'text.analysis', input: { question: social, posts: { $ref: '/steps/social/output/posts' } }, deps: ['social'] },
    ]);
    const research = 'Search the web for decentralized AI training and write an analysis citing the results';
    expect(planGoal(request(research))).toEqual([
      { id: 'search', capability: 'web.search', input: { query: research }, deps: [] },
      { id: 'analysis', capability: 'text.analysis', input: { question: research, results: { $ref: '/steps/search/output/results' } }, deps: ['search'] },
    ]);
    // The client's own lists are read in place, and nothing is bought for them.
    expect(planGoal(request('Give an analysis of these social posts', { posts: { array: 40 } }))).toEqual([
      { id: 'analysis', capability: 'text.analysis', input: { question: 'Give an analysis of these social posts', posts: { $ref: '/inputs/posts' } }, deps: [] },
    ]);
  });

  it('breaks the plan one way per fault', () => {
    const asked = request('Analyze the revenue of AAPL in FY2023 and write a Python script to chart it', { documents: { array: 1 } });
    const broken = Object.fromEntries(PLAN_FAULTS.map((f) => [f, answerPlanningRequest(asked, f)]));
    const steps = (fault: string) => (JSON.parse(broken[fault]) as { steps: Array<{ id: string; capability: string; deps: string[]; input: Record<string, unknown> }> }).steps;
    const cyclic = steps('cycle');
    expect(cyclic[0].deps).toContain(cyclic.at(-1)?.id);
    expect(cyclic.at(-1)?.deps).toContain(cyclic[0].id);
    expect(steps('unknown-capability')[0].capability).toBe('data.telepathy');
    expect(JSON.stringify(steps('dangling-ref'))).toContain('/steps/financials/output/nothing_here');
    expect(steps('over-budget').length * 0.02).toBeGreaterThan(1);
    expect(() => JSON.parse(broken['no-json'])).toThrow();
  });
});
