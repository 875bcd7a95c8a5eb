import { checkPythonSyntax, FinancialRow, SEMANTIC_CHECKS, UnverifiableError, verifyOutput } from './index';

const row = (entity: string, period: string, metric: FinancialRow['metric'], value = 100): FinancialRow => ({
  entity,
  period,
  metric,
  value,
  unit: 'USD_millions',
  source: `${entity} 10-K ${period}`,
});

describe('data.financials@1: exactly the requested rows', () => {
  const input = { entities: ['AAPL', 'nvda'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] };
  const complete = [row('AAPL', 'FY2022', 'revenue'), row('AAPL', 'FY2023', 'revenue'), row('NVDA', 'FY2022', 'revenue'), row('NVDA', 'FY2023', 'revenue')];
  const verify = (rows: FinancialRow[]) => verifyOutput('data.financials@1', JSON.stringify({ rows }), input);

  it('accepts every requested (entity, period, metric) once, tickers in any case', async () => {
    expect(await verify(complete)).toEqual({ ok: true, value: { rows: complete } });
  });

  it('names a missing row', async () => {
    expect(await verify(complete.slice(1))).toEqual({ ok: false, kind: 'semantic', errors: ['rows: missing 1 requested row(s): AAPL/FY2022/revenue'] });
  });

  it('names a row nobody asked for', async () => {
    expect(await verify([...complete, row('MSFT', 'FY2023', 'revenue'), row('AAPL', 'FY2023', 'net_income')])).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['rows.4: MSFT/FY2023/revenue was not requested', 'rows.5: AAPL/FY2023/net_income was not requested'],
    });
  });

  it('names a duplicate, even with another value', async () => {
    expect(await verify([...complete, row('NVDA', 'FY2022', 'revenue', 999)])).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['rows.4: duplicates rows.2 (NVDA/FY2022/revenue)'],
    });
  });

  it('counts what it does not name when much is missing', async () => {
    const wide = { entities: ['AAPL', 'MSFT', 'NVDA'], periods: ['FY2019', 'FY2020', 'FY2021', 'FY2022', 'FY2023'], metrics: ['revenue', 'net_income'] };
    const verdict = await verifyOutput('data.financials@1', JSON.stringify({ rows: [row('AAPL', 'FY2019', 'revenue')] }), wide);
    expect(verdict).toMatchObject({ ok: false, kind: 'semantic', errors: [expect.stringMatching(/^rows: missing 29 requested row\(s\): (\S+, ){9}\S+ and 19 more$/)] });
  });

  it('checks shape before meaning', async () => {
    expect(await verifyOutput('data.financials@1', JSON.stringify({ rows: [] }), input)).toMatchObject({ ok: false, kind: 'schema' });
  });
});

describe('text.analysis@1: citations that exist and fit the statement', () => {
  const input = { question: 'How did they grow?', rows: [row('AAPL', 'FY2022', 'revenue'), row('AAPL', 'FY2023', 'revenue'), row('BRK.B', 'FY2023', 'revenue')] };
  const verify = (findings: { statement: string; citations: number[] }[]) => verifyOutput('text.analysis@1', JSON.stringify({ summary: 'Growth.', findings }), input);

  it('accepts findings citing rows of the companies they name', async () => {
    const findings = [
      { statement: 'AAPL revenue fell slightly; BRK.B held steady.', citations: [0, 1, 2] },
      { statement: 'Revenue was flat overall (no ticker named, and AAPLE or XAAPL are not tickers).', citations: [2] },
    ];
    expect(await verify(findings)).toMatchObject({ ok: true });
  });

  it('names a citation of a row that does not exist', async () => {
    expect(await verify([{ statement: 'AAPL grew.', citations: [1, 3] }])).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['findings.0.citations.1: row 3 does not exist; the input has rows 0..2'],
    });
  });

  it('names a company a finding talks about but does not cite', async () => {
    expect(await verify([{ statement: 'AAPL grew faster than BRK.B.', citations: [0] }])).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['findings.0: the statement names BRK.B but cites no BRK.B row'],
    });
  });

  it('cannot judge against an invalid input, and says it is not the answer', async () => {
    const check = SEMANTIC_CHECKS['text.analysis@1'];
    await expect(check?.({ summary: 's', findings: [{ statement: 'x', citations: [0] }] }, { question: 'q', rows: [] })).rejects.toMatchObject({
      name: 'UnverifiableError',
      retryable: false,
      message: expect.stringContaining('cannot check text.analysis@1: the task input is invalid (rows: '),
    });
  });
});

describe('code.python@1: parses as Python, never run', () => {
  const code = (source: string, entrypoint = 'main.py') => JSON.stringify({ language: 'python', code: source, dependencies: [], entrypoint });
  const verify = (source: string, entrypoint?: string) => verifyOutput('code.python@1', code(source, entrypoint), {});

  it('accepts a script that parses, without executing it', async () => {
    // Executing this would fail loudly; parsing it is fine.
    expect(await verify('import sys\nraise SystemExit(f"executed {sys.argv}")\n')).toMatchObject({ ok: true });
  });

  it('names the line of a syntax error, and a non-.py entrypoint', async () => {
    expect(await verify('def main(:\n    pass\n', 'main.sh')).toEqual({
      ok: false,
      kind: 'semantic',
      errors: ['entrypoint: must name a .py file, got "main.sh"', expect.stringMatching(/^code: does not parse as Python: line 1, column \d+: /)],
    });
  });

  it('refuses null bytes as not Python', async () => {
    expect(await checkPythonSyntax('x = 1\0\n')).toEqual([expect.stringMatching(/^code: does not parse as Python: /)]);
  });

  // Timeouts, crashes and restarts of the parser process: python-syntax.spec.ts.
  it('says clearly when python3 is missing (not retryable)', async () => {
    const missing = checkPythonSyntax('x = 1', { python: 'python3-not-installed-here' });
    await expect(missing).rejects.toBeInstanceOf(UnverifiableError);
    await expect(missing).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('python3-not-installed-here is not installed or not executable (ENOENT)'),
    });
  });
});
