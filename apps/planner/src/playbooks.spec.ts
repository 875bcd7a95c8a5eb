import { JobSpec } from '@orchestra/contracts';
import { exampleInputs } from '@orchestra/devnet-providers';
import { definitionFor, isCapability } from '@orchestra/schemas';
import { buildSteps, planFor, resolveInput } from './plan';

const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';
const job = (inputs: Record<string, unknown>): JobSpec => ({
  jobId: 'job-1',
  tenant: 'default',
  goal: GOAL,
  inputs,
  limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 },
  submittedAt: '2026-12-01T00:00:00.000Z',
});

describe('the financial playbook', () => {
  it('works from the filings the client supplies: figures from the documents, posts and news beside them, all cited by the analysis', () => {
    const spec = job(exampleInputs());
    const steps = buildSteps(planFor(spec), spec);
    expect(steps.map((s) => [s.id, s.capability, s.schemaId, s.netuid, s.deps])).toEqual([
      ['figures', 'data.financials', 'data.financials@2', 64, []],
      ['social', 'data.social', 'data.social@1', 13, []],
      ['news', 'web.search', 'web.search@1', 22, []],
      ['analysis', 'text.analysis', 'text.analysis@2', 1, ['figures', 'social', 'news']],
      ['code', 'code.python', 'code.python@1', 62, ['figures']],
    ]);
    // Each step's input, once the client's inputs (and placeholder outputs) are resolved, is valid for its version.
    const outputs = {
      figures: {
        output: {
          rows: [{ entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', documentId: 'aapl-10k-fy2023', quote: 'Total net sales $ 383,285' }],
        },
      },
      social: { output: { posts: [{ url: 'https://x.com/a/status/1', source: 'x', author: 'a', date: '2026-11-30T00:00:00.000Z', text: 'Apple' }] } },
      news: { output: { results: [{ url: 'https://news.example/a', title: 'Apple results', snippet: '' }] } },
    };
    for (const step of steps) {
      const input = resolveInput(step.input, { inputs: spec.inputs, steps: outputs });
      expect(isCapability(step.capability)).toBe(true);
      if (!isCapability(step.capability)) continue;
      expect([step.id, definitionFor(step.capability, input).input.safeParse(input).success]).toEqual([step.id, true]);
    }
  });

  it('buys no posts or news the client did not ask for', () => {
    const { social: _social, news: _news, ...inputs } = exampleInputs();
    const spec = job(inputs);
    expect(planFor(spec).map((s) => s.id)).toEqual(['figures', 'analysis', 'code']);
  });

  it('fetches the figures from the data subnet when no filings are supplied (data.financials@1)', () => {
    const spec = job({ entities: ['AAPL'] });
    const steps = buildSteps(planFor(spec), spec);
    expect(steps.map((s) => [s.id, s.schemaId, s.netuid])).toEqual([
      ['data', 'data.financials@1', 13],
      ['analysis', 'text.analysis@2', 1],
      ['code', 'code.python@1', 62],
    ]);
  });
});
