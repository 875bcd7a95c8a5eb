import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { promptFor, standardize, verifyOutput } from '@orchestra/schemas';
import { socialPosts, webItems } from './corpus';
import { answerPrompt } from './text-engine';

// A filing the engine has never seen: invented company, figures, scale (thousands) and layout.
const FILING = `Kestrel Ridge Foods Inc. (NYSE: KRF) - Annual Report on Form 10-K, fiscal year 2025

For fiscal 2025, net income was $58.3 million. Capital expenditures were $36.9 million in fiscal 2025.

CONSOLIDATED STATEMENTS OF EARNINGS (in thousands)
                              2025           2024
Net sales               $ 1,418,702    $ 1,301,455
Gross profit                402,118        371,090
Restructuring charges       (12,450)        (3,100)
Net income              $    58,310    $    44,872`;

const documents = [{ id: 'krf-10k-2025', title: 'Kestrel Ridge Foods 10-K 2025', text: FILING }];
const row = (metric: string, period: string, value: number, quote: string, unit = 'USD_thousands') => ({
  entity: 'KRF',
  period,
  metric,
  value,
  unit,
  documentId: 'krf-10k-2025',
  quote,
});

describe('the good fake LLM answers the prompts promptFor builds, by reading them', () => {
  it('extracts every figure of a filing it has never seen, each row quoting its line, and the answer verifies', async () => {
    const input = { documents };
    const answer = answerPrompt(promptFor('data.financials', input));
    expect(JSON.parse(answer).rows).toEqual([
      row('revenue', 'FY2025', 1418702, 'Net sales               $ 1,418,702    $ 1,301,455'),
      row('revenue', 'FY2024', 1301455, 'Net sales               $ 1,418,702    $ 1,301,455'),
      row('gross_profit', 'FY2025', 402118, 'Gross profit                402,118        371,090'),
      row('gross_profit', 'FY2024', 371090, 'Gross profit                402,118        371,090'),
      row('restructuring_charges', 'FY2025', -12450, 'Restructuring charges       (12,450)        (3,100)'),
      row('restructuring_charges', 'FY2024', -3100, 'Restructuring charges       (12,450)        (3,100)'),
      row('net_income', 'FY2025', 58310, 'Net income              $    58,310    $    44,872'),
      row('net_income', 'FY2024', 44872, 'Net income              $    58,310    $    44,872'),
      // From prose: the amount with its scale word, dated by its sentence (net income's is a repeat of the table's).
      row('capital_expenditures', 'FY2025', 36.9, 'Capital expenditures were $36.9 million in fiscal 2025.', 'USD_millions'),
    ]);
    expect(await verifyOutput('data.financials@2', answer, input)).toMatchObject({ ok: true });
  });

  it('keeps to the requested entities, periods and metrics', async () => {
    const input = { documents, entities: ['KRF'], periods: ['FY2025'], metrics: ['revenue', 'net_income'] };
    const answer = answerPrompt(promptFor('data.financials', input));
    expect(JSON.parse(answer).rows.map((r: { metric: string; period: string }) => `${r.metric}/${r.period}`)).toEqual(['revenue/FY2025', 'net_income/FY2025']);
    expect(await verifyOutput('data.financials@2', answer, input)).toMatchObject({ ok: true });
  });

  it('analyses rows, posts and search results, citing each with its own words, and the answer verifies', async () => {
    const rows = JSON.parse(answerPrompt(promptFor('data.financials', { documents }))).rows;
    const now = Date.parse('2026-11-30T12:00:00Z');
    const posts = socialPosts({ keywords: ['Kestrel'], mode: 'all', limit: 3, platform: 'x' }, 'devnet', now).map((p) => ({
      url: p.url,
      source: 'x',
      author: p.author,
      date: p.date,
      text: p.text,
    }));
    const results = webItems('Kestrel Ridge Foods results', 2, 'devnet', { now }).map((r) => ({ url: r.link, title: r.title, snippet: r.snippet, date: r.date }));
    const input = { question: 'How is Kestrel Ridge doing?', rows, posts, results };
    const answer = answerPrompt(promptFor('text.analysis', input));
    expect(await verifyOutput('text.analysis@2', answer, input)).toMatchObject({ ok: true });
    const { summary, findings } = JSON.parse(answer);
    expect(summary).toContain('How is Kestrel Ridge doing?');
    expect(findings[0]).toEqual({
      statement: 'KRF revenue rose from 1,301,455 USD thousands in FY2024 to 1,418,702 USD thousands in FY2025 (+9.0%).',
      citations: [
        { item: 'rows', index: 1, quote: rows[1].quote },
        { item: 'rows', index: 0, quote: rows[0].quote },
      ],
    });
    const cited = findings.flatMap((f: { citations: { item: string }[] }) => f.citations.map((c) => c.item));
    expect(new Set(cited)).toEqual(new Set(['rows', 'posts', 'results']));
  });

  it('writes a report restating given findings and the evidence of rows and results, every paragraph cited, and the answer verifies', async () => {
    const rows = JSON.parse(answerPrompt(promptFor('data.financials', { documents }))).rows;
    const results = [{ url: 'https://news.example/krf', title: 'Kestrel Ridge Foods grows sales 9%', snippet: 'Net sales rose on pricing.' }];
    const findings = [{ statement: 'KRF sales grew on pricing.', citations: [{ item: 'results' as const, index: 0 }] }];
    const input = { question: 'How did Kestrel Ridge Foods do?', title: 'Kestrel Ridge Foods FY2025', rows, results, findings };
    const answer = answerPrompt(promptFor('text.report', input));
    expect(await verifyOutput('text.report@1', answer, input)).toMatchObject({ ok: true });
    const { title, sections } = JSON.parse(answer);
    expect(title).toBe('Kestrel Ridge Foods FY2025');
    expect(sections.map((s: { heading: string }) => s.heading)).toEqual(['Findings', 'Evidence']);
    expect(sections[0].paragraphs[0]).toEqual({
      text: 'KRF sales grew on pricing.',
      citations: [
        { item: 'findings', index: 0, quote: 'KRF sales grew on pricing.' },
        { item: 'rows', index: 0 },
      ],
    });
    const cited = sections.flatMap((s: { paragraphs: { citations: { item: string }[] }[] }) => s.paragraphs.flatMap((p) => p.citations.map((c) => c.item)));
    expect(new Set(cited)).toEqual(new Set(['findings', 'rows', 'results']));
  });

  it('extracts data of a client schema from a filing, every value quoted, and the answer verifies', async () => {
    const schema = {
      type: 'object',
      properties: { company: { type: 'string' }, capital: { type: 'object', properties: { expenditures: { type: 'number' } }, required: ['expenditures'] } },
      required: ['company', 'capital'],
    };
    const input = { documents, schema };
    const answer = answerPrompt(promptFor('data.extract', input));
    expect(await verifyOutput('data.extract@1', answer, input)).toMatchObject({ ok: true });
    expect(JSON.parse(answer)).toEqual({
      data: { company: expect.stringContaining('Kestrel Ridge Foods'), capital: { expenditures: 36.9 } },
      evidence: [
        { path: '/company', documentId: 'krf-10k-2025', quote: expect.stringContaining('Kestrel Ridge Foods') },
        { path: '/capital/expenditures', documentId: 'krf-10k-2025', quote: 'Capital expenditures were $36.9 million in fiscal 2025.' },
      ],
    });
  });

  it('writes a plotting script over the given rows that parses, with its dependencies and entrypoint', async () => {
    const rows = JSON.parse(answerPrompt(promptFor('data.financials', { documents }))).rows;
    const input = { task: 'Graph each line item per company over the fiscal years.', rows };
    const answer = answerPrompt(promptFor('code.python', input));
    expect(await verifyOutput('code.python@1', answer, input)).toMatchObject({ ok: true });
    const code = JSON.parse(answer);
    expect(code).toMatchObject({ language: 'python', dependencies: ['matplotlib'], entrypoint: 'plot_trends.py' });
    expect(code.code).toContain('restructuring_charges');
  });

  it('answers any JSON Schema it is given with a conforming value', () => {
    for (const [capability, schemaId, input] of [
      ['web.search', 'web.search@1', { query: 'kestrel ridge foods' }],
      ['data.social', 'data.social@1', { keywords: ['kestrel'] }],
    ] as const) {
      expect(standardize(schemaId, answerPrompt(promptFor(capability, input)))).toMatchObject({ ok: true });
    }
    // A client's own schema (as an outputSchema would be), checked with a standard validator.
    const schema = {
      type: 'object',
      required: ['company', 'year', 'exports', 'sources', 'audited'],
      properties: {
        company: { type: 'string', minLength: 3 },
        year: { type: 'integer', minimum: 2000 },
        exports: { type: 'number' },
        sources: { type: 'array', minItems: 2, items: { type: 'string', format: 'uri' } },
        audited: { type: 'boolean' },
        tier: { enum: ['gold', 'silver'] },
      },
      additionalProperties: false,
    };
    const answer = answerPrompt([
      { role: 'system', content: `You are hired for the capability data.extract: structured data.\nIt must conform to this JSON Schema:\n${JSON.stringify(schema)}` },
      { role: 'user', content: `Input:\n\`\`\`json\n${JSON.stringify({ text: FILING })}\n\`\`\`` },
    ]);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate(JSON.parse(answer))).toBe(true);
  });
});
