import { ExtractedRow, normalizeWhitespace, numbersIn, quoteIsIn, statesValue, verifyOutput } from './index';

describe('numbers as filings write them', () => {
  it('reads separators, parentheses, currency, percent and scale words', () => {
    expect(numbersIn('Total net sales $ 383,285 $ 394,328 (3)%').map((n) => [n.value, n.scale, n.percent])).toEqual([
      [383285, 1, false],
      [394328, 1, false],
      [-3, 1, true],
    ]);
    expect(numbersIn('net income was $97.0 billion; other expense (2,722); EUR 5 thousand').map((n) => [n.value, n.scale])).toEqual([
      [97, 1e9],
      [-2722, 1],
      [5, 1e3],
    ]);
    // Codes and words are not figures: FY2023, 10-K, Q3.
    expect(numbersIn('FY2023 10-K Q3').map((n) => n.text)).toEqual([]);
    // A number followed by a word is a number: the code test looks right after the digits.
    expect(numbersIn('The company employs 4,250 people and 3D printers.').map((n) => n.value)).toEqual([4250]);
  });

  it.each([
    ['Total net sales were $383,285 million', 383285, 'USD_millions', true],
    ['Total net sales | $ 383,285 | $ 394,328', 383285, 'USD_millions', true],
    ['Total net sales | $ 383,285 | $ 394,328', 394328, 'USD_millions', true],
    ['revenue of $1.2 billion', 1200, 'USD_millions', true],
    ['revenue of $1.2 billion', 1.2, 'USD_billions', true],
    ['Other income/(expense), net (565)', -565, 'USD_millions', true],
    ['Diluted earnings per share $ 6.13', 6.13, 'USD_per_share', true],
    ['Gross margin percentage 44.1 %', 44.1, 'percent', true],
    // Rounded, wrong sign, or only in another scale: not stated.
    ['net sales were $383.3 billion', 383285, 'USD_millions', false],
    ['Other income/(expense), net (565)', 565, 'USD_millions', false],
    ['Total net sales $ 383,285', 383286, 'USD_millions', false],
    ['grew 12%', 12, 'USD_millions', false],
  ])('%j states %d %s: %s', (text, value, unit, expected) => {
    expect(statesValue(text, value, unit)).toBe(expected);
  });

  it('finds a quote in a re-flowed document, not a paraphrase', () => {
    const doc = normalizeWhitespace('The Company’s total net sales were\n  $383.3 billion and net income was $97.0 billion during 2023.');
    expect(quoteIsIn('total net sales were $383.3 billion and net income', doc)).toBe(true);
    expect(quoteIsIn('total net sales were $383.3bn', doc)).toBe(false);
    expect(quoteIsIn('   ', doc)).toBe(false);
  });
});

// A filing written for this test (invented company and figures).
const FILING = `Heronsgate Instruments plc — Annual Report 2025 (excerpt)
Consolidated income statement (in millions)
                         2025        2024
Revenue               $ 4,812     $ 4,350
Operating income          611         498
Other expense, net       (37)         (12)

Revenue for fiscal 2025 grew 11% to $4.8 billion.`;

describe('data.financials@2: rows grounded in the supplied documents', () => {
  const input = { documents: [{ id: 'hgi-ar-2025', title: 'Heronsgate Annual Report 2025', text: FILING }] };
  const row = (over: Partial<ExtractedRow> = {}): ExtractedRow => ({
    entity: 'HGI',
    period: 'FY2025',
    metric: 'revenue',
    value: 4812,
    unit: 'USD_millions',
    documentId: 'hgi-ar-2025',
    quote: 'Revenue               $ 4,812     $ 4,350',
    ...over,
  });
  const verify = (rows: ExtractedRow[], request: object = input) => verifyOutput('data.financials@2', JSON.stringify({ rows }), request);

  it('accepts rows whose quotes are in the document and state their numbers (whitespace aside)', async () => {
    const rows = [
      row({ quote: 'Revenue $ 4,812 $ 4,350' }),
      row({ period: 'FY2024', value: 4350 }),
      row({ metric: 'other_expense_net', value: -37, quote: 'Other expense, net       (37)' }),
      row({ metric: 'revenue_rounded', value: 4.8, unit: 'USD_billions', quote: 'Revenue for fiscal 2025 grew 11% to $4.8 billion.' }),
    ];
    expect(await verify(rows)).toEqual({ ok: true, value: { rows } });
  });

  it('rejects a quote that is not in the document, naming the row and the document', async () => {
    const result = await verify([row({ quote: 'Revenue was $4,812 million' })]);
    expect(result).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['rows.0: quote "Revenue was $4,812 million" is not in document hgi-ar-2025; copy the sentence or table line verbatim'],
    });
  });

  it('rejects a number that is not in its quote, listing the numbers that are', async () => {
    const result = await verify([row({ value: 4821 }), row({ metric: 'other_expense_net', value: 37, quote: 'Other expense, net       (37)' })]);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors[0]).toMatch(/^rows\.0: quote does not state 4821 USD_millions as the filing writes it \(e\.g\. "4,821".*numbers in the quote: \$ 4,812, \$ 4,350$/);
    // A positive value for a figure the filing shows in parentheses is a wrong sign.
    expect(errors[1]).toMatch(/^rows\.1: quote does not state 37 USD_millions.*numbers in the quote: \(37\)$/);
  });

  it('rejects a row citing a document nobody supplied', async () => {
    expect(await verify([row({ documentId: 'aapl-10k' })])).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['rows.0: documentId "aapl-10k" names no supplied document (documents: hgi-ar-2025)'],
    });
  });

  it('keeps rows to the request, once each, and names what is missing', async () => {
    const request = { ...input, entities: ['HGI'], periods: ['FY2024', 'FY2025'], metrics: ['revenue'] };
    const result = await verify([row(), row(), row({ metric: 'operating_income', value: 611, quote: 'Operating income          611         498' })], request);
    expect(result).toEqual({
      ok: false,
      kind: 'semantic',
      errors: [
        'rows: missing 1 requested row(s): HGI/FY2024/revenue',
        'rows.2: metric operating_income was not requested (metrics: revenue)',
        'rows.1: duplicates rows.0 (HGI/FY2025/revenue)',
      ],
    });
  });

  it('refuses units, metrics and ids it cannot check, by schema', async () => {
    const result = await verify([row({ unit: 'dollars' }), row({ metric: 'Net Income' })]);
    expect(result).toMatchObject({ ok: false, kind: 'schema' });
  });
});
