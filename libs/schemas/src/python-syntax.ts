import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { SettingError } from '@orchestra/contracts';
import { UnverifiableError } from './unverifiable';

/** How to run the Python syntax check. */
export interface PythonSyntaxOptions {
  /** The interpreter, looked up on PATH; default the configured one (`ORCH_PYTHON`, {@link configurePythonParsers}), else `python3`. */
  readonly python?: string;
  /** Give up on one parse after this long, ms (default 5 s): parsing 100 000 characters takes milliseconds. */
  readonly timeoutMs?: number;
}

/** Code longer than this is refused unparsed; the code.python@1 schema already caps it at 100 000. */
export const MAX_PYTHON_CHECK_CHARS = 200_000;

const DEFAULT_TIMEOUT_MS = 5_000;

/** Parser processes per interpreter at most (started on demand); `ORCH_PYTHON_PARSERS`. */
const DEFAULT_POOL_SIZE = 2;

/** Most parser processes an operator may ask for per interpreter. */
const MAX_POOL_SIZE = 64;

/** Which interpreter parses Python answers, and with how many processes at most. */
export interface PythonSettings {
  /** `ORCH_PYTHON`: the interpreter (a name on PATH or a path). */
  readonly python: string;
  /** `ORCH_PYTHON_PARSERS`: parser processes per interpreter at most. */
  readonly parsers: number;
}

export const DEFAULT_PYTHON_SETTINGS: PythonSettings = { python: 'python3', parsers: DEFAULT_POOL_SIZE };

/** The Python section of a service's config: `ORCH_PYTHON`, `ORCH_PYTHON_PARSERS`. Throws SettingError on a bad one. */
export function pythonSettings(env: Readonly<Record<string, string | undefined>>): PythonSettings {
  const python = env.ORCH_PYTHON?.trim() || DEFAULT_PYTHON_SETTINGS.python;
  const raw = env.ORCH_PYTHON_PARSERS;
  if (raw === undefined || raw.trim() === '') return { python, parsers: DEFAULT_POOL_SIZE };
  const parsers = Number(raw);
  if (!Number.isInteger(parsers) || parsers < 1 || parsers > MAX_POOL_SIZE) {
    throw new SettingError(`ORCH_PYTHON_PARSERS must be an integer from 1 to ${MAX_POOL_SIZE}; got ${JSON.stringify(raw)}; unset it for the default ${DEFAULT_POOL_SIZE}`);
  }
  return { python, parsers };
}

/** The settings in force for this process's checks; a service sets them once at start. */
let settings: PythonSettings = DEFAULT_PYTHON_SETTINGS;

/**
 * Sets the interpreter and pool size every later check uses (a service's `main`, from its
 * config). Pools already started keep their size; call before the first check.
 */
export function configurePythonParsers(next: PythonSettings): void {
  settings = next;
}

/**
 * Parses waiting for a free parser at most; more are refused as "try again later" (retryable),
 * so a flood of code answers queues in JetStream, not in this process's memory.
 */
const MAX_QUEUED_PARSES = 256;

/** Cap on what we keep of the parser's stderr, and on one reply's text. */
const MAX_CAPTURE_CHARS = 4_000;

/** Largest reply frame we accept from the parser, bytes: replies are one short line. */
const MAX_REPLY_BYTES = 64 * 1024;

/** Largest request frame the parser accepts, bytes: MAX_PYTHON_CHECK_CHARS in UTF-8, at most 4 bytes each. */
const MAX_REQUEST_BYTES = MAX_PYTHON_CHECK_CHARS * 4;

/**
 * The long-lived parser. It reads frames from stdin — a 4-byte big-endian length, then that
 * many bytes of source (bytes, so Python's own source decoding applies) — and answers each with
 * a frame `ok`, or `no` and the reason. `ast.parse` builds a syntax tree and never executes or
 * even compiles the code to bytecode. ValueError (null bytes), RecursionError and MemoryError
 * (absurd nesting) also mean "not a program Python accepts". Warnings (e.g. invalid escape
 * sequences) never change a verdict and would only fill stderr, so they are ignored. At end of
 * input (our side closed or died) it exits; a frame larger than we ever send ends it too.
 */
const PARSE_PROGRAM = [
  'import ast, sys, warnings',
  'warnings.simplefilter("ignore")',
  'inp, out = sys.stdin.buffer, sys.stdout.buffer',
  'while True:',
  '    head = inp.read(4)',
  '    if len(head) < 4: break',
  '    n = int.from_bytes(head, "big")',
  `    if n > ${MAX_REQUEST_BYTES}: sys.exit(4)`,
  '    src = inp.read(n)',
  '    if len(src) < n: break',
  '    try:',
  '        ast.parse(src, "<answer>")',
  '        reply = "ok"',
  '    except SyntaxError as e:',
  '        reply = f"noline {e.lineno}, column {e.offset}: {e.msg}"',
  '    except (ValueError, RecursionError, MemoryError) as e:',
  '        reply = f"no{type(e).__name__}: {e}"',
  '    data = reply.encode("utf-8", "replace")',
  '    out.write(len(data).to_bytes(4, "big") + data)',
  '    out.flush()',
].join('\n');

