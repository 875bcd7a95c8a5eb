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
    const steps = planGoal(request('Analyze the revenue of AAPL and MSFT in FY2023'));
    expect(steps).toEqual([
      { id: 'financials', capability: 'data.financials', input: { entities: ['AAPL', 'MSFT'], periods: ['FY2023'], metrics: ['revenue'] }, deps: [] },
      {
        id: 'analysis',
        capability: 'text.analysis',
        input: { question: 'Analyze the revenue of AAPL and MSFT in FY2023', rows: { $ref: '/steps/financials/output/rows' } },
        deps: ['financials'],
      },
    ]);
    // Without tickers there is nothing to fetch figures for: that capability is left out rather than guessed.
    expect(planGoal(request('Analyze the revenue trends')).map((s) => s.capability)).toEqual([]);
    // The same prompt, the same plan.
    expect(answerPlanningRequest(request('Analyze the revenue of AAPL in FY2023'))).toBe(answerPlanningRequest(request('Analyze the revenue of AAPL in FY2023')));
  });

  it('breaks the plan one way per fault', () => {
    const asked = request('Analyze the revenue of AAPL in FY2023 and write a Python script to chart it');
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
