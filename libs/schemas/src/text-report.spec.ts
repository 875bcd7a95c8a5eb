import { verifyOutput } from './semantic';
import { CAPABILITY_DEFINITIONS, definitionOfSchema } from './registry';

const input = {
  question: 'How did Apple do in FY2023?',
  title: 'Apple in FY2023',
  rows: [{ entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', documentId: 'aapl', quote: 'Total net sales $ 383,285 $ 394,328' }],
  results: [{ url: 'https://news.example/apple', title: 'Apple results: services at a record', snippet: 'Services revenue reached a record.' }],
  findings: [{ statement: 'Services carried the year.', citations: [{ item: 'results' as const, index: 0 }] }],
};
const verify = (sections: unknown) => verifyOutput('text.report@1', JSON.stringify({ title: 'Apple in FY2023', sections }), input);

describe('text.report@1: every paragraph cites input items, and quoted evidence is in them verbatim', () => {
  it('is in the catalog, bought from Chutes', () => {
    expect(CAPABILITY_DEFINITIONS['text.report'].outputSchemaId).toBe('text.report@1');
    expect(definitionOfSchema('text.report@1')?.providers).toEqual(['chutes']);
  });

  it('accepts paragraphs citing rows, results (by url) and findings with verbatim quotes', async () => {
    const result = await verify([
      {
        heading: 'Revenue',
        paragraphs: [
          { text: 'AAPL sold $383,285 million.', citations: [{ item: 'rows', index: 0, quote: '$ 383,285' }] },
          {
            text: 'Services carried the year.',
            citations: [
              { item: 'findings', index: 0, quote: 'Services carried the year.' },
              { item: 'results', url: 'https://news.example/apple' },
            ],
          },
        ],
      },
    ]);
    expect(result).toMatchObject({ ok: true });
  });

  it('rejects a paragraph citing nothing', async () => {
    const result = await verify([
      {
        heading: 'Claims',
        paragraphs: [
          { text: 'Apple is unstoppable.', citations: [] },
          { text: 'Services grew.', citations: [{ item: 'results', index: 0 }] },
        ],
      },
    ]);
    expect(result).toEqual({ ok: false, kind: 'schema', errors: ['sections.0.paragraphs.0.citations: Too small: expected array to have >=1 items'] });
  });

  it('rejects a quote not in its item, a finding cited by url, a finding that does not exist and a ticker without its row', async () => {
    const semantic = await verify([
      {
        heading: 'Claims',
        paragraphs: [
          { text: 'Services doubled.', citations: [{ item: 'results', index: 0, quote: 'Services revenue doubled.' }] },
          { text: 'AAPL leads.', citations: [{ item: 'findings', url: 'https://x' }] },
          { text: 'So the analysts said.', citations: [{ item: 'findings', index: 4 }] },
        ],
      },
    ]);
    expect(semantic).toEqual({
      ok: false,
      kind: 'semantic',
      errors: [
        'sections.0.paragraphs.0.citations.0: quote "Services revenue doubled." is not in results[0]; quote its words verbatim',
        'sections.0.paragraphs.1.citations.0: no input finding has a url (cite findings by index)',
        'sections.0.paragraphs.1: the statement names AAPL but cites no AAPL row',
        'sections.0.paragraphs.2.citations.0: finding 4 does not exist; the input has findings 0..0',
      ],
    });
  });
});