interface Parse {
  readonly source: Buffer;
  readonly timeoutMs: number;
  readonly resolve: (errors: string[]) => void;
  readonly reject: (error: UnverifiableError) => void;
  /** Parser processes that died with this parse in hand. */
  crashes: number;
}

/**
 * One `python3 -I -c <parse program>` child (no shell; isolated mode: no PYTHON* variables,
 * user site or working directory on sys.path), answering one parse at a time. It is spawned
 * once and reused, because starting an interpreter costs ~100 ms and a parse well under 1 ms.
 * A child that dies, answers garbage or outlives a parse's timeout is killed and never reused.
 */
class ParserProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private current?: { parse: Parse; timer: NodeJS.Timeout };
  private stdout = Buffer.alloc(0);
  private stderr = '';
  private spawnError?: NodeJS.ErrnoException;
  /** False once the child is gone or condemned: the pool then starts a fresh one. */
  alive = true;

  constructor(
    private readonly python: string,
    private readonly onIdle: (parser: ParserProcess) => void,
    /** Told when the child died with `parse` in hand (not by our timeout): the pool decides whether to try it again. */
    private readonly onDeath: (parse: Parse, error: UnverifiableError) => void,
  ) {
    this.child = spawn(python, ['-I', '-c', PARSE_PROGRAM], { stdio: ['pipe', 'pipe', 'pipe'] });
    // An idle parser must not keep a finished process (a test, a CLI) alive; a parse in
    // progress holds its timer, which does.
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-MAX_CAPTURE_CHARS)));
    // A child that died before reading its input fails the write; its exit tells why.
    this.child.stdin.on('error', () => undefined);
    this.child.once('error', (error: NodeJS.ErrnoException) => {
      this.spawnError = error;
      this.fail(this.describeSpawnError(error));
    });
    // Also emitted after 'error' (then there is nothing left to fail).
    this.child.once('close', (status, signal) => {
      this.alive = false;
      // A timeout has already answered its parse; anything else means `python` is not a working
      // Python 3 — or this process died of something else (the OOM killer, an operator).
      const error = new UnverifiableError(`Python syntax check unavailable: ${this.python} ended with ${signal ?? `status ${status}`}: ${this.stderr.trim().slice(-500)}`, {
        retryable: false,
      });
      if (!this.current) return;
      const { parse, timer } = this.current;
      clearTimeout(timer);
      this.current = undefined;
      this.onDeath(parse, error);
      this.onIdle(this);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  run(parse: Parse): void {
    const timer = setTimeout(() => {
      this.fail(new UnverifiableError(`Python syntax check unavailable: ${this.python} was killed after ${parse.timeoutMs} ms`, { retryable: true }));
      this.kill();
    }, parse.timeoutMs);
    this.current = { parse, timer };
    const head = Buffer.alloc(4);
    head.writeUInt32BE(parse.source.length);
    this.child.stdin.write(Buffer.concat([head, parse.source]));
  }

  /** Ends the child: at end of input it exits by itself; SIGKILL if it has not within `graceMs`. */
  close(graceMs: number): Promise<void> {
    // A parse cut short by shutdown says nothing about the answer: judge it again later.
    this.fail(new UnverifiableError('Python syntax check unavailable: the service is shutting down', { retryable: true }));
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.spawnError) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.kill(), graceMs);
      this.child.once('close', () => (clearTimeout(timer), resolve()));
      this.child.stdin.end();
    });
  }

  kill(): void {
    this.alive = false;
    this.child.kill('SIGKILL');
  }

  private onData(chunk: Buffer): void {
    this.stdout = Buffer.concat([this.stdout, chunk]);
    while (this.stdout.length >= 4) {
      const length = this.stdout.readUInt32BE(0);
      if (length > MAX_REPLY_BYTES || !this.current) {
        this.fail(new UnverifiableError(`Python syntax check unavailable: ${this.python} broke the parse protocol (is it the Python 3 parse program?)`, { retryable: false }));
        return this.kill();
      }
      if (this.stdout.length < 4 + length) return;
      const reply = this.stdout.subarray(4, 4 + length).toString('utf8');
      this.stdout = this.stdout.subarray(4 + length);
      const { parse, timer } = this.current;
      clearTimeout(timer);
      this.current = undefined;
      if (reply === 'ok') parse.resolve([]);
      else parse.resolve([`code: does not parse as Python: ${reply.slice(2, 2 + MAX_CAPTURE_CHARS).trim()}`]);
      this.onIdle(this);
    }
  }

  /** Answers the parse in progress, if any, with `error`; the child is then of no further use. */
  private fail(error: UnverifiableError): void {
    this.alive = false;
    if (!this.current) return;
    const { parse, timer } = this.current;
    clearTimeout(timer);
    this.current = undefined;
    parse.reject(error);
    this.onIdle(this);
  }

  private describeSpawnError(error: NodeJS.ErrnoException): UnverifiableError {
    const missing = error.code === 'ENOENT' || error.code === 'EACCES';
    const why = missing
      ? `${this.python} is not installed or not executable (${error.code}); install Python 3 on the verifier's host to check code.python answers`
      : `could not start ${this.python}: ${error.message}`;
    return new UnverifiableError(`Python syntax check unavailable: ${why}`, { retryable: !missing, cause: error });
  }
}

