import { answerPrompt, readPrompt } from './text-engine';

// A filing the engine has never seen: invented company, currency and figures.
const FILING = `Quillfeather Orchards Ltd (NZX: QFO) — annual report extract, year ended 30 June 2026.
Total revenue rose to NZ$ 57.31 million, up 12% on the prior year. Gross margin was 38.5%.
Net profit after tax came in at NZ$ 4.06 million, against a loss of NZ$ 1.2 million a year earlier.
The company exported 18,240 tonnes of apples to 14 countries.`;

describe('the fake LLM reads the prompt', () => {
  it('extracts the requested figures into the requested JSON shape, quoting the sentence', () => {
    const answer = answerPrompt([
      { role: 'system', content: 'You are a careful analyst. Answer with JSON only.' },
      {
        role: 'user',
        content: `From the filing below, return {"total_revenue": number, "gross_margin": number, "net_profit": number, "tonnes_exported": number, "evidence": string}.\n\nFiling:\n${FILING}`,
      },
    ]);
    const json = JSON.parse(answer);
    expect(json).toEqual({
      total_revenue: 57.31,
      gross_margin: 38.5,
      net_profit: 4.06,
      tonnes_exported: 18240,
      // the sentence of the last figure filled
      evidence: 'The company exported 18,240 tonnes of apples to 14 countries.',
    });
  });

  it('lists every figure of a document for an array-of-objects shape, with units and quotes', () => {
    const answer = JSON.parse(
      answerPrompt([{ role: 'user', content: `Extract all figures as [{"metric": "", "value": 0, "unit": "", "quote": ""}].\n\`\`\`\n${FILING}\n\`\`\`` }]),
    );
    const byMetric = Object.fromEntries(answer.map((f: { metric: string; value: number; unit: string }) => [f.metric, [f.value, f.unit]]));
    expect(byMetric).toEqual({
      'total revenue': [57.31, 'NZ$ million'],
      'total revenue change': [12, '%'],
      'gross margin': [38.5, '%'],
      'net profit after tax': [4.06, 'NZ$ million'],
      loss: [1.2, 'NZ$ million'],
      'company exported': [18240, ''],
      apples: [14, ''],
    });
    expect(answer.every((f: { quote: string }) => FILING.includes(f.quote))).toBe(true);
  });

  it('answers without a JSON shape by quoting the most relevant sentences', () => {
    const answer = answerPrompt([{ role: 'user', content: `Which countries did the company export apples to, and how much?\nContext:\n${FILING}` }]);
    // Only one sentence shares words with the question (company, apples, countries…): only it is quoted.
    expect(answer).toBe('"The company exported 18,240 tonnes of apples to 14 countries."');
  });

  it('is deterministic and does not invent figures the document lacks', () => {
    const messages = [{ role: 'user', content: `Return {"ebitda": number, "headcount": number}.\nDocument:\n${FILING}` }];
    expect(answerPrompt(messages)).toBe(answerPrompt(messages));
    expect(JSON.parse(answerPrompt(messages))).toEqual({ ebitda: null, headcount: null });
  });

  it('separates instructions, document and template', () => {
    const read = readPrompt([{ role: 'user', content: 'Summarise. Return {"summary": string}\nText: Alpha beta.' }]);
    expect(read).toEqual({ document: ' Alpha beta.', instructions: 'Summarise. Return  \n', template: { summary: 'string' } });
  });
});
