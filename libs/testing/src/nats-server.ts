import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real nats-server with JetStream, started for a test suite. */
export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (kept across `restart()`). */
  readonly storeDir: string;
  /** Stops the server (SIGTERM, then SIGKILL) and keeps the store. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and deletes the store. */
  dispose(): Promise<void>;
}

/** Thrown when nats-server is missing or does not come up. */
export class NatsServerStartError extends Error {
  override readonly name = 'NatsServerStartError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Asks the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `nats-server -js` on a free loopback port with a temporary store directory and
 * waits until it accepts connections (it logs "Server is ready").
 */
export async function startNatsServer(opts: { binary?: string; port?: number } = {}): Promise<NatsServerHandle> {
  const binary = opts.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const port = opts.port ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), 'orchestra-nats-'));
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = await spawnReady(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir]);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    dispose: async () => {
      await halt('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

function spawnReady(binary: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new NatsServerStartError(`nats-server did not become ready in 10 s; its log:\n${log}`));
    }, 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new NatsServerStartError(
          `cannot run "${binary}" (${(error as NodeJS.ErrnoException).code ?? error.message}); install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN`,
          { cause: error },
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new NatsServerStartError(`nats-server exited with code ${code} before it was ready; its log:\n${log}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-8_000);
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve(child);
      }
    });
  });
}
