import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bus } from '@orchestra/bus';
import { Buckets, Metagraph, Subjects, TaskReady, TaskResult, envelope, metagraphKey, parseUntrustedJson } from '@orchestra/contracts';
import { SimulatedMiner, neuronOf, startSimulatedMiner } from '@orchestra/devnet-miners';
import { REPO_ROOT, SupervisedProcess, freePort, serviceMain, startNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { round } from './stats';

/** Miners, hires, hires in flight at once, and the miners' normal latency (tail calls take 10×). */
const SIZES = {
  small: { miners: 4, hires: 200, concurrency: 8, latencyMs: 100 },
  full: { miners: 8, hires: 2_000, concurrency: 16, latencyMs: 100 },
} as const;

const FIN_INPUT = { entities: ['AAPL', 'MSFT'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] };

type Row = Record<string, string | number>;

/**
 * Hedging against heavy-tailed miners: SN13 `slow-tail` miners (one call in 20 takes 10×
 * the normal latency) behind the real dispatcher process, with hedging off and on (fresh
 * miners and a fresh dispatcher for each mode, same load). A hire is timed from the
 * task.ready publish to the task.result the dispatcher publishes; extra calls are the
 * hedges (hedgedUids on the results). Ratios are on/off.
 */
export const hedgingBench = {
  name: 'hedging',
  async run(size: 'small' | 'full'): Promise<Row[]> {
    await cryptoWaitReady();
    const off = await runMode(size, 'off');
    const on = await runMode(size, 'on');
    const ratio = (k: keyof Stats) => round(on[k] / off[k], 2);
    return [
      row('hedging off', off),
      row('hedging on', on),
      {
        mode: 'ratio on/off',
        hires: '',
        failed: '',
        'p50 ms': ratio('p50'),
        'p95 ms': ratio('p95'),
        'p99 ms': ratio('p99'),
        'max ms': ratio('max'),
        'calls/hire': ratio('callsPerHire'),
      },
    ];
  },
};

interface Stats {
  hires: number;
  /** Hires whose result was not ok: their latency measures a failure, not hedging, so a run with any is suspect. */
  failed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  callsPerHire: number;
}

function row(mode: string, s: Stats): Row {
  return {
    mode,
    hires: s.hires,
    failed: s.failed,
    'p50 ms': round(s.p50, 1),
    'p95 ms': round(s.p95, 1),
    'p99 ms': round(s.p99, 1),
    'max ms': round(s.max, 1),
    'calls/hire': round(s.callsPerHire, 3),
  };
}

/**
 * One mode on its own nats-server: a durable consumer shared with the previous mode's
 * stopped dispatcher could hand a message to that process's expired pull and delay it by
 * the ack wait, which would measure the bench, not hedging.
 */
async function runMode(size: 'small' | 'full', hedge: 'on' | 'off'): Promise<Stats> {
  const { miners: minerCount, hires, concurrency, latencyMs } = SIZES[size];
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const netuid = 13;
  const miners: SimulatedMiner[] = [];
  for (let uid = 0; uid < minerCount; uid++) {
    miners.push(await startSimulatedMiner({ netuid, uid, hotkey: keyring.addFromUri(`//BenchMiner${uid}`), behaviour: 'slow-tail', latencyMs }));
  }
  const nats = await startNatsServer();
  const bus = await Bus.connect({ servers: nats.url, name: `bench-hedging-${hedge}`, storage: { replicas: 1, storage: 'memory' } });
  const opsPort = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'orchestra-bench-'));
  const dispatcher = new SupervisedProcess(
    {
      name: `dispatcher-hedge-${hedge}`,
      // The built dispatcher, as it ships (tools/build.js).
      ...serviceMain('dispatcher'),
      env: {
        ...process.env,
        ORCH_NATS_URL: nats.url,
        ORCH_ALLOW_ADDRESSES: 'loopback',
        ORCH_HEDGE: `data.financials:${hedge}`,
        // The catalog buys financials from a gateway first; this case measures hedging over miner axons.
        ORCH_CAPABILITY_PROVIDERS: 'data.financials=axon',
        OPS_PORT: String(opsPort),
        OPS_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      },
      cwd: REPO_ROOT,
      logFile: join(logDir, 'dispatcher.log'),
    },
    () => undefined,
  );
  try {
    const metagraph: Metagraph = {
      netuid,
      block: 100,
      syncedAt: new Date().toISOString(),
      pool: { netuid, taoReserveRao: '1', alphaReserveRao: '1', price: 1 },
      neurons: miners.map((m, i) => neuronOf(m, 1 - i / minerCount)),
    };
    await (await bus.kv(Buckets.metagraph)).put(metagraphKey(netuid), JSON.stringify(metagraph));
    dispatcher.start();
    await waitReady(opsPort);

    const jobs = await bus.kv(Buckets.jobs);
    const waiting = new Map<string, (r: z.infer<typeof TaskResult.payload>) => void>();
    const sub = bus.nc.subscribe(Subjects.taskResult, {
      // A throwing callback would kill the client's reader: a result it cannot read is skipped.
      callback: (_e, msg) => {
        try {
          const parsed = TaskResult.envelope.safeParse(parseUntrustedJson(msg.string()));
          if (parsed.success) waiting.get(parsed.data.jobId)?.(parsed.data.payload);
        } catch {
          // Not JSON: not one of the results this bench waits for.
        }
      },
    });
    const latencies: number[] = [];
    let calls = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    let next = 0;
    const worker = async () => {
      while (next < hires) {
        const jobId = `bench_${hedge}_${next++}`;
        await jobs.put(jobId, JSON.stringify({ status: 'running', limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 }, steps: [] }));
        const answered = new Promise<z.infer<typeof TaskResult.payload>>((resolve) => waiting.set(jobId, resolve));
        const start = performance.now();
        await bus.publish(
          Subjects.taskReady(netuid),
          envelope(
            TaskReady,
            jobId,
            {
              stepId: 'data',
              attempt: 1,
              capability: 'data.financials',
              netuid,
              schemaId: 'data.financials@1',
              input: FIN_INPUT,
              excludeUids: [],
              feedback: [],
              deadlineAt: new Date(Date.now() + 300_000).toISOString(),
            },
            ['data', 1],
          ),
        );
        const result = await answered;
        latencies.push(performance.now() - start);
        if (!result.ok) {
          failed += 1;
          firstFailure ??= `${result.statusCode} ${result.statusMessage}`;
        }
        calls += (result.uid === null ? 0 : 1) + result.hedgedUids.length;
        waiting.delete(jobId);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    sub.unsubscribe();
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    if (firstFailure !== undefined)
      console.error(`hedging ${hedge}: ${failed} of ${hires} hires failed; the first: ${firstFailure} (dispatcher log: ${join(logDir, 'dispatcher.log')})`);
    return { hires, failed, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: latencies[latencies.length - 1], callsPerHire: calls / hires };
  } finally {
    await dispatcher.stop(5_000);
    await bus.close();
    await nats.dispose();
    await Promise.all(miners.map((m) => m.stop()));
  }
}

async function waitReady(opsPort: number): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the benchmark's dispatcher was not ready within 60 s`);
}