/**
 * Up to `size` parser processes of one interpreter and a bounded FIFO of parses waiting for
 * one, so concurrent parses never share a child's pipe. Parsers start on demand and are
 * replaced when they die or hang.
 */
export class PythonParserPool {
  private readonly parsers: ParserProcess[] = [];
  private readonly queue: Parse[] = [];
  private closed = false;

  constructor(
    readonly python: string,
    private readonly size = DEFAULT_POOL_SIZE,
    private readonly maxQueued = MAX_QUEUED_PARSES,
  ) {}

  /** The parser children alive now (for readiness reports and tests). */
  get pids(): number[] {
    return this.parsers.filter((p) => p.alive && p.pid !== undefined).map((p) => p.pid as number);
  }

  /** `[]` when `code` parses, else one `code: …` error; rejects with UnverifiableError when the check cannot run. */
  parse(code: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
    if (this.closed) return Promise.reject(new UnverifiableError('Python syntax check unavailable: the service is shutting down', { retryable: true }));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new UnverifiableError(`Python syntax check busy: ${this.queue.length} parses already wait; judge this answer again later`, { retryable: true }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ source: Buffer.from(code, 'utf8'), timeoutMs, resolve, reject, crashes: 0 });
      this.pump();
    });
  }

  /** Refuses further parses, fails the waiting ones (retryable) and ends every child. */
  async close(graceMs = 1_000): Promise<void> {
    this.closed = true;
    for (const parse of this.queue.splice(0)) {
      parse.reject(new UnverifiableError('Python syntax check unavailable: the service is shutting down', { retryable: true }));
    }
    await Promise.all(this.parsers.splice(0).map((p) => p.close(graceMs)));
  }

  /**
   * A parser died with `parse` in hand. Once may be bad luck — a process killed from outside, or
   * one that died idle just before the parse was handed to it — so the parse goes first in line
   * for a fresh process; twice means this interpreter cannot parse (it is no Python 3, or this
   * input kills it), which an operator must look at: not retryable, as a missing python3.
   */
  private onDeath(parse: Parse, error: UnverifiableError): void {
    if (this.closed || parse.crashes++ > 0) return parse.reject(error);
    this.queue.unshift(parse);
  }

  private pump(): void {
    if (this.closed) return;
    for (let i = this.parsers.length - 1; i >= 0; i--) if (!this.parsers[i].alive && !this.parsers[i].busy) this.parsers.splice(i, 1);
    while (this.queue.length > 0) {
      let parser = this.parsers.find((p) => p.alive && !p.busy);
      if (!parser && this.parsers.length < this.size) {
        parser = new ParserProcess(
          this.python,
          () => this.pump(),
          (parse, error) => this.onDeath(parse, error),
        );
        this.parsers.push(parser);
      }
      if (!parser) return;
      parser.run(this.queue.shift() as Parse);
    }
  }
}

/** One pool per interpreter, shared by every caller in the process. */
const pools = new Map<string, PythonParserPool>();

/**
 * Whether `code` parses as Python, without running it: handed to a long-lived
 * `python3 -I` parser process (the interpreter is `ORCH_PYTHON` when set, so a deployment can
 * name one off its PATH: {@link configurePythonParsers}) that only `ast.parse`s it, and given up after `timeoutMs`. Resolves
 * to `[]` when it parses, or one `code: …` error naming the line. Throws UnverifiableError when
 * the check itself cannot run: python3 missing or unusable (retryable false: an operator must
 * install it), or a timeout, a full queue or a transient spawn failure (retryable true).
 */
export async function checkPythonSyntax(code: string, options: PythonSyntaxOptions = {}): Promise<string[]> {
  if (code.length > MAX_PYTHON_CHECK_CHARS) {
    return [`code: ${code.length} characters is more than the ${MAX_PYTHON_CHECK_CHARS} the syntax check reads`];
  }
  const python = options.python ?? settings.python;
  let pool = pools.get(python);
  if (!pool) pools.set(python, (pool = new PythonParserPool(python, settings.parsers)));
  return pool.parse(code, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** The shared parser pool of `python` (default: the configured interpreter), if one was started. */
export function pythonParserPool(python = settings.python): PythonParserPool | undefined {
  return pools.get(python);
}

/** Ends every shared parser process; call on service shutdown. A later check starts fresh ones. */
export async function closePythonParsers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.close()));
}
