import { FlowProducer, Job, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FinancialRow, Financials, FinancialsRequest, verifyOutput } from '@orchestra/schemas';
import { freePort } from '@orchestra/testing';
import { BENCH_QUESTION, BENCH_REQUEST, BENCH_TASK, answers } from './chain';
import { CONCURRENCIES } from './orchestra';
import { BenchSize, Latency, closedLoop, latency } from './stats';

export interface PeerLevel {
  readonly concurrency: number;
  readonly jobs: number;
  readonly jobsPerSecond: number;
  /** flow added → its last step completed, ms. */
  readonly job: Latency;
  /** CPU time per flow of this process (producer and workers), its Python parsers and redis-server, ms. */
  readonly cpuMsPerJob: number;
}

/** Flows per concurrency level (more than the orchestra case's jobs: each takes far less time). */
const SIZES = { small: { 1: 100, 4: 200, 16: 480 }, full: { 1: 500, 4: 1_000, 16: 2_400 } } as const;

const QUEUES = { data: 'bench-data', analysis: 'bench-analysis', code: 'bench-code' } as const;

/**
 * The peer: BullMQ Flows on a local Redis (started here: append-only file, fsync every
 * second, on a free port in a temp dir) running the same 3-step chain — code's job is the
 * parent of analysis's, whose job is the parent of data's, so each runs after the step
 * before it and reads its result — with the same validation work per step as Orchestra's
 * verifier: verifyOutput (tolerant JSON parse, the zod schema, the semantic checks, the
 * Python parse) of the same answers against the same inputs. Workers take 16 jobs at a time
 * per queue, in this process.
 */
export async function measurePeer(size: BenchSize): Promise<PeerLevel[]> {
  const redis = await startRedis();
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const workers: Worker[] = [];
  const flows = new FlowProducer({ connection });
  const events = new QueueEvents(QUEUES.code, { connection });
  try {
    const verified = async <T>(schemaId: string, raw: string, input: unknown): Promise<T> => {
      const verdict = await verifyOutput<T>(schemaId, raw, input);
      if (!verdict.ok) throw new Error(`${schemaId}: ${verdict.errors.join('; ')}`);
      return verdict.value;
    };
    const rowsOf = async (job: Job): Promise<FinancialRow[]> => {
      const [child] = Object.values(await job.getChildrenValues<{ rows: FinancialRow[] }>());
      return child.rows;
    };
    const steps: Record<keyof typeof QUEUES, (job: Job) => Promise<{ rows: FinancialRow[] }>> = {
      data: async (job) => {
        const input = job.data as FinancialsRequest;
        return { rows: (await verified<Financials>('data.financials@1', answers.data(input), input)).rows };
      },
      analysis: async (job) => {
        const rows = await rowsOf(job);
        await verified('text.analysis@1', answers.analysis(rows), { question: BENCH_QUESTION, rows });
        return { rows };
      },
      code: async (job) => {
        const rows = await rowsOf(job);
        await verified('code.python@1', answers.code(rows), { task: BENCH_TASK, rows });
        return { rows };
      },
    };
    for (const [step, queue] of Object.entries(QUEUES) as Array<[keyof typeof QUEUES, string]>) {
      workers.push(new Worker(queue, steps[step], { connection, concurrency: 16 }));
    }
    await events.waitUntilReady();
    await Promise.all(workers.map((w) => w.waitUntilReady()));

    const waiting = new Map<string, (ok: boolean) => void>();
    events.on('completed', ({ jobId }) => waiting.get(jobId)?.(true));
    events.on('failed', ({ jobId }) => waiting.get(jobId)?.(false));
    let failed = 0;
    const runFlow = async (): Promise<void> => {
      const id = `flow-${Math.random().toString(36).slice(2)}`;
      const ended = new Promise<boolean>((resolve) => waiting.set(id, resolve));
      await flows.add({
        name: 'code',
        queueName: QUEUES.code,
        opts: { jobId: id, removeOnComplete: true },
        children: [
          {
            name: 'analysis',
            queueName: QUEUES.analysis,
            opts: { removeOnComplete: true },
            children: [{ name: 'data', queueName: QUEUES.data, data: BENCH_REQUEST, opts: { removeOnComplete: true } }],
          },
        ],
      });
      if (!(await ended)) failed++;
      waiting.delete(id);
    };
    for (let i = 0; i < 20; i++) await runFlow(); // warm-up
    const levels: PeerLevel[] = [];
    for (const concurrency of CONCURRENCIES) {
      const jobs = SIZES[size][concurrency];
      const cpuBefore = cpuMs(redis.pid);
      const { latencies, wallMs } = await closedLoop(jobs, concurrency, runFlow);
      levels.push({ concurrency, jobs, jobsPerSecond: (jobs / wallMs) * 1_000, job: latency(latencies), cpuMsPerJob: (cpuMs(redis.pid) - cpuBefore) / jobs });
    }
    if (failed) throw new Error(`${failed} BullMQ flows failed; the peer's numbers would not be comparable`);
    return levels;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await events.close();
    await flows.close();
    await redis.stop();
  }
}

/** CPU time so far of this process, its children (the Python parsers; redis-server included) and `pid`, ms. */
function cpuMs(pid: number | undefined): number {
  const ticks = (p: number | string) => {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').split(/\s+/).filter(Boolean);
  const others = new Set([...children, ...(pid === undefined ? [] : [String(pid)])]);
  const own = process.cpuUsage();
  return (own.user + own.system) / 1_000 + [...others].reduce((sum, p) => sum + ticks(p) * 10, 0);
}

/** redis-server with an append-only file fsynced every second, no RDB snapshots, on a free port in a temp dir. */
async function startRedis(): Promise<{ port: number; pid: number | undefined; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined); // refused until the server listens: the loop below retries
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (error) {
      client.disconnect();
      if (Date.now() > until || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port} (is it installed? apt-get install redis-server): ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  client.disconnect();
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
