import { DevnetStack, NatsClusterHandle, startDevnetStack, startNatsCluster } from '@orchestra/testing';
import { NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, formatReport } from '../checker/checker';
import { RevisionRecorder, readHistory } from '../checker/history';
import { Fault, connectObserver, envInt, planKills, runFaults, seededRandom, submitUntilAccepted, waitUntilTerminal } from './driver';

/**
 * "Any process may die at any moment and no job is lost or doubled."
 *
 * Jobs are submitted to a stack with two replicas of planner, dispatcher and verifier
 * while a seeded driver SIGKILLs random replicas (the supervisor restarts them) and
 * crashes NATS; then, once every job is terminal, the history checker (test/checker)
 * judges every stored message and job record. Sizes (CI defaults are small):
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `CHAOS_JOBS` | 20 | jobs in the single-server run (full size: 200) |
 * | `CHAOS_CLUSTER_JOBS` | 10 | jobs in the 3-node cluster run (full size: 200) |
 * | `CHAOS_WINDOW_MS` | 30000 | time over which jobs are submitted and faults strike |
 * | `CHAOS_KILLS` | jobs / 3, at least 4 | SIGKILLs of service replicas per run |
 * | `CHAOS_WAIT_MS` | 180000 | longest wait for every job to be terminal after the window |
 * | `CHAOS_SEED` | 1 | seed of the fault schedule |
 *
 * Full size: `CHAOS_JOBS=200 CHAOS_CLUSTER_JOBS=200 CHAOS_WINDOW_MS=120000 npx jest test/chaos`.
 */

const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';
const SEED = envInt('CHAOS_SEED', 1);
const WINDOW_MS = envInt('CHAOS_WINDOW_MS', 30_000);
const WAIT_MS = envInt('CHAOS_WAIT_MS', 180_000);
const REPLICAS = { planner: 2, dispatcher: 2, verifier: 2 } as const;
/** Short ack wait and miner timeout so that redeliveries and retries fit in the run. */
const SERVICE_ENV = { ORCH_ACK_WAIT_MS: '4000', ORCH_MINER_TIMEOUT_MS: '1500', SHUTDOWN_GRACE_MS: '10000' };

/** A fresh directory for the run's process logs, named in the output so a failure can be read. */
function logDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `orchestra-chaos-${label}-`));
  console.log(`${label}: process logs in ${dir}`);
  return dir;
}

/**
 * The example goal; every fifth job with a deadline so short that the planner's deadline
 * sweep races the job's own steps (and the kills): it must end one way or the other, once.
 */
function jobBody(i: number): unknown {
  return i % 5 === 4 ? { goal: GOAL, limits: { deadlineMs: 2_500 } } : { goal: GOAL };
}

interface RunOptions {
  readonly label: string;
  readonly stack: DevnetStack;
  readonly jobs: number;
  /** Faults on NATS itself, at offsets within the window. */
  readonly natsFaults: Fault[];
}

