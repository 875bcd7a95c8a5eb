import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettingError } from '@orchestra/contracts';
import {
  checkPythonSyntax,
  closePythonParsers,
  DEFAULT_PYTHON_SETTINGS,
  MAX_PYTHON_CHECK_CHARS,
  PythonParserPool,
  pythonParserPool,
  pythonSettings,
  UnverifiableError,
} from './index';

/**
 * A stand-in interpreter speaking the parse protocol (it ignores `-I -c <program>`): answers
 * `ok` to everything except the source `hang` (never answers) and `crash` (exits 1 mid-parse),
 * so timeouts and crashes are real process behaviour, not timing luck.
 */
const FAKE_PARSER = `#!/usr/bin/env python3
import sys, time
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4: break
    src = inp.read(int.from_bytes(head, "big"))
    if src == b"hang": time.sleep(60)
    if src == b"crash":
        sys.stderr.write("fake parser crashed on purpose\\n")
        sys.exit(1)
    out.write((2).to_bytes(4, "big") + b"ok")
    out.flush()
`;

let dir: string;
let fakeParser: string;
const pools: PythonParserPool[] = [];
const pool = (python: string, size?: number, maxQueued?: number): PythonParserPool => {
  const created = new PythonParserPool(python, size, maxQueued);
  pools.push(created);
  return created;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-python-'));
  fakeParser = join(dir, 'fake-parser');
  writeFileSync(fakeParser, FAKE_PARSER);
  chmodSync(fakeParser, 0o755);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await closePythonParsers();
  rmSync(dir, { recursive: true, force: true });
});

const notPython = expect.stringMatching(/^code: does not parse as Python: /);

