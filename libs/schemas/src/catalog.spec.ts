import { CAPABILITY_DEFINITIONS, CitedAnalysis, definitionFor, jsonSchema, promptFor, schemaIds, SocialPost, verifyOutput } from './index';

const post = (over: Partial<SocialPost> = {}): SocialPost => ({
  url: 'https://x.com/ledgerlena/status/1',
  source: 'x',
  author: 'ledgerlena',
  date: '2026-11-20T10:00:00.000Z',
  text: 'Apple services revenue keeps climbing; iPhone flat.',
  ...over,
});

describe('the catalog', () => {
  it('registers every capability at its current version, and keeps the superseded ones verifiable', () => {
    expect(Object.values(CAPABILITY_DEFINITIONS).map((d) => d.outputSchemaId)).toEqual([
      'data.financials@2',
      'text.analysis@2',
      'code.python@1',
      'web.search@1',
      'data.social@1',
      'text.report@1',
      'data.extract@1',
    ]);
    expect(schemaIds()).toEqual(expect.arrayContaining(['data.financials@1', 'text.analysis@1', 'report@1']));
    expect(jsonSchema('data.social@1')).toMatchObject({ $id: 'https://orchestra.dev/schemas/data.social@1', type: 'object' });
  });

  it('runs a step under the version its input is written for (keys decide: plans hold unresolved $refs)', () => {
    expect(definitionFor('data.financials', { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] }).outputSchemaId).toBe('data.financials@1');
    expect(definitionFor('data.financials', { documents: { $ref: '/inputs/documents' }, entities: ['AAPL'] }).outputSchemaId).toBe('data.financials@2');
    // text.analysis@2 takes @1's inputs too.
    expect(definitionFor('text.analysis', { question: 'q', rows: { $ref: '/steps/data/output/rows' } }).outputSchemaId).toBe('text.analysis@2');
    expect(definitionFor('data.financials', 'not an object').outputSchemaId).toBe('data.financials@2');
  });
});

describe('web.search@1', () => {
  const input = { query: 'apple earnings', since: '2026-11-01', until: '2026-11-30' };
  const result = (url: string, date?: string) => ({ url, title: 'Apple earnings: what changed', snippet: 'Services grew.', ...(date ? { date } : {}) });
  const verify = (results: unknown[]) => verifyOutput('web.search@1', JSON.stringify({ results }), input);

  it('accepts citable http(s) results inside the window', async () => {
    expect((await verify([result('https://a.example/1', '2026-11-02'), result('http://b.example/2')])).ok).toBe(true);
  });

  it('refuses a result that is not an http(s) URL, by schema', async () => {
    expect(await verify([result('javascript:alert(1)')])).toMatchObject({ ok: false, kind: 'schema', errors: ['results.0.url: an http(s) URL'] });
  });

  it('names a repeated url and a result dated outside the window', async () => {
    expect(await verify([result('https://a.example/1'), result('https://a.example/1', '2026-12-01')])).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['results.1: repeats the url of results.0', 'results.1 (https://a.example/1): dated 2026-12-01, after until 2026-11-30'],
    });
  });
});

describe('data.social@1: every post matches the query', () => {
  const verify = (posts: SocialPost[], input: object) => verifyOutput('data.social@1', JSON.stringify({ posts }), input);

  it('accepts posts matching keywords (case-insensitive), authors, platform and window', async () => {
    const input = { keywords: ['apple', 'Services'], usernames: ['@LedgerLena'], source: 'x', since: '2026-11-20', until: '2026-11-20' };
    expect((await verify([post()], input)).ok).toBe(true);
  });

  it('names the post and the rule it breaks', async () => {
    const input = { keywords: ['apple', 'iphone'], usernames: ['ledgerlena'], source: 'x', since: '2026-11-01', until: '2026-11-15' };
    const posts = [
      post({ url: 'https://x.com/ledgerlena/status/2', text: 'Apple is up today.' }),
      post({ url: 'https://www.reddit.com/r/apple/comments/3/', source: 'reddit', author: 'someone', date: '2026-11-10T00:00:00Z', text: 'apple iphone sales' }),
    ];
    expect(await verify(posts, input)).toEqual({
      ok: false,
      kind: 'semantic',
      errors: [
        'posts.0 (https://x.com/ledgerlena/status/2): text lacks keyword(s) "iphone" (keywordMode all: every keyword)',
        'posts.0 (https://x.com/ledgerlena/status/2): dated 2026-11-20T10:00:00.000Z, after until 2026-11-15',
        'posts.1 (https://www.reddit.com/r/apple/comments/3/): source is reddit; the query asked for x only',
        'posts.1 (https://www.reddit.com/r/apple/comments/3/): author "someone" is not one of the requested usernames (ledgerlena)',
      ],
    });
  });

  it('in any mode, a post needs one keyword', async () => {
    const input = { keywords: ['microsoft', 'azure'], keywordMode: 'any' };
    expect(await verify([post()], input)).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['posts.0 (https://x.com/ledgerlena/status/1): text has none of the keywords "microsoft", "azure" (keywordMode any)'],
    });
  });
});

