import { ProviderTwinAddresses, providerTwinEnv } from '@orchestra/devnet-providers';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, NatsServerHandle, startNatsServer } from './nats-server';
import { SupervisedProcess } from './supervisor';
import { shippedNodeFlags } from './k8s-env';

/** The five services, each run from `apps/<name>/src/main.ts`. */
export const SERVICE_NAMES = ['metagraph-sync', 'planner', 'dispatcher', 'verifier', 'api'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Default ports of `npm run devnet` (documented in the README). */
export const DEFAULT_PORTS = {
  nats: 4222,
  subtensor: 9944,
  api: 8080,
  ops: { api: 9460, planner: 9461, dispatcher: 9462, verifier: 9463, 'metagraph-sync': 9464 } as Record<ServiceName, number>,
};

export interface DevnetStackOptions {
  /** `default`: the documented ports (ORCHESTRA_API_PORT etc. override); `auto`: free ports, for tests and one-shot runs. */
  readonly ports: 'default' | 'auto';
  /** Directory for each process's log file. */
  readonly logDir: string;
  /** Devnet config file (devnet `--config`; default apps/devnet/devnet.config.json). */
  readonly devnetConfig?: string;
  /** Share of each subnet's miners made faulty (devnet `--faulty`). */
  readonly faulty?: number;
  /** Share of each subnet's miners made hostile (devnet `--hostile`), after `faulty`. */
  readonly hostile?: number;
  readonly seed?: number;
  /** //Alice unstaked and without permits: no subnet's axons answer Orchestra (devnet `--gateway-only`). */
  readonly gatewayOnly?: boolean;
  /**
   * Give the services the devnet's gateway twins (fake Chutes, Desearch, Constellation): their
   * URLs and devnet keys, and `ORCH_PROVIDER_SOURCES` limiting Chutes to `chutesModels`
   * (default the good model). Off by default (the devnet then runs no twins), so scenarios
   * written for miner axons keep hiring them; `npm start` and `npm run devnet` turn it on.
   */
  readonly gateways?: boolean;
  /** Chutes models the dispatcher may hire when `gateways` is on (default `devnet/good-llm`). */
  readonly chutesModels?: readonly string[];
  /** Extra environment for the five services (e.g. ORCH_MINER_TIMEOUT_MS). */
  readonly serviceEnv?: Record<string, string>;
  /** Supervisor news: restarts and the like. */
  readonly onEvent?: (message: string) => void;
  /** Longest wait for everything to become ready, ms. */
  readonly readyTimeoutMs?: number;
  /**
   * Processes per service (default 1), e.g. `{ planner: 2, dispatcher: 2, verifier: 2 }`:
   * each replica is its own supervised process with its own log file and ops port.
   */
  readonly replicas?: Partial<Record<ServiceName, number>>;
  /**
   * Use this NATS instead of starting a server, e.g. the `urls` of startNatsCluster. The
   * stack then neither restarts nor stops it; set `ORCH_NATS_REPLICAS` in `serviceEnv`
   * to match its size.
   */
  readonly natsServers?: readonly string[];
}

/**
 * NATS runs with authentication on, as in production: each service connects as its own
 * user with the least subject permissions (libs/contracts `natsPermissions`) and only
 * verifies the topology (`ORCH_NATS_TOPOLOGY=verify`), which the stack creates first as
 * the operator. Servers passed in `natsServers` are the caller's, without authentication.
 */

/** One running service process. */
export interface ServiceReplica {
  readonly service: ServiceName;
  /** The process name: the service's name for its first replica, `<service>-<n>` for the n-th. */
  readonly name: string;
  readonly opsPort: number;
  readonly process: SupervisedProcess;
}

/** How a client reaches the stack's API: its URL, the dev tenant's key, and the operators' admin key. */
export interface DevnetApi {
  readonly url: string;
  /** A key of tenant {@link DEV_TENANT} with the submit, read and cancel scopes. */
  readonly key: string;
  /** The admin key the API was started with (ORCH_API_ADMIN_KEY). */
  readonly adminKey: string;
}

/** The tenant the stack issues a key for. */
export const DEV_TENANT = 'dev';

/**
 * The dev tenant's quotas: a development network serves benchmarks and chaos runs that
 * submit hundreds of jobs a minute, far past the defaults meant for a stranger's key.
 */
export const DEV_TENANT_QUOTAS = { jobsPerMinute: 100_000, concurrentJobs: 1_000, spendPerDay: { tao: 1_000_000 } };

/** A running devnet stack: NATS, the devnet (fake chain + miners) and the five services (some replicated), as processes. */
export interface DevnetStack {
  /** The API with the dev tenant's key and the admin key: what every request to it needs. */
  readonly api: DevnetApi;
  /** The NATS URL the services use (comma-separated when several servers were given). */
  readonly natsUrl: string;
  /** The operator's credentials, for tests and tools that read or write the bus (`Bus.connect({ access })`); empty without authentication. */
  readonly natsAccess: { readonly user?: string; readonly pass?: string };
  readonly subtensorUrl: string;
  /** The server the stack started; undefined when it was given `natsServers`. */
  readonly nats: NatsServerHandle | undefined;
  /** Every process by name: `devnet`, and each service replica (see ServiceReplica). */
  readonly processes: ReadonlyMap<string, SupervisedProcess>;
  /** Every service process, replicas included. */
  readonly replicas: readonly ServiceReplica[];
  /** The devnet's "devnet ready" log record (miners with their behaviours and addresses). */
  readonly devnet: {
    subtensor: string;
    miners: Array<{ netuid: number; uid: number; behaviour: string; address: string; hotkey: string }>;
    /** Where the gateway twins listen (when the stack runs them: `gateways`). */
    providers?: ProviderTwinAddresses;
  };
  /** The ops port of each service's first replica. */
  readonly opsPorts: Readonly<Record<ServiceName, number>>;
  /** Waits until every service replica reports ready again (e.g. after crashes and restarts). */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** Stops every process (services first, then the devnet, then NATS) and returns their exit codes. */
  stop(): Promise<Record<string, number | null>>;
}

/** The repository root (this file is libs/testing/src/devnet-stack.ts). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/**
 * How to run an app: its built JavaScript (tools/build.js) with its Deployment's Node flags
 * (k8s/base/<app>.yaml), so what runs here is what ships.
 * The first stack of a process builds the tree (well under a second); later ones reuse it.
 */
export function serviceMain(app: string): { command: string; args: string[] } {
  if (!built) {
    execFileSync(process.execPath, [join(REPO_ROOT, 'tools', 'build.js')], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    built = true;
  }
  return { command: process.execPath, args: [...shippedNodeFlags(app), join(REPO_ROOT, 'dist', 'apps', app, 'src', 'main.js')] };
}
let built = false;

/**
 * Starts the whole embedded default as separate processes, supervised (a process that
 * dies is restarted), and waits until every service reports ready on /readyz.
 */
export async function startDevnetStack(options: DevnetStackOptions): Promise<DevnetStack> {
  mkdirSync(options.logDir, { recursive: true });
  const onEvent = options.onEvent ?? (() => undefined);
  const auto = options.ports === 'auto';
  const env = process.env;
  const port = async (fixed: number, override?: string) => (auto ? freePort() : Number(override ?? fixed));
  const natsPort = await port(DEFAULT_PORTS.nats, env.ORCH_NATS_PORT);
  const subtensorPort = await port(DEFAULT_PORTS.subtensor, env.ORCH_SUBTENSOR_PORT);
  const apiPort = await port(DEFAULT_PORTS.api, env.ORCHESTRA_API_PORT);
  const opsPorts = {} as Record<ServiceName, number>;
  for (const name of SERVICE_NAMES) opsPorts[name] = await port(DEFAULT_PORTS.ops[name]);

  const nats = options.natsServers ? undefined : await startNatsServer({ port: natsPort, auth: { manageTopology: false }, logFile: join(options.logDir, 'nats.log') });
  const natsUrl = options.natsServers?.join(',') ?? (nats as NatsServerHandle).url;
  const users = nats?.users;
  const natsAccess = users ? { user: users.operator.user, pass: users.operator.pass } : {};
  const processes = new Map<string, SupervisedProcess>();
  const replicas: ServiceReplica[] = [];
  const stop = async () => {
    const codes: Record<string, number | null> = {};
    const services = [...processes.values()].filter((p) => p.spec.name !== 'devnet');
    await Promise.all(services.map(async (p) => (codes[p.spec.name] = await p.stop())));
    const devnet = processes.get('devnet');
    if (devnet) codes.devnet = await devnet.stop();
    await nats?.dispose();
    return codes;
  };

  try {
    const devnet = new SupervisedProcess(
      {
        name: 'devnet',
        ...serviceMain('devnet'),
        args: [
          ...serviceMain('devnet').args,
          ...(options.devnetConfig !== undefined ? ['--config', options.devnetConfig] : []),
          ...(options.faulty !== undefined ? ['--faulty', String(options.faulty)] : []),
          ...(options.hostile !== undefined ? ['--hostile', String(options.hostile)] : []),
          ...(options.seed !== undefined ? ['--seed', String(options.seed)] : []),
          ...(options.gatewayOnly ? ['--gateway-only'] : []),
          ...(options.gateways ? [] : ['--no-gateways']),
        ],
        env: { ...env, ORCH_SUBTENSOR_PORT: String(subtensorPort) },
        cwd: REPO_ROOT,
        logFile: join(options.logDir, 'devnet.log'),
      },
      onEvent,
    );
    processes.set('devnet', devnet);
    const ready = devnet.waitForLine((l) => l.includes('"devnet ready"'), options.readyTimeoutMs ?? 60_000);
    devnet.start();
    const devnetRecord = JSON.parse(await ready) as DevnetStack['devnet'];

    // The operators' admin key: the caller's if set (a stable one for a long-running devnet), else a fresh one.
    const adminKey = env.ORCH_API_ADMIN_KEY ?? randomBytes(32).toString('base64url');
    const serviceEnv: Record<string, string | undefined> = {
      ...env,
      ORCH_API_ADMIN_KEY: adminKey,
      // The deployment ceiling follows the dev tenant's generous quotas (DEV_TENANT_QUOTAS).
      ORCH_SPEND_PER_DAY_TAO: env.ORCH_SPEND_PER_DAY_TAO ?? String(DEV_TENANT_QUOTAS.spendPerDay.tao),
      ORCH_NATS_URL: natsUrl,
      ORCH_SUBTENSOR_URL: devnetRecord.subtensor,
      // Devnet miners live on loopback; production refuses such addresses.
      ORCH_ALLOW_ADDRESSES: 'loopback',
      ORCH_HOTKEY: '//Alice',
      ORCHESTRA_API_PORT: String(apiPort),
      ORCHESTRA_API_HOST: '127.0.0.1',
      ...(options.gateways ? gatewayEnv(devnetRecord, options.chutesModels) : {}),
      ...options.serviceEnv,
    };
    if (users) {
      // The operator makes the topology, with the settings the services will run under,
      // using the tool an operator of a locked-down deployment uses (`npm run topology`).
      await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', join(REPO_ROOT, 'tools', 'topology.ts')], {
        cwd: REPO_ROOT,
        env: { ...serviceEnv, ORCH_NATS_USER: users.operator.user, ORCH_NATS_PASSWORD: users.operator.pass },
      });
    }
    for (const service of SERVICE_NAMES) {
      const count = options.replicas?.[service] ?? 1;
      const credentials = users ? { ORCH_NATS_USER: users[service].user, ORCH_NATS_PASSWORD: users[service].pass, ORCH_NATS_TOPOLOGY: 'verify' } : {};
      for (let n = 1; n <= count; n++) {
        const name = n === 1 ? service : `${service}-${n}`;
        const opsPort = n === 1 ? opsPorts[service] : await freePort();
        const child = new SupervisedProcess(
          {
            name,
            ...serviceMain(service),
            env: { ...serviceEnv, ...credentials, OPS_PORT: String(opsPort), OPS_HOST: '127.0.0.1' },
            cwd: REPO_ROOT,
            logFile: join(options.logDir, `${name}.log`),
            livenessUrl: `http://127.0.0.1:${opsPort}/healthz`,
          },
          onEvent,
        );
        processes.set(name, child);
        replicas.push({ service, name, opsPort, process: child });
        child.start();
      }
    }
    const waitUntilReady = (timeoutMs = options.readyTimeoutMs ?? 90_000) =>
      Promise.all(replicas.map((r) => waitReady(r.name, r.opsPort, timeoutMs, options.logDir))).then(() => undefined);
    await waitUntilReady();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    return {
      api: { url: apiUrl, adminKey, key: await issueDevKey(apiUrl, adminKey) },
      natsUrl,
      natsAccess,
      subtensorUrl: devnetRecord.subtensor,
      nats,
      processes,
      replicas,
      devnet: devnetRecord,
      opsPorts,
      waitUntilReady,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The services' settings for the devnet's gateway twins, from what the devnet process reported. */
function gatewayEnv(devnet: DevnetStack['devnet'], chutesModels: readonly string[] = ['devnet/good-llm']): Record<string, string> {
  if (!devnet.providers) throw new Error('the devnet reported no gateway twins, though the stack asked for them (was it started with --no-gateways?)');
  return { ...providerTwinEnv(devnet.providers), ORCH_PROVIDER_SOURCES: `chutes=${chutesModels.join(',')}` };
}

/** Sets the dev tenant's quotas and issues its key, as an operator would with the admin key. */
async function issueDevKey(apiUrl: string, adminKey: string): Promise<string> {
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` };
  const quotas = await fetch(`${apiUrl}/v1/tenants/${DEV_TENANT}`, { method: 'PUT', headers: admin, body: JSON.stringify(DEV_TENANT_QUOTAS) });
  if (!quotas.ok) throw new Error(`PUT /v1/tenants/${DEV_TENANT}: ${quotas.status} ${await quotas.text()}`);
  const res = await fetch(`${apiUrl}/v1/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ tenant: DEV_TENANT, scopes: ['submit', 'read', 'cancel'] }) });
  if (res.status !== 201) throw new Error(`POST /v1/keys: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

async function waitReady(name: string, opsPort: number, timeoutMs: number, logDir: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} was not ready within ${timeoutMs} ms (last /readyz: ${last}); see ${join(logDir, `${name}.log`)}`);
}
