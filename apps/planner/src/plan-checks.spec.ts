import { JobLimits, MAX_FAN_OUT, PlanStepSpec } from '@orchestra/contracts';
import { checkPlan } from './plan-checks';
import { ESTIMATED_TAO_PER_CALL } from './estimate';

const limits: JobLimits = { maxTao: 1, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 32 };
const request = { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] };
const data: PlanStepSpec = { id: 'data', capability: 'data.financials', input: request, deps: [] };
const rows = { $ref: '/steps/data/output/rows' };
const analysis: PlanStepSpec = { id: 'analysis', capability: 'text.analysis', input: { question: 'trend?', rows }, deps: ['data'] };

/** The reasons a plan fails with (empty when it passes). */
function reasons(plan: PlanStepSpec[], inputs: Record<string, unknown> = {}, jobLimits: JobLimits = limits): string[] {
  const checked = checkPlan(plan, { inputs, limits: jobLimits });
  return checked.ok ? [] : checked.reasons;
}

describe('plan checks', () => {
  it('passes a valid plan and estimates it per step', () => {
    const checked = checkPlan([data, analysis], { inputs: {}, limits });
    expect(checked).toEqual({ ok: true, estimate: { calls: 2, tao: 2 * ESTIMATED_TAO_PER_CALL } });
  });

  it('refuses a cycle, naming it', () => {
    const a: PlanStepSpec = { id: 'a', capability: 'text.analysis', input: { question: 'q', rows: { $ref: '/steps/b/output/findings' } }, deps: ['b'] };
    const b: PlanStepSpec = { id: 'b', capability: 'text.analysis', input: { question: 'q', rows: { $ref: '/steps/a/output/findings' } }, deps: ['a'] };
    expect(reasons([a, b])).toContainEqual(expect.stringMatching(/the plan has a cycle: (a → b → a|b → a → b)/));
    expect(reasons([{ ...data, deps: ['data'] }])).toContain('step "data" depends on itself');
  });

  it('refuses an unknown capability, listing the known ones', () => {
    expect(reasons([{ ...data, capability: 'text.poetry' }])).toEqual([
      expect.stringMatching(/step "data": unknown capability "text.poetry" \(known: data.financials, text.analysis, code.python/),
    ]);
  });

  it('refuses duplicate ids and deps on steps that do not exist', () => {
    expect(reasons([data, data])).toContain('step id "data" appears twice; give each step its own id');
    expect(reasons([{ ...analysis, deps: ['data', 'ghost'] }, data])).toContain('step "analysis" depends on "ghost", which is not in the plan');
  });

  it('refuses a dangling reference: to a step not depended on, to no step, to a path the output schema lacks', () => {
    expect(reasons([data, { ...analysis, deps: [] }])).toContain('step "analysis" reads /steps/data/output/rows: "data" is not among its deps; add it to deps');
    expect(reasons([{ ...analysis, deps: [] }])).toContain('step "analysis" reads /steps/data/output/rows: there is no step "data"');
    const typo = { ...analysis, input: { question: 'q', rows: { $ref: '/steps/data/output/row' } } };
    expect(reasons([data, typo])).toEqual(['step "analysis" reads /steps/data/output/row: in the output of "data" (data.financials): "row" is not in the output; it has: rows']);
    const deep = { ...analysis, input: { question: 'q', rows: { $ref: '/steps/data/output/rows/0/value/x' } } };
    expect(reasons([data, deep])[0]).toMatch(/"x" is not in \/rows\/0\/value; it is number/);
    expect(reasons([data, { ...analysis, input: { question: 'q', rows: { $ref: '/inputs/rows' } } }], { other: 1 })).toEqual([
      'step "analysis" reads /inputs/rows: the job\'s inputs have no "rows" (inputs: other)',
    ]);
  });

  it('refuses a reference whose shape does not fit where it stands', () => {
    // findings are statements with citations, not financial rows.
    const wrong: PlanStepSpec[] = [
      data,
      analysis,
      { id: 'code', capability: 'code.python', input: { task: 'plot', rows: { $ref: '/steps/analysis/output/findings' } }, deps: ['analysis'] },
    ];
    const found = reasons(wrong);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((r) => /step "code": input \/rows\/0(\/\w+)? is not a valid code.python input: .* \(a reference there gives a value of the wrong shape\)/.test(r))).toBe(
      true,
    );
    // A whole output where an array is wanted.
    expect(reasons([data, { ...analysis, input: { question: 'q', rows: { $ref: '/steps/data/output' } } }])[0]).toMatch(
      /step "analysis": input \/rows is not a valid text.analysis input: .*expected array.*wrong shape/,
    );
  });

  it('refuses an input invalid for its capability once references are resolved, by the client inputs themselves', () => {
    expect(reasons([{ ...data, input: { entities: ['AAPL'], periods: ['2023'], metrics: ['revenue'] } }])[0]).toMatch(
      /step "data": input \/periods\/0 is not a valid data.financials input/,
    );
    expect(reasons([{ ...analysis, input: { rows } }, data])).toEqual([expect.stringMatching(/step "analysis": input \/question is not a valid text.analysis input/)]);
    // The client's own values are judged in full: 11 entities are one too many.
    const many = { entities: Array.from({ length: 11 }, (_, i) => `T${i}`) };
    expect(reasons([{ ...data, input: { ...request, entities: { $ref: '/inputs/entities' } } }], many)[0]).toMatch(/input \/entities is not a valid data.financials input/);
    // …while a referenced output is judged by its shape only (its lengths and formats are the verifier's).
    expect(reasons([data, analysis])).toEqual([]);
  });

  it('refuses a plan estimated over the budget or the call limit', () => {
    expect(reasons([data, analysis], {}, { ...limits, maxTao: 0.03 })).toEqual([
      `the plan is estimated at ${2 * ESTIMATED_TAO_PER_CALL} TAO (2 calls), over the job's budget of 0.03 TAO; use fewer steps, runs or quorums, or raise limits.maxTao`,
    ]);
    expect(reasons([{ ...data, quorum: { agree: 3, checker: 'same-rows' } }], {}, { ...limits, maxMinerCalls: 2 })).toContainEqual(
      expect.stringMatching(/needs at least 3 miner calls, over the job's limit of 2/),
    );
  });

  it('refuses quorums that cannot be met or do not fit', () => {
    expect(reasons([{ ...data, quorum: { agree: 2, checker: 'same-citations' } }])).toEqual([
      expect.stringMatching(/checker "same-citations" does not fit data.financials; use same-rows/),
    ]);
    expect(reasons([{ ...data, maxAttempts: 2, quorum: { agree: 3, checker: 'same-rows' } }])).toEqual([
      expect.stringMatching(/a quorum of 3 needs at least 3 attempts, but maxAttempts is 2/),
    ]);
  });

  describe('fan-out', () => {
    const perQuestion: PlanStepSpec = {
      id: 'each',
      capability: 'text.analysis',
      forEach: { $ref: '/inputs/questions' },
      input: { question: { $ref: '/item' }, rows },
      deps: ['data'],
    };
    const gather: PlanStepSpec = { id: 'code', capability: 'code.python', input: { task: 'tabulate', rows }, deps: ['data', 'each'] };

    it('passes a fan-out over a client list and counts its runs in the estimate', () => {
      const checked = checkPlan([data, perQuestion, gather], { inputs: { questions: ['a?', 'b?', 'c?'] }, limits });
      expect(checked).toMatchObject({ ok: true, estimate: { calls: 5 } });
    });

    it('passes a fan-out over an output array, estimated at the maximum runs', () => {
      const overRows: PlanStepSpec = { ...perQuestion, forEach: rows, input: { question: 'one row', rows: [{ $ref: '/item' }] } };
      expect(checkPlan([data, overRows], { inputs: {}, limits })).toMatchObject({ ok: true, estimate: { calls: 1 + MAX_FAN_OUT } });
    });

    it('reads a fan-out step as the array of its outputs downstream', () => {
      const fanned: PlanStepSpec = { ...perQuestion, forEach: rows, input: { question: 'q', rows: [{ $ref: '/item' }] } };
      const reader: PlanStepSpec = { id: 'reader', capability: 'text.analysis', input: { question: 'q', rows: { $ref: '/steps/each/output/0/findings' } }, deps: ['each'] };
      // Findings of the first run are not rows: the walk went through the array of runs to a findings shape.
      expect(reasons([data, fanned, reader], {}, { ...limits, maxTao: 10, maxMinerCalls: 100 }).join('\n')).toMatch(/step "reader": input \/rows\/0.*wrong shape/);
      const wrongPath = { ...reader, input: { question: 'q', rows: { $ref: '/steps/each/output/findings' } } };
      expect(reasons([data, fanned, wrongPath], {}, { ...limits, maxTao: 10, maxMinerCalls: 100 })).toEqual([
        'step "reader" reads /steps/each/output/findings: in the output of "each" (text.analysis, one per run): "findings" is not in the output; it is array',
      ]);
    });

    it('refuses fan-outs over too many items, over something not an array, and /item outside a fan-out', () => {
      const questions = Array.from({ length: MAX_FAN_OUT + 1 }, (_, i) => `q${i}?`);
      expect(reasons([data, perQuestion], { questions }, { ...limits, maxTao: 10, maxMinerCalls: 100 })).toEqual([
        `step "each": forEach /inputs/questions has ${MAX_FAN_OUT + 1} items, over the maximum of ${MAX_FAN_OUT} runs per step`,
      ]);
      expect(reasons([data, perQuestion], { questions: 'a?' })).toContain('step "each": forEach /inputs/questions is not an array');
      expect(reasons([data, { ...perQuestion, forEach: { $ref: '/steps/data/output/rows/0' } }])).toContain(
        'step "each": forEach /steps/data/output/rows/0 is not an array in that output\'s schema',
      );
      expect(reasons([data, { ...analysis, input: { question: { $ref: '/item' }, rows } }])).toEqual(['step "analysis" reads /item: /item is only defined in a step with forEach']);
    });
  });
});
