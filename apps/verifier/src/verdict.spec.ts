import { DEFAULT_LIMITS, TaskResult, TRUNCATION_MARKER } from '@orchestra/contracts';
import { z } from 'zod';
import { DEFAULT_PYTHON_SETTINGS, answerDigest, configurePythonParsers } from '@orchestra/schemas';
import { judge, MAX_REJECTION_ERRORS } from './verdict';

type Result = z.infer<typeof TaskResult.payload>;

const row = (period: string, value: number) => ({ entity: 'AAPL', period, metric: 'revenue', value, unit: 'USD_millions', source: `AAPL 10-K ${period}` });

const result = (overrides: Partial<Result>): Result => ({
  stepId: 'analysis',
  attempt: 1,
  capability: 'text.analysis',
  netuid: 1,
  schemaId: 'text.analysis@1',
  input: { question: 'How did Apple grow?', rows: [row('FY2022', 394328), row('FY2023', 383285)] },
  uid: 3,
  hotkey: '5F…',
  coldkey: null,
  ok: true,
  statusCode: 200,
  statusMessage: 'Success',
  raw: '',
  latencyMs: 10,
  costTao: 0.001,
  hedgedUids: [],
  ...overrides,
});

const analysis = { summary: 'Revenue grew.', findings: [{ statement: 'AAPL grew 10% a year.', citations: [0, 1] }] };