describe('the long-lived Python parser', () => {
  it('gives the same verdicts as a python3 per answer did, from one reused process', async () => {
    expect(await checkPythonSyntax('import os\nos.system("rm -rf /")\n')).toEqual([]);
    const pids = pythonParserPool()?.pids;
    expect(pids).toHaveLength(1);
    expect(await checkPythonSyntax('def f(:\n  pass\n')).toEqual([expect.stringMatching(/^code: does not parse as Python: line 1, column \d+: /)]);
    expect(await checkPythonSyntax('x = 1\0\n')).toEqual([notPython]);
    // Source decoding is Python's own: a coding cookie applies, undecodable bytes are a verdict.
    expect(await checkPythonSyntax('# -*- coding: latin-1 -*-\ns = "é"\n')).toEqual([]);
    expect(await checkPythonSyntax('# -*- coding: no-such-codec -*-\nx = 1\n')).toEqual([notPython]);
    expect(pythonParserPool()?.pids).toEqual(pids);
  });

  it('answers concurrent parses each with its own verdict (no interleaving on the pipe)', async () => {
    const parser = pool('python3', 2);
    const codes = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `def f${i}(:\n` : `x${i} = ${i}\n` + 'y = "é"\n'.repeat(i * 50)));
    const verdicts = await Promise.all(codes.map((code) => parser.parse(code)));
    verdicts.forEach((verdict, i) => expect(verdict).toEqual(i % 3 === 0 ? [notPython] : []));
    expect(parser.pids.length).toBeLessThanOrEqual(2);
  });

  it('bounds the input: refuses oversized code unparsed, and survives hostile nesting and the largest input', async () => {
    expect(await checkPythonSyntax('x'.repeat(MAX_PYTHON_CHECK_CHARS + 1))).toEqual([
      `code: ${MAX_PYTHON_CHECK_CHARS + 1} characters is more than the ${MAX_PYTHON_CHECK_CHARS} the syntax check reads`,
    ]);
    expect(await checkPythonSyntax('('.repeat(MAX_PYTHON_CHECK_CHARS))).toEqual([notPython]);
    expect(await checkPythonSyntax('x = [' + '['.repeat(50_000) + ']'.repeat(50_000) + ']\n')).toEqual([notPython]);
    // The largest accepted input, four UTF-8 bytes per character.
    const widest = 's = "' + '😀'.repeat((MAX_PYTHON_CHECK_CHARS - 8) / 2) + '"\n';
    expect(widest.length).toBeLessThanOrEqual(MAX_PYTHON_CHECK_CHARS);
    expect(await checkPythonSyntax(widest)).toEqual([]);
    expect(await checkPythonSyntax('x = 1\n')).toEqual([]);
  });

  it('replaces a parser process that died between parses', async () => {
    const parser = pool('python3', 1);
    expect(await parser.parse('x = 1')).toEqual([]);
    const [pid] = parser.pids;
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await parser.parse('y = 2')).toEqual([]);
    expect(parser.pids).toHaveLength(1);
    expect(parser.pids[0]).not.toBe(pid);
  });

  it('gives a parse whose process was killed under it to a fresh one', async () => {
    const parser = pool('python3', 1);
    expect(await parser.parse('x = 1')).toEqual([]);
    const [pid] = parser.pids;
    // No pause: the parse meets a dying (or dead, not yet reaped) process.
    process.kill(pid, 'SIGKILL');
    expect(await parser.parse('y = 2')).toEqual([]);
    expect(parser.pids).not.toContain(pid);
  });

  it('a parse that crashes its parser twice is not a verdict on the answer (not retryable, as a broken python3), and the parser is replaced', async () => {
    const parser = pool(fakeParser, 1);
    const crashed = parser.parse('crash');
    await expect(crashed).rejects.toBeInstanceOf(UnverifiableError);
    await expect(crashed).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/ended with status 1: fake parser crashed on purpose/) });
    expect(await parser.parse('x = 1')).toEqual([]);
  });

  it('times a hung parse out as retryable, kills that process and goes on with a fresh one', async () => {
    const parser = pool(fakeParser, 1);
    expect(await parser.parse('x = 1')).toEqual([]);
    const [pid] = parser.pids;
    const hung = parser.parse('hang', 300);
    const queued = parser.parse('x = 2', 5_000);
    await expect(hung).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('was killed after 300 ms') });
    expect(await queued).toEqual([]);
    expect(parser.pids).not.toContain(pid);
  });

  it('refuses parses beyond its queue as retryable, and every waiting parse on close', async () => {
    const parser = new PythonParserPool(fakeParser, 1, 2);
    const shutDown = { retryable: true, message: expect.stringContaining('shutting down') };
    const running = expect(parser.parse('hang', 10_000)).rejects.toMatchObject(shutDown);
    const waiting = [parser.parse('x = 1'), parser.parse('x = 2')].map((parse) => expect(parse).rejects.toMatchObject(shutDown));
    await expect(parser.parse('x = 3')).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('2 parses already wait') });
    await parser.close(200);
    await Promise.all([running, ...waiting]);
    expect(parser.pids).toEqual([]);
    await expect(parser.parse('x = 4')).rejects.toMatchObject({ retryable: true });
  });

  it('says clearly when the interpreter is missing (not retryable)', async () => {
    await expect(checkPythonSyntax('x = 1', { python: join(dir, 'no-python-here') })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('is not installed or not executable (ENOENT)'),
    });
  });
});

describe('pythonSettings (ORCH_PYTHON, ORCH_PYTHON_PARSERS)', () => {
  it('defaults to python3 and two parsers, blank meaning the default', () => {
    expect(pythonSettings({})).toEqual(DEFAULT_PYTHON_SETTINGS);
    expect(pythonSettings({ ORCH_PYTHON: ' ', ORCH_PYTHON_PARSERS: '' })).toEqual({ python: 'python3', parsers: 2 });
    expect(pythonSettings({ ORCH_PYTHON: '/opt/py/bin/python3.12', ORCH_PYTHON_PARSERS: '8' })).toEqual({ python: '/opt/py/bin/python3.12', parsers: 8 });
  });

  it('refuses a pool size that is not 1 to 64 at start, as a setting error (not a parse that cannot run)', () => {
    for (const raw of ['0', '65', 'four', '2.5']) {
      expect(() => pythonSettings({ ORCH_PYTHON_PARSERS: raw })).toThrow(SettingError);
      expect(() => pythonSettings({ ORCH_PYTHON_PARSERS: raw })).toThrow(`ORCH_PYTHON_PARSERS must be an integer from 1 to 64; got ${JSON.stringify(raw)}`);
    }
  });
});
