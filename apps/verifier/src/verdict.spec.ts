import { TaskResult } from '@orchestra/contracts';
import { z } from 'zod';
import { judge } from './verdict';

type Result = z.infer<typeof TaskResult.payload>;

const result = (overrides: Partial<Result>): Result => ({
  stepId: 'analysis',
  attempt: 1,
  capability: 'text.analysis',
  netuid: 1,
  schemaId: 'text.analysis@1',
  input: {},
  uid: 3,
  hotkey: '5F…',
  ok: true,
  statusCode: 200,
  statusMessage: 'Success',
  raw: '',
  latencyMs: 10,
  costTao: 0.001,
  ...overrides,
});

const analysis = { summary: 'Revenue grew.', findings: [{ statement: 'AAPL grew 10% a year.', citations: [0, 1] }] };

describe('judge', () => {
  it('accepts schema-valid JSON even inside a chatty, fenced answer', () => {
    const raw = `Sure! Here is the analysis:\n\n\`\`\`json\n${JSON.stringify(analysis, null, 2)}\n\`\`\`\nHope this helps.`;
    expect(judge(result({ raw }))).toEqual({ accepted: true, output: analysis });
  });

  it('rejects text with no JSON, saying so', () => {
    const verdict = judge(result({ raw: 'Revenue went up and to the right.' }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'not_json' });
    expect(!verdict.accepted && verdict.reason).toMatch(/^uid 3 on SN1 returned no JSON/);
  });

  it('rejects JSON of the wrong shape with field-level errors for the re-ask', () => {
    const verdict = judge(result({ raw: JSON.stringify({ summary: 'x', findings: [{ statement: 'y', citations: 'row 1' }], extra: 1 }) }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'schema' });
    if (verdict.accepted) return;
    expect(verdict.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^findings\.0\.citations: /), expect.stringMatching(/extra/)]));
  });

  it('turns miner faults and empty subnets into rejections with the reason', () => {
    expect(judge(result({ ok: false, statusCode: 408, statusMessage: 'Timeout', raw: undefined }))).toMatchObject({
      accepted: false,
      kind: 'miner_error',
      reason: 'uid 3 on SN1 failed: 408 Timeout',
    });
    expect(judge(result({ uid: null, hotkey: null, ok: false, statusCode: 0, statusMessage: 'no eligible UID on SN1', raw: undefined }))).toMatchObject({
      accepted: false,
      kind: 'no_candidate',
      reason: 'no eligible UID on SN1',
    });
  });
});