/** Submits the jobs while the faults strike, waits for the outcome and checks the history. */
async function chaosRun({ label, stack, jobs, natsFaults }: RunOptions): Promise<void> {
  const started = Date.now();
  const random = seededRandom(SEED);
  const kills = planKills(stack, ['planner', 'dispatcher', 'verifier'], envInt('CHAOS_KILLS', Math.max(4, Math.round(jobs / 3))), WINDOW_MS, random);
  const observer: NatsConnection = await connectObserver(stack.natsUrl, stack.natsAccess);
  const recorder = new RevisionRecorder();
  await recorder.start(observer);
  try {
    const faults = runFaults([...kills, ...natsFaults], (line) => console.log(`${label} ${line}`));
    const submitted = await Promise.all(
      Array.from({ length: jobs }, async (_, i) => {
        await new Promise((r) => setTimeout(r, Math.floor((i * WINDOW_MS) / jobs)));
        return submitUntilAccepted(stack.api, jobBody(i), `chaos-${label}-${SEED}-${i}`);
      }),
    );
    const done = await faults;
    const open = await waitUntilTerminal(observer, submitted, WAIT_MS);
    const history = await readHistory(observer, submitted, await recorder.stop());
    const report = checkHistory(history);
    const restarts = stack.replicas.map((r) => `${r.name}:${r.process.restartCount}`).join(' ');
    console.log(
      [
        formatReport(
          report,
          `${label}: ${jobs} jobs, ${done.length} faults (${kills.length} kills, ${natsFaults.length} NATS) in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${SEED}`,
        ),
        `  restarts ${restarts}`,
        open.length ? `  not terminal after ${WAIT_MS} ms: ${open.join(', ')}` : '',
      ].join('\n'),
    );
    expect(report.counts).toEqual({ lost: 0, finishedTwice: 0, multipleCommits: 0, unverifiedResult: 0 });
    expect(Object.values(report.statuses).reduce((a, b) => a + b, 0)).toBe(jobs);
  } finally {
    await recorder.stop().catch(() => undefined);
    await observer.close();
  }
}

/** Every service replica drains and exits 0 on SIGTERM, even after being killed and restarted. */
async function stopCleanly(stack: DevnetStack | undefined): Promise<void> {
  if (!stack) return;
  // A replica killed last may still be restarting: let it come up, so it is its SIGTERM path that is tested.
  await stack.waitUntilReady(60_000);
  const codes = await stack.stop();
  for (const r of stack.replicas) expect([r.name, codes[r.name]]).toEqual([r.name, 0]);
}

describe('chaos: replicas and NATS crash while jobs run (single server)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: logDir('single'),
      replicas: REPLICAS,
      serviceEnv: SERVICE_ENV,
      onEvent: (m) => console.log(`[supervisor] ${m}`),
    });
  }, 180_000);

  afterAll(() => stopCleanly(stack), 120_000);

  it(
    'loses no job and doubles none',
    async () => {
      const nats = stack.nats;
      if (!nats) throw new Error('the single-server run starts its own NATS');
      // Two crashes of the only server, store kept: at a third and two thirds of the window.
      const crash = (atMs: number): Fault => ({
        atMs,
        label: 'kill -9 nats-server, restart it 1.5 s later',
        run: async () => {
          await nats.kill();
          await new Promise((r) => setTimeout(r, 1_500));
          await nats.restart();
        },
      });
      await chaosRun({ label: 'single', stack, jobs: envInt('CHAOS_JOBS', 20), natsFaults: [crash(WINDOW_MS / 3), crash((2 * WINDOW_MS) / 3)] });
    },
    WINDOW_MS + WAIT_MS + 120_000,
  );
});

describe('chaos: replicas and a cluster node crash while jobs run (3-node cluster, R3)', () => {
  let cluster: NatsClusterHandle;
  let stack: DevnetStack;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: logDir('cluster'),
      replicas: REPLICAS,
      natsServers: cluster.urls,
      serviceEnv: { ...SERVICE_ENV, ORCH_NATS_REPLICAS: '3' },
      onEvent: (m) => console.log(`[supervisor] ${m}`),
    });
  }, 180_000);

  afterAll(async () => {
    await stopCleanly(stack);
    await cluster?.dispose();
  }, 120_000);

  it(
    'loses no job and doubles none',
    async () => {
      const node = cluster.nodes[Math.floor(seededRandom(SEED + 1)() * cluster.nodes.length)];
      const crash: Fault = {
        atMs: WINDOW_MS / 3,
        label: `kill -9 cluster node ${node.url}, restart it 5 s later`,
        run: async () => {
          await node.kill();
          await new Promise((r) => setTimeout(r, 5_000));
          await node.restart();
        },
      };
      await chaosRun({ label: 'cluster', stack, jobs: envInt('CHAOS_CLUSTER_JOBS', 10), natsFaults: [crash] });
    },
    WINDOW_MS + WAIT_MS + 120_000,
  );
});
