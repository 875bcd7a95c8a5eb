import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';

/** How to run one supervised process. */
export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Where its stdout and stderr go (appended). */
  readonly logFile: string;
  /**
   * A liveness URL (`/healthz`) probed as a kubelet would: after LIVENESS_FAILURES answers
   * of 503 in a row the process is killed and restarted. Connection errors do not count
   * (a process still starting, or already exited, is handled by the exit path).
   */
  readonly livenessUrl?: string;
}

/** Liveness probe period, ms, and the 503s in a row that get a process restarted (Kubernetes' defaults: 10 s, 3). */
const LIVENESS_PERIOD_MS = 5_000;
const LIVENESS_FAILURES = 3;

/** A run at least this long resets the restart backoff, ms. */
const STABLE_MS = 10_000;

/** A process kept running as a Kubernetes Deployment would: restarted with backoff when it dies. */
export class SupervisedProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  private stopping = false;
  private restarts = 0;
  /** Crashes in a row, each within STABLE_MS of its start: what the backoff grows with. */
  private quickCrashes = 0;
  private startedAt = 0;
  private readonly lineListeners = new Set<(line: string) => void>();
  private probe?: NodeJS.Timeout;

  constructor(
    readonly spec: ProcessSpec,
    private readonly onEvent: (message: string) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  start(): void {
    this.stopping = false;
    this.startedAt = Date.now();
    this.log ??= createWriteStream(this.spec.logFile, { flags: 'a' });
    const child = spawn(this.spec.command, [...this.spec.args], { cwd: this.spec.cwd, env: this.spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      this.log?.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) for (const listener of this.lineListeners) listener(line);
    });
    child.stderr?.on('data', (chunk: Buffer) => this.log?.write(chunk));
    this.watchLiveness(child);
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.stopping) return;
      this.restarts++;
      // Like Kubernetes' CrashLoopBackOff: the delay doubles while it keeps crashing at once,
      // and starts over once a run has lasted.
      this.quickCrashes = Date.now() - this.startedAt < STABLE_MS ? this.quickCrashes + 1 : 1;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(this.quickCrashes - 1, 5));
      this.onEvent(`${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms (restart #${this.restarts}, log: ${this.spec.logFile})`);
      setTimeout(() => {
        if (!this.stopping && this.child === child) this.start();
      }, delay).unref();
    });
  }

  private watchLiveness(child: ChildProcess): void {
    clearInterval(this.probe);
    const url = this.spec.livenessUrl;
    if (!url) return;
    let failures = 0;
    this.probe = setInterval(() => {
      if (this.child !== child || this.stopping) return clearInterval(this.probe);
      fetch(url, { signal: AbortSignal.timeout(LIVENESS_PERIOD_MS) })
        .then(async (res) => {
          failures = res.status === 503 ? failures + 1 : 0;
          if (failures < LIVENESS_FAILURES || this.child !== child || this.stopping) return;
          this.onEvent(`${this.spec.name} is not live (${LIVENESS_FAILURES} × 503 from ${url}: ${(await res.text()).slice(0, 500)}); killing it to restart it`);
          failures = 0;
          child.kill('SIGKILL');
        })
        .catch(() => undefined);
    }, LIVENESS_PERIOD_MS);
    this.probe.unref();
  }

  /** Resolves with the first stdout line that satisfies `match` (e.g. a "ready" log line). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lineListeners.delete(listener);
        reject(new Error(`${this.spec.name} did not report ready within ${timeoutMs} ms; see ${this.spec.logFile}`));
      }, timeoutMs);
      const listener = (line: string) => {
        if (!match(line)) return;
        clearTimeout(timer);
        this.lineListeners.delete(listener);
        resolve(line);
      };
      this.lineListeners.add(listener);
    });
  }

  /** Sends a signal to the current process (e.g. SIGKILL to rehearse a crash); the supervisor restarts it. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  /** Stops it for good: SIGTERM, then SIGKILL after `graceMs`. Resolves with its exit code. */
  async stop(graceMs = 25_000): Promise<number | null> {
    this.stopping = true;
    clearInterval(this.probe);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.log?.end();
      return child?.exitCode ?? null;
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    this.log?.end();
    return code;
  }
}
