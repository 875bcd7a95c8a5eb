import { createProviders, Provider, providersConfig } from '@orchestra/providers';
import { Capability, ExtractedFinancials, promptFor, verifyOutput } from '@orchestra/schemas';
import { exampleInputs } from './example-filings';
import { ProviderTwins, startProviderTwins } from './twins';

/**
 * The example made real, at the providers' level (the dispatcher's wiring is another branch):
 * the shipped filings are the client's inputs; the fake Chutes (over real HTTP) extracts the
 * figures, the fake Constellation (real gRPC) and Desearch give posts and news, the fake LLM
 * analyses all three and writes the plotting script; every answer passes the verifier's checks,
 * and the grounding checks catch what a lying source would do.
 */
describe('the example goal on the provider twins: filings → figures, posts and news → analysis → code', () => {
  let twins: ProviderTwins;
  let providers: Provider[];
  const inputs = exampleInputs() as Record<string, unknown> & { documents: { id: string; text: string }[] };
  const figuresInput = { documents: inputs.documents, entities: inputs.entities, periods: inputs.periods, metrics: inputs.metrics };
  const goal = 'Analyze these financial filings and write a Python script to graph the trends';

  beforeAll(async () => {
    twins = await startProviderTwins();
    providers = createProviders(providersConfig(twins.env()));
  });
  afterAll(async () => {
    for (const p of providers) p.close?.();
    await twins.stop();
  });

  const provider = (id: string): Provider => providers.find((p) => p.id === id) as Provider;
  const ask = async (capability: Capability, input: unknown): Promise<string> =>
    (await provider('chutes').call({ capability, source: 'devnet/good-llm', input: { messages: promptFor(capability, input), json: true }, timeoutMs: 10_000 })).raw;

  it('runs every step on its provider, and every answer verifies', async () => {
    const figuresRaw = await ask('data.financials', figuresInput);
    expect(await verifyOutput('data.financials@2', figuresRaw, figuresInput)).toMatchObject({ ok: true });
    const { rows } = JSON.parse(figuresRaw) as ExtractedFinancials;
    // 2 companies × 3 fiscal years × 3 line items, each once.
    expect(rows).toHaveLength(18);
    expect(rows.find((r) => r.entity === 'AAPL' && r.period === 'FY2023' && r.metric === 'revenue')).toEqual({
      entity: 'AAPL',
      period: 'FY2023',
      metric: 'revenue',
      value: 383285,
      unit: 'USD_millions',
      documentId: 'aapl-10k-fy2023',
      quote: 'Total net sales                     $  383,285   $  394,328   $  365,817',
    });
    expect(rows.find((r) => r.entity === 'MSFT' && r.period === 'FY2021' && r.metric === 'net_income')?.value).toBe(61271);

    const social = await provider('constellation').call({ capability: 'data.social', source: 'x', input: inputs.social, timeoutMs: 10_000 });
    expect(await verifyOutput('data.social@1', social.raw, inputs.social)).toMatchObject({ ok: true });
    const news = await provider('desearch').call({ capability: 'web.search', source: 'web', input: inputs.news, timeoutMs: 10_000 });
    expect(await verifyOutput('web.search@1', news.raw, inputs.news)).toMatchObject({ ok: true });

    const analysisInput = { question: goal, rows, posts: JSON.parse(social.raw).posts, results: JSON.parse(news.raw).results };
    const analysis = await ask('text.analysis', analysisInput);
    expect(await verifyOutput('text.analysis@2', analysis, analysisInput)).toMatchObject({ ok: true });

    const codeInput = { task: 'Write a Python script that graphs each line item per company over the fiscal years.', rows };
    expect(await verifyOutput('code.python@1', await ask('code.python', codeInput), codeInput)).toMatchObject({ ok: true });
  });

  it('catches a quote not in the filing, a number not in its quote, and a citation of nothing', async () => {
    const { rows } = JSON.parse(await ask('data.financials', figuresInput)) as ExtractedFinancials;
    const i = rows.findIndex((r) => r.entity === 'AAPL' && r.period === 'FY2023' && r.metric === 'revenue');
    const lied = rows.map((r, j) => (j === i ? { ...r, quote: 'Apple reported total net sales of $383,285 million for 2023.' } : j === i + 1 ? { ...r, value: r.value + 1 } : r));
    const verdict = await verifyOutput('data.financials@2', JSON.stringify({ rows: lied }), figuresInput);
    expect(verdict).toMatchObject({ ok: false, kind: 'semantic' });
    const errors = verdict.ok ? [] : verdict.errors;
    expect(errors[0]).toBe(
      `rows.${i}: quote "Apple reported total net sales of $383,285 million for 2023." is not in document aapl-10k-fy2023; copy the sentence or table line verbatim`,
    );
    expect(errors[1]).toMatch(new RegExp(`^rows\\.${i + 1}: quote does not state ${rows[i + 1].value + 1} USD_millions as the filing writes it`));

    const analysisInput = { question: goal, rows };
    const analysis = JSON.parse(await ask('text.analysis', analysisInput));
    analysis.findings[0].citations.push({ item: 'posts', index: 0 });
    expect(await verifyOutput('text.analysis@2', JSON.stringify(analysis), analysisInput)).toEqual({
      ok: false,
      kind: 'semantic',
      errors: [`findings.0.citations.${analysis.findings[0].citations.length - 1}: post 0 does not exist; the input has no posts`],
    });
  });
});
