import { Buckets, JobStateSchema, TERMINAL_JOB_STATUSES } from '@orchestra/contracts';
import { NatsAccess, connectionOptions } from '@orchestra/bus';
import { DevnetStack, ServiceName } from '@orchestra/testing';
import { ApiAccess, authed } from '../e2e/helpers';
export { seededRandom } from '@orchestra/fake-subtensor';
import { KV, Kvm } from '@nats-io/kv';
import { NatsConnection, connect } from '@nats-io/transport-node';

/** Reads a positive integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * POSTs a job, retrying (same Idempotency-Key, so a retry can never make a second job)
 * until the API accepts it — it may be restarting, or NATS may be. Returns the job id.
 */
export async function submitUntilAccepted(api: ApiAccess, body: unknown, idempotencyKey: string, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const res = await fetch(`${api.url}/v1/jobs`, {
        method: 'POST',
        headers: authed(api, { 'content-type': 'application/json', 'idempotency-key': idempotencyKey }),
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      // 200 is the API replaying an earlier attempt of this request that created the job
      // although its answer was lost (e.g. NATS failed over mid-request): accepted too.
      if (res.status === 202 || res.status === 200) return ((await res.json()) as { jobId: string }).jobId;
      last = `${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(500);
  }
  throw new Error(`job ${idempotencyKey} was not accepted within ${timeoutMs} ms (last: ${last})`);
}

/** A connection for the driver and the checker that, like the services, reconnects forever. */
export function connectObserver(servers: string, access: NatsAccess = {}): Promise<NatsConnection> {
  return connect({ servers: servers.split(','), name: 'chaos-observer', maxReconnectAttempts: -1, reconnectTimeWait: 250, ...connectionOptions(access) });
}

/**
 * Waits until every job is terminal in the jobs bucket, or the time is up. Returns the
 * ids still not terminal (empty on success). Read errors (NATS restarting) just retry.
 */
export async function waitUntilTerminal(nc: NatsConnection, jobIds: readonly string[], timeoutMs: number): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  let open = [...jobIds];
  let kv: KV | undefined;
  while (Date.now() < until) {
    try {
      kv ??= await new Kvm(nc).open(Buckets.jobs);
      const still: string[] = [];
      for (const jobId of open) {
        const entry = await kv.get(jobId);
        const state = entry?.operation === 'PUT' ? JobStateSchema.safeParse(entry.json()) : undefined;
        if (!state?.success || !TERMINAL_JOB_STATUSES.includes(state.data.status)) still.push(jobId);
      }
      open = still;
      if (open.length === 0) return [];
    } catch {
      // NATS is restarting; ask again.
    }
    await sleep(1_000);
  }
  return open;
}

/** One planned fault: at `atMs` into the run, do `run`. */
export interface Fault {
  readonly atMs: number;
  readonly label: string;
  readonly run: () => Promise<void>;
}

/**
 * Plans `count` SIGKILLs of random replicas of the given services at random moments
 * within `windowMs` (the supervisor restarts each one).
 */
export function planKills(stack: DevnetStack, services: readonly ServiceName[], count: number, windowMs: number, random: () => number): Fault[] {
  const targets = stack.replicas.filter((r) => services.includes(r.service));
  return Array.from({ length: count }, () => {
    const target = targets[Math.floor(random() * targets.length)];
    return { atMs: Math.floor(random() * windowMs), label: `kill -9 ${target.name}`, run: async () => target.process.kill('SIGKILL') };
  });
}

/** Runs faults in time order, from now; resolves when the last has run, with what ran when. */
export async function runFaults(faults: readonly Fault[], log: (line: string) => void): Promise<Array<{ atMs: number; label: string }>> {
  const start = Date.now();
  const done: Array<{ atMs: number; label: string }> = [];
  for (const fault of [...faults].sort((a, b) => a.atMs - b.atMs)) {
    await sleep(Math.max(0, fault.atMs - (Date.now() - start)));
    const atMs = Date.now() - start;
    log(`[chaos +${(atMs / 1000).toFixed(1)}s] ${fault.label}`);
    await fault.run();
    done.push({ atMs, label: fault.label });
  }
  return done;
}