describe('judge', () => {
  it('accepts schema-valid JSON even inside a chatty, fenced answer', async () => {
    const raw = `Sure! Here is the analysis:\n\n\`\`\`json\n${JSON.stringify(analysis, null, 2)}\n\`\`\`\nHope this helps.`;
    expect(await judge(result({ raw }))).toEqual({ accepted: true, output: analysis });
  });

  it('rejects text with no JSON, saying so', async () => {
    const verdict = await judge(result({ raw: 'Revenue went up and to the right.' }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'not_json' });
    expect(!verdict.accepted && verdict.reason).toMatch(/^uid 3 on SN1 returned no JSON/);
  });

  it('rejects JSON of the wrong shape with field-level errors for the re-ask', async () => {
    const verdict = await judge(result({ raw: JSON.stringify({ summary: 'x', findings: [{ statement: 'y', citations: 'row 1' }], extra: 1 }) }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'schema' });
    if (verdict.accepted) return;
    expect(verdict.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^findings\.0\.citations: /), expect.stringMatching(/extra/)]));
  });

  it('turns miner faults and empty subnets into rejections with the reason', async () => {
    expect(await judge(result({ ok: false, statusCode: 408, statusMessage: 'Timeout', raw: undefined }))).toMatchObject({
      accepted: false,
      kind: 'miner_error',
      reason: 'uid 3 on SN1 failed: 408 Timeout',
    });
    expect(await judge(result({ uid: null, hotkey: null, ok: false, statusCode: 0, statusMessage: 'no eligible UID on SN1', raw: undefined }))).toMatchObject({
      accepted: false,
      kind: 'no_candidate',
      reason: 'no eligible UID on SN1',
    });
  });

  it("keeps a stranger's text bounded: reasons cut to textLimitChars with a marker, errors capped", async () => {
    const huge = await judge(result({ ok: false, statusCode: 500, statusMessage: 'E'.repeat(400_000), raw: undefined }));
    expect(huge).toMatchObject({ accepted: false, kind: 'miner_error' });
    const reason = !huge.accepted ? huge.reason : '';
    expect(reason.startsWith('uid 3 on SN1 failed: 500 EEE')).toBe(true);
    expect(reason).toContain(`${TRUNCATION_MARKER} `);
    expect(reason.length).toBeLessThanOrEqual(DEFAULT_LIMITS.textLimitChars + 40);
    expect(await judge(result({ ok: false, statusCode: 500, statusMessage: 'x'.repeat(500), raw: undefined }), { textLimitChars: 100 })).toMatchObject({
      reason: expect.stringMatching(/^uid 3 on SN1 failed: 500 x+…\[truncated \d+ chars\]$/),
    });

    // 200 rows nobody asked for: one error each, but only MAX_REJECTION_ERRORS kept.
    const rows = Array.from({ length: 200 }, (_, i) => ({ ...row(`FY${1800 + i}`, i), entity: `T${'X'.repeat(5_000)}${i}` }));
    const financials = await judge(
      result({
        capability: 'data.financials',
        netuid: 13,
        schemaId: 'data.financials@1',
        input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] },
        raw: JSON.stringify({ rows }),
      }),
    );
    expect(financials.accepted).toBe(false);
    if (financials.accepted) return;
    expect(financials.errors.length).toBeGreaterThan(0);
    expect(financials.errors.length).toBeLessThanOrEqual(MAX_REJECTION_ERRORS);
    for (const error of financials.errors) expect(error.length).toBeLessThanOrEqual(DEFAULT_LIMITS.textLimitChars + 40);
    expect(financials.reason.length).toBeLessThanOrEqual(DEFAULT_LIMITS.textLimitChars + 40);
  });

  it('a step of a schema nobody registered is unverifiable (our configuration), not a redelivery loop', async () => {
    const verdict = await judge(result({ schemaId: 'nobody.knows@9', raw: '{}' }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'unverifiable' });
    expect(!verdict.accepted && verdict.reason).toMatch(/not the miner's fault\): unknown schema id "nobody.knows@9"/);
  });

  it('rejects an answer too large to read or carry as too_large', async () => {
    const verdict = await judge(result({ ok: false, statusCode: 400, statusMessage: 'Payload error: response exceeds 770048 bytes.', fault: 'too_large', raw: undefined }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'too_large', reason: 'uid 3 on SN1 failed: 400 Payload error: response exceeds 770048 bytes.' });
  });

  it('rejects schema-valid JSON that does not answer the input as semantic, with the errors for the re-ask', async () => {
    const wrong = { ...analysis, findings: [{ statement: 'AAPL grew 10% a year.', citations: [0, 5] }] };
    const verdict = await judge(result({ raw: JSON.stringify(wrong) }));
    expect(verdict).toMatchObject({ accepted: false, kind: 'semantic', errors: ['findings.0.citations.1: row 5 does not exist; the input has rows 0..1'] });
    expect(!verdict.accepted && verdict.reason).toBe(
      'uid 3 on SN1 returned text.analysis@1 JSON that does not answer the task: findings.0.citations.1: row 5 does not exist; the input has rows 0..1',
    );
  });

  it('does not blame the miner when a check cannot run: unverifiable, with the cause', async () => {
    const invalidInput = await judge(result({ raw: JSON.stringify(analysis), input: { question: 'no rows' } }));
    expect(invalidInput).toMatchObject({ accepted: false, kind: 'unverifiable', errors: [] });
    expect(!invalidInput.accepted && invalidInput.reason).toMatch(
      /^cannot judge the answer of uid 3 on SN1 \(not the miner's fault\): cannot check text\.analysis@1: the task input is invalid/,
    );

    const code = { language: 'python', code: 'print("hi")\n', dependencies: [], entrypoint: 'main.py' };
    const coding = { capability: 'code.python', netuid: 62, schemaId: 'code.python@1', raw: JSON.stringify(code) };
    configurePythonParsers({ ...DEFAULT_PYTHON_SETTINGS, python: 'python3-not-installed-here' });
    try {
      const noPython = await judge(result(coding));
      expect(noPython).toMatchObject({ accepted: false, kind: 'unverifiable' });
      expect(!noPython.accepted && noPython.reason).toContain('python3-not-installed-here is not installed or not executable (ENOENT)');
    } finally {
      configurePythonParsers(DEFAULT_PYTHON_SETTINGS);
    }
    expect(await judge(result(coding))).toEqual({ accepted: true, output: code });
  });

  it("reuses the dispatcher's passed Python parse for exactly the text it passed on, and still judges the rest", async () => {
    const code = { language: 'python', code: 'print("hi")\n', dependencies: [], entrypoint: 'main.py' };
    const raw = JSON.stringify(code);
    const coding = { capability: 'code.python', netuid: 62, schemaId: 'code.python@1', raw };
    // No python3 here: a verdict reached without one proves the parse was not run again.
    configurePythonParsers({ ...DEFAULT_PYTHON_SETTINGS, python: 'python3-not-installed-here' });
    try {
      expect(await judge(result({ ...coding, prechecked: { sha256: answerDigest(raw) } }))).toEqual({ accepted: true, output: code });
      // A digest of other text (the answer changed on the way) is ignored: parsed afresh.
      const changed = await judge(result({ ...coding, prechecked: { sha256: answerDigest(raw + ' ') } }));
      expect(changed).toMatchObject({ accepted: false, kind: 'unverifiable' });
      // Everything but the parse is still checked here.
      const shellRaw = JSON.stringify({ ...code, entrypoint: 'main.sh' });
      const shell = await judge(result({ ...coding, raw: shellRaw, prechecked: { sha256: answerDigest(shellRaw) } }));
      expect(shell).toMatchObject({ accepted: false, kind: 'semantic', errors: ['entrypoint: must name a .py file, got "main.sh"'] });
    } finally {
      configurePythonParsers(DEFAULT_PYTHON_SETTINGS);
    }
  });
});
