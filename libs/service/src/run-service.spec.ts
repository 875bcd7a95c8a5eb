import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REPO_ROOT = join(__dirname, '../../..');
const FIXTURE = join(__dirname, 'fixtures/service.fixture.ts');

type LogLine = Record<string, unknown>;

/** The fixture service in a real child process, with its stdout parsed line by line. */
class FixtureProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE], {
      cwd: REPO_ROOT,
      env: { ...process.env, OPS_HOST: '127.0.0.1', OPS_PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Every stdout line must be one JSON object; JSON.parse throwing fails the test.
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(JSON.parse(line) as LogLine);
      this.waiters.forEach((wake) => wake());
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves with the first line whose msg is `msg`, failing after `timeoutMs`. */
  waitFor(msg: string, timeoutMs = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((line) => line.msg === msg);
        if (!found) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no "${msg}" line within ${timeoutMs} ms; stdout: ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Exit code, failing if the process outlives `timeoutMs`. */
  async exitCode(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`fixture did not exit within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A loopback OTLP/HTTP collector recording the request bodies it receives, and their media types. */
async function startCollector(): Promise<{ url: string; bodies: string[]; types: string[]; server: Server }> {
  const bodies: string[] = [];
  const types: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        bodies.push(body);
        types.push(req.headers['content-type'] ?? '');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, types, server };
}

describe('runService', () => {
  it('drains on SIGTERM: readyz turns 503, hooks run, spans flush, exit 0', async () => {
    const collector = await startCollector();
    try {
      const service = new FixtureProcess({ DRAIN_MS: '400', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
      const started = await service.waitFor('service started');
      expect(started).toMatchObject({ level: 'info', service: 'fixture-worker', startupMs: expect.any(Number) });
      const readyz = `http://127.0.0.1:${started.opsPort as number}/readyz`;
      expect((await fetch(readyz)).status).toBe(200);

      service.signal('SIGTERM');
      await service.waitFor('draining');
      const during = await fetch(readyz);
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ ready: false, checks: { shutdown: 'in progress' } });
      service.signal('SIGTERM'); // a second signal must not start a second shutdown

      expect(await service.exitCode()).toBe(0);
      const drained = service.lines.find((line) => line.msg === 'drained');
      expect(drained).toMatchObject({ context: 'Drainer', trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(service.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['service stopping', 'shutdown already in progress, signal ignored', 'service stopped']));
      expect(service.lines.filter((line) => line.msg === 'draining')).toHaveLength(1);
      expect(service.lines.find((line) => line.msg === 'service stopped')).toMatchObject({
        shutdownMs: expect.any(Number),
        uptimeMs: expect.any(Number),
      });
      // The drain span was exported over OTLP/HTTP before exit.
      const exported = collector.bodies.join('\n');
      expect(exported).toContain('"drain"');
      expect(exported).toContain('job-drain');
      expect(exported).toContain(drained!.trace_id as string);
    } finally {
      await new Promise((resolve) => collector.server.close(resolve));
    }
  });

  it('exports over OTLP/HTTP as protobuf by default, with OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    const collector = await startCollector();
    try {
      const service = new FixtureProcess({
        DRAIN_MS: '100',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'renamed-worker',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=spec-env',
      });
      await service.waitFor('service started');
      service.signal('SIGTERM');
      expect(await service.exitCode()).toBe(0);
      expect(collector.types).toContain('application/x-protobuf');
      // Protobuf keeps strings as they are: the span, its job id and the resource are readable.
      const exported = collector.bodies.join('\n');
      for (const text of ['drain', 'job-drain', 'renamed-worker', 'spec-env']) expect(exported).toContain(text);
      expect(exported).not.toContain('fixture-worker');
    } finally {
      await new Promise((resolve) => collector.server.close(resolve));
    }
  });

  it('exports the same through the full Node SDK, loaded when a variable asks for more than tracing (OTEL_PROPAGATORS)', async () => {
    const collector = await startCollector();
    try {
      const service = new FixtureProcess({ DRAIN_MS: '100', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_PROPAGATORS: 'tracecontext,baggage' });
      await service.waitFor('service started');
      service.signal('SIGTERM');
      expect(await service.exitCode()).toBe(0);
      const exported = collector.bodies.join('\n');
      for (const text of ['drain', 'job-drain', 'fixture-worker']) expect(exported).toContain(text);
    } finally {
      await new Promise((resolve) => collector.server.close(resolve));
    }
  });

  it('exits 1 when draining outlasts the grace period', async () => {
    const service = new FixtureProcess({ DRAIN_MS: '30000', SHUTDOWN_GRACE_MS: '300' });
    await service.waitFor('service started');
    service.signal('SIGTERM');
    expect(await service.exitCode(5_000)).toBe(1);
    expect(service.lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'shutdown grace period exceeded, exiting', graceMs: 300 }));
  });

  it('runs an HTTP app on Fastify with the same lifecycle', async () => {
    const service = new FixtureProcess({ FIXTURE_MODE: 'http' });
    const started = await service.waitFor('service started');
    expect(started).toMatchObject({ service: 'fixture-api', httpUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    const ping = await fetch(`${started.httpUrl as string}/ping`);
    expect(await ping.json()).toEqual({ pong: true });

    service.signal('SIGINT');
    expect(await service.exitCode()).toBe(0);
    expect(service.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['drained', 'service stopped']));
  });

  it('logs an unhandled rejection as JSON and exits 1', async () => {
    const service = new FixtureProcess({ FIXTURE_MODE: 'crash' });
    expect(await service.exitCode()).toBe(1);
    expect(service.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fatal: true,
        msg: 'unhandled rejection, exiting',
        err: expect.objectContaining({ message: 'boom', cause: expect.objectContaining({ message: 'root cause' }) }),
      }),
    );
  });

  it('refuses invalid settings, naming each, and exits 1', async () => {
    const service = new FixtureProcess({ OPS_PORT: 'ninety', LOG_LEVEL: 'loud' });
    expect(await service.exitCode()).toBe(1);
    expect(service.lines).toContainEqual(
      expect.objectContaining({
        msg: 'invalid configuration',
        err: expect.objectContaining({ name: 'ConfigError', message: expect.stringMatching(/OPS_PORT.*"ninety".*LOG_LEVEL.*"loud"/) }),
      }),
    );
  });
});
