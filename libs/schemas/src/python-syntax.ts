import { spawn } from 'node:child_process';
import { UnverifiableError } from './unverifiable';

/** How to run the Python syntax check. */
export interface PythonSyntaxOptions {
  /** The interpreter, looked up on PATH; default `$ORCH_PYTHON`, else `python3`. */
  readonly python?: string;
  /** Kill the parser after this long, ms (default 5 s): parsing 100 000 characters takes milliseconds. */
  readonly timeoutMs?: number;
}

/** Code longer than this is refused unparsed; the code.python@1 schema already caps it at 100 000. */
export const MAX_PYTHON_CHECK_CHARS = 200_000;

const DEFAULT_TIMEOUT_MS = 5_000;

/** Exit status of PARSE_PROGRAM when the code does not parse. */
const NOT_PYTHON_EXIT = 3;

/** Cap on what we keep of the parser's stdout and stderr. */
const MAX_CAPTURE_CHARS = 4_000;

/**
 * Reads the code from stdin as bytes (so Python's own source decoding applies) and parses it.
 * `ast.parse` builds a syntax tree and never executes or even compiles the code to bytecode.
 * ValueError (null bytes), RecursionError and MemoryError (absurd nesting) also mean "not a
 * program Python accepts".
 */
const PARSE_PROGRAM = [
  'import ast, sys',
  'try:',
  '    ast.parse(sys.stdin.buffer.read(), "<answer>")',
  'except SyntaxError as e:',
  '    print(f"line {e.lineno}, column {e.offset}: {e.msg}")',
  `    sys.exit(${NOT_PYTHON_EXIT})`,
  'except (ValueError, RecursionError, MemoryError) as e:',
  '    print(f"{type(e).__name__}: {e}")',
  `    sys.exit(${NOT_PYTHON_EXIT})`,
].join('\n');

/**
 * Whether `code` parses as Python, without running it: a `python3 -I -c <parse program>` child
 * (the interpreter is `ORCH_PYTHON` when set, so a deployment can name one off its PATH)
 * (no shell, isolated mode: no PYTHON* variables, user site or working directory on sys.path)
 * is fed the code on stdin and killed after `timeoutMs`. Resolves to `[]` when it parses, or one
 * `code: …` error naming the line. Throws UnverifiableError when the check itself cannot run:
 * python3 missing or unusable (retryable false: an operator must install it), or killed by the
 * timeout or a transient spawn failure (retryable true).
 */
export function checkPythonSyntax(code: string, options: PythonSyntaxOptions = {}): Promise<string[]> {
  if (code.length > MAX_PYTHON_CHECK_CHARS) {
    return Promise.resolve([`code: ${code.length} characters is more than the ${MAX_PYTHON_CHECK_CHARS} the syntax check reads`]);
  }
  const python = options.python ?? (process.env.ORCH_PYTHON || 'python3');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', PARSE_PROGRAM], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer rather than spawn's `timeout`, which outlives a child that never started.
    let timedOut = false;
    const timer = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout = (stdout + chunk).slice(0, MAX_CAPTURE_CHARS)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(0, MAX_CAPTURE_CHARS)));
    // The parser may exit before reading everything (it never should); its exit status tells.
    child.stdin.on('error', () => undefined);
    child.once('error', (error: NodeJS.ErrnoException) => {
      const missing = error.code === 'ENOENT' || error.code === 'EACCES';
      const why = missing
        ? `${python} is not installed or not executable (${error.code}); install Python 3 on the verifier's host to check code.python answers`
        : `could not start ${python}: ${error.message}`;
      reject(new UnverifiableError(`Python syntax check unavailable: ${why}`, { retryable: !missing, cause: error }));
    });
    // Also emitted after 'error' (then rejecting again is a no-op).
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      if (status === 0) return resolve([]);
      if (status === NOT_PYTHON_EXIT) return resolve([`code: does not parse as Python: ${stdout.trim()}`]);
      const how = timedOut ? `was killed after ${timeoutMs} ms` : `ended with ${signal ?? `status ${status}`}: ${stderr.trim().slice(-500)}`;
      // A timeout is the host being slow; anything else means `python` is not a working Python 3.
      reject(new UnverifiableError(`Python syntax check unavailable: ${python} ${how}`, { retryable: timedOut }));
    });
    child.stdin.end(code, 'utf8');
  });
}
