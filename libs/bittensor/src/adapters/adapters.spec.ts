import { jsonSchema } from '@orchestra/schemas';
import { buildStructuredMessages, taskInputOf } from './sn1-prompt';
import { dataEntitiesToRaw, financialsToOnDemand } from './sn13-on-demand';

describe('SN1 structured prompt', () => {
  const input = { question: 'Trend?', rows: [{ entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 1, unit: 'USD_millions', source: 's' }] };

  it('pins the output JSON Schema and fences the input, which a miner reads back', () => {
    const [system, user] = buildStructuredMessages('text.analysis', input);
    expect(system.content).toContain(JSON.stringify(jsonSchema('text.analysis@2')));
    expect(user.content).not.toContain('rejected');
    expect(taskInputOf([system, user])).toEqual(input);
  });

  it('carries the previous validation errors on a re-ask', () => {
    const [, user] = buildStructuredMessages('text.analysis', input, ['findings.0.citations: Too small']);
    expect(user.content).toContain('- findings.0.citations: Too small');
    expect(taskInputOf([user])).toEqual(input);
  });
});

describe('SN13 OnDemandRequest mapping', () => {
  it('maps tickers to keywords (max 5 per query), metrics to usernames, periods to a date range', () => {
    const queries = financialsToOnDemand({ entities: ['A', 'B', 'C', 'D', 'E', 'F'], periods: ['FY2023', 'FY2019'], metrics: ['revenue'] });
    expect(queries).toEqual([
      {
        source: null,
        usernames: ['revenue'],
        keywords: ['A', 'B', 'C', 'D', 'E'],
        url: null,
        keyword_mode: 'any',
        start_date: '2019-01-01T00:00:00Z',
        end_date: '2023-12-31T23:59:59Z',
        limit: 10,
      },
      { source: null, usernames: ['revenue'], keywords: ['F'], url: null, keyword_mode: 'any', start_date: '2019-01-01T00:00:00Z', end_date: '2023-12-31T23:59:59Z', limit: 2 },
    ]);
  });

  it('turns DataEntity contents into {"rows": [...]} without validating them', () => {
    expect(JSON.parse(dataEntitiesToRaw([{ content: '{"a":1}' }, { content: 'not json' }, 7]))).toEqual({ rows: [{ a: 1 }, 'not json', 7] });
  });
});
