import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NATS_ROLES,
  ORCHESTRA_ACCOUNT,
  type NatsRole,
  natsPermissions,
  natsServerPermissions,
  OrchestraError,
  orchestraExports,
  tenantAccountConfig,
  tenantAccountName,
} from '@orchestra/contracts';

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
  /** With `auth`: the user and password of each role (libs/contracts NATS_ROLES). */
  readonly users?: Readonly<Record<NatsRole, NatsUser>>;
  /** With `auth.tenants`: the users of each tenant's account. */
  readonly tenantUsers?: Readonly<Record<string, TenantUsers>>;
}

/** The users of a tenant's NATS account in a test server: one that may submit jobs, one that may not. */
export interface TenantUsers {
  readonly submitter: NatsUser;
  readonly observer: NatsUser;
}

/** A NATS user of an authenticated test server. */
export interface NatsUser {
  readonly user: string;
  readonly pass: string;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  readonly binary?: string;
  readonly port?: number;
  /**
   * Authentication on: one user per role with the least subject permissions of
   * libs/contracts `natsPermissions` and a random password; anonymous connections are refused.
   * `manageTopology` grants the services topology management too (`ORCH_NATS_TOPOLOGY=ensure`).
   */
  readonly auth?: {
    readonly manageTopology: boolean;
    /** Tenants with NATS accounts of their own, importing Orchestra's submit service (users `<tenant>` and `<tenant>-observer`). */
    readonly tenants?: readonly string[];
  };
  /** Append the server's log here. */
  readonly logFile?: string;
}

/** Thrown when nats-server is missing or does not come up. */
export class NatsServerStartError extends OrchestraError {
  readonly retryable = false;
  override readonly name = 'NatsServerStartError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Ports handed out by {@link freePort}: below Linux's ephemeral range (32768–60999), so a
 * process that binds port 0 — a simulated miner, a client socket — can never be given a
 * port we picked for a service that will bind it a moment later (or again after a restart).
 *
 * A port is checked free when picked but bound later by the process it is for, so two test
 * processes picking at once (parallel jest workers) could choose the same one. Each process
 * therefore picks from its own slice of the range (by pid), which makes that a rare
 * coincidence of two pids sharing a slice rather than of any two picks.
 */
const PICK_FROM = 20_000;
const PICK_TO = 32_000;
const SLICES = 8;
const SLICE = Math.floor((PICK_TO - PICK_FROM) / SLICES);

/**
 * Ports this process handed out. A stack picks all its ports before its processes bind
 * them, so a port that is still free may already be promised: never hand one out twice.
 */
const handedOut = new Set<number>();

/** A free TCP port on loopback, picked at random from this process's slice, never handed out before, and checked by binding it. */
export async function freePort(): Promise<number> {
  const from = PICK_FROM + (process.pid % SLICES) * SLICE;
  // A long-lived process (a test worker running many suites) recycles its slice eventually.
  if (handedOut.size > SLICE / 2) handedOut.clear();
  for (let tries = 0; tries < 100; tries++) {
    const port = from + Math.floor(Math.random() * SLICE);
    if (handedOut.has(port) || !(await canBind(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between ${from} and ${from + SLICE}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Starts `nats-server -js` on a free loopback port with a temporary store directory and
 * waits until it accepts connections (it logs "Server is ready").
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const port = opts.port ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), 'orchestra-nats-'));
  if (!opts.auth) return launchNatsServer({ binary: opts.binary, port, storeDir, args: [], logFile: opts.logFile });
  const password = () => randomBytes(18).toString('base64url');
  const users = Object.fromEntries(NATS_ROLES.map((role) => [role, { user: role, pass: password() }])) as Record<NatsRole, NatsUser>;
  const config = join(storeDir, 'auth.conf');
  const tenantUsers = Object.fromEntries(
    (opts.auth.tenants ?? []).map((tenant) => [tenant, { submitter: { user: tenant, pass: password() }, observer: { user: `${tenant}-observer`, pass: password() } }]),
  );
  writeFileSync(config, natsAuthConfig(users, opts.auth.manageTopology, tenantUsers), { mode: 0o600 });
  const server = await launchNatsServer({ binary: opts.binary, port, storeDir, args: ['-c', config], logFile: opts.logFile });
  return { ...server, users, tenantUsers };
}

/**
 * The `accounts` block of a nats-server configuration (JSON, which nats-server reads):
 * Orchestra's own account, with JetStream, holding one user per role and its permissions.
 * Tenants get accounts of their own beside it, importing what Orchestra exports
 * (libs/contracts tenant-accounts.ts).
 */
export function natsAuthConfig(users: Readonly<Record<NatsRole, NatsUser>>, manageTopology: boolean, tenants: Readonly<Record<string, TenantUsers>> = {}): string {
  const entries = NATS_ROLES.map((role) => {
    const permissions = natsPermissions(role, { manageTopology });
    return {
      user: users[role].user,
      password: users[role].pass,
      permissions: natsServerPermissions(permissions),
    };
  });
  const tenantAccounts = Object.fromEntries(
    Object.entries(tenants).map(([tenant, users]) => [
      tenantAccountName(tenant),
      tenantAccountConfig(tenant, [
        { user: users.submitter.user, password: users.submitter.pass, submit: true },
        { user: users.observer.user, password: users.observer.pass, submit: false },
      ]),
    ]),
  );
  return JSON.stringify({ accounts: { [ORCHESTRA_ACCOUNT]: { jetstream: 'enabled', users: entries, exports: orchestraExports() }, ...tenantAccounts } }, null, 2);
}

/** How to launch one nats-server process (a single server, or one node of a cluster). */
export interface NatsLaunchSpec {
  readonly binary?: string;
  readonly port: number;
  readonly storeDir: string;
  /** Arguments beyond JetStream, address, port and store (e.g. cluster routes). */
  readonly args: readonly string[];
  /** Append the server's log here (its errors include every permissions violation). */
  readonly logFile?: string;
}

/**
 * Starts `nats-server -js` on loopback with the given port and store directory, and
 * returns a handle that can stop, kill and restart it on the same port and store.
 */
export async function launchNatsServer(spec: NatsLaunchSpec): Promise<NatsServerHandle> {
  const binary = spec.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const { port, storeDir } = spec;
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = await spawnReady(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...spec.args], spec.logFile);
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

function spawnReady(binary: string, args: string[], logFile?: string): Promise<ChildProcess> {
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
        if (logFile) child.stderr?.pipe(createWriteStream(logFile, { flags: 'a' }));
        else child.stderr?.resume();
        resolve(child);
      }
    });
  });
}