describe('text.analysis@2: findings cite rows, posts and results, and quote them verbatim', () => {
  const input = {
    question: 'How is Apple doing?',
    rows: [
      { entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', documentId: 'aapl', quote: 'Total net sales $ 383,285 $ 394,328' },
      { entity: 'MSFT', period: 'FY2023', metric: 'revenue', value: 211915, unit: 'USD_millions', source: 'MSFT 10-K FY2023' },
    ],
    posts: [post()],
    results: [{ url: 'https://news.example/apple', title: 'Apple results: services at a record', snippet: 'Services revenue reached a record.' }],
  };
  const verify = (findings: CitedAnalysis['findings']) => verifyOutput('text.analysis@2', JSON.stringify({ summary: 'Apple held up.', findings }), input);

  it('accepts grounded citations by index and url, and the @1 form (a bare row index)', async () => {
    const findings = [
      { statement: 'AAPL revenue was 383,285 million in FY2023.', citations: [{ item: 'rows' as const, index: 0, quote: '$ 383,285' }] },
      { statement: 'Posters praise services.', citations: [{ item: 'posts' as const, url: 'https://x.com/ledgerlena/status/1', quote: 'services revenue keeps climbing' }] },
      { statement: 'The press agrees.', citations: [{ item: 'results' as const, index: 0, quote: 'Services revenue reached a record.' }, 1] },
    ];
    expect((await verify(findings)).ok).toBe(true);
  });

  it('rejects a citation pointing at nothing, a quote not in its item, and a ticker without its row', async () => {
    const result = await verify([
      { statement: 'AAPL is loved.', citations: [{ item: 'posts', index: 3 }] },
      { statement: 'Posters are worried.', citations: [{ item: 'posts', url: 'https://x.com/nobody/status/9' }] },
      { statement: 'Services are booming.', citations: [{ item: 'results', index: 0, quote: 'Services revenue doubled.' }] },
      { statement: 'MSFT lags.', citations: [{ item: 'rows', index: 1, quote: 'MSFT 10-K FY2022' }, 7] },
    ]);
    expect(result).toEqual({
      ok: false,
      kind: 'semantic',
      errors: [
        'findings.0.citations.0: post 3 does not exist; the input has posts 0..0',
        'findings.0: the statement names AAPL but cites no AAPL row',
        'findings.1.citations.0: no input post has url "https://x.com/nobody/status/9"',
        'findings.2.citations.0: quote "Services revenue doubled." is not in results[0]; quote its words verbatim',
        'findings.3.citations.0: quote "MSFT 10-K FY2022" is not in rows[1]; quote its words verbatim',
        'findings.3.citations.1: row 7 does not exist; the input has rows 0..1',
      ],
    });
  });
});

describe('promptFor', () => {
  it('shows documents as fenced text under their ids, the rest of the input as JSON, and the capability instructions', () => {
    const text = 'Revenue $ 4,812\nA line with ``` inside.';
    const [system, user] = promptFor('data.financials', { documents: [{ id: 'hgi', title: 'Heronsgate AR 2025', text }], metrics: ['revenue'] });
    expect(system.content).toContain('data.financials (data.financials@2)');
    expect(system.content).toContain('copy, verbatim');
    expect(system.content).toContain('"documentId"');
    // The fence is longer than any backtick run in the document, so the document cannot close it.
    expect(user.content).toContain(`Document hgi: Heronsgate AR 2025\n\`\`\`\`text\n${text}\n\`\`\`\``);
    expect(user.content).toContain('Input (besides the documents above):\n```json\n{\n  "metrics": [\n    "revenue"\n  ]\n}\n```');
  });

  it('prompts a data.financials@1 input for data.financials@1', () => {
    const [system] = promptFor('data.financials', { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] });
    expect(system.content).toContain('(data.financials@1)');
  });
});
