import { jetstreamManager } from '@nats-io/jetstream';
import { NatsConnection, connect } from '@nats-io/transport-node';
import { connectionOptions } from '@orchestra/bus';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_PLAN, BENCH_QUESTION, BENCH_STEPS as STEPS } from './chain';
import { BENCH_DIR, BenchSize, Latency, closedLoop, latency } from './stats';

/** Jobs per concurrency level. */
const SIZES = { small: { 1: 20, 4: 40, 16: 96 }, full: { 1: 100, 4: 200, 16: 480 } } as const;
export const CONCURRENCIES = [1, 4, 16] as const;

/** Every miner answers correctly at once: the bench measures Orchestra, not the miners. */
const INSTANT_DEVNET = {
  $comment: 'bench: instant, correct miners only',
  blockTimeMs: 2000,
  slowMs: 15000,
  subnets: [
    { netuid: 1, name: 'text', taoReserve: 42000, alphaReserve: 1150000, miners: ['good', 'good', 'good', 'good'] },
    { netuid: 13, name: 'data', taoReserve: 61000, alphaReserve: 980000, miners: ['good', 'good', 'good', 'good'] },
    { netuid: 62, name: 'code', taoReserve: 37000, alphaReserve: 1400000, miners: ['good', 'good', 'good', 'good'] },
  ],
};

export interface OrchestraLevel {
  readonly concurrency: number;
  readonly jobs: number;
  readonly failed: number;
  readonly jobsPerSecond: number;
  /** Submit to job.succeeded, ms. */
  readonly job: Latency;
  /** (job latency − the miners' time) / steps, ms. */
  readonly stepOverhead: Latency;
  /** The miners' share of a step (the chosen calls' latency), ms. */
  readonly minerPerStep: Latency;
}

export interface Orchestra {
  readonly levels: OrchestraLevel[];
  /** VmRSS of each service process, MB: idle (after warm-up) and the most seen under 16 jobs in flight. */
  readonly rssMb: Record<string, { idle: number; load: number }>;
  /** Stream writes (messages appended) per step, by stream, at 1 job in flight. */
  readonly writesPerStep: Record<string, number>;
  /** CPU time per job at 16 in flight, ms, by process (services, devnet, nats-server). */
  readonly cpuMsPerJob: Record<string, number>;
  /** Time between consecutive progress events of a job (e.g. `step.hired → step.answered`), at 1 job in flight, ms. */
  readonly phases: Record<string, Latency>;
}

/**
 * 3-step jobs (tools/bench/chain.ts) through the five services as separate processes (the devnet stack on free
 * ports) with instant simulated miners: the time a step costs beyond the miners' own, and
 * jobs/s at 1, 4 and 16 jobs in flight. Completion is watched on the event stream (a core
 * NATS subscription, so watching adds no load to the api), and so are the miners' times (the
 * hire latency each `step.answered` event reports).
 */
export async function measureOrchestra(size: BenchSize, options: { cpuProfileDir?: string } = {}): Promise<Orchestra> {
  mkdirSync(BENCH_DIR, { recursive: true });
  // CPU profiles of the services over the measured load, for finding the hot path.
  const profiling: Record<string, string> = options.cpuProfileDir
    ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'cpu-profile-preload.js')}`.trim(), BENCH_CPU_PROF_DIR: options.cpuProfileDir }
    : {};
  if (options.cpuProfileDir) {
    rmSync(options.cpuProfileDir, { recursive: true, force: true });
    mkdirSync(options.cpuProfileDir, { recursive: true });
  }
  const devnetConfig = join(BENCH_DIR, 'instant-devnet.json');
  writeFileSync(devnetConfig, JSON.stringify(INSTANT_DEVNET, null, 2));
  const stack = await startDevnetStack({
    ports: 'auto',
    logDir: join(BENCH_DIR, 'orchestra-logs'),
    devnetConfig,
    serviceEnv: {
      LOG_LEVEL: 'warn',
      // The stack runs no gateway twins: every step is bought from the instant miners, which the catalog would try after Chutes.
      ORCH_CAPABILITY_PROVIDERS: 'data.financials=axon;text.analysis=axon;code.python=axon',
      ...profiling,
    },
  });
  const nc = await connect({ servers: stack.natsUrl, name: 'bench-orchestra', ...connectionOptions(stack.natsAccess) });
  try {
    const ends = watchJobEnds(nc);
    const runJob = async (): Promise<{ ms: number; minerMs: number; ok: boolean }> => {
      const t0 = performance.now();
      const res = await fetch(`${stack.api.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.api.key}` },
        body: JSON.stringify({ goal: BENCH_QUESTION, plan: BENCH_PLAN }),
      });
      if (res.status !== 202) throw new Error(`POST /v1/jobs answered ${res.status}: ${await res.text()}`);
      const { jobId } = (await res.json()) as { jobId: string };
      const { ok, minerMs } = await ends.of(jobId);
      return { ms: performance.now() - t0, ok, minerMs };
    };
    // Warm-up: the metagraph reaches KV, the parser processes start, the JIT warms.
    for (let i = 0; i < 5; i++) await runJob();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idle = rssOf(stack);
    const toggleProfilers = () => {
      if (options.cpuProfileDir) for (const replica of stack.replicas) if (replica.process.pid) process.kill(replica.process.pid, 'SIGUSR2');
    };
    toggleProfilers();

    const levels: OrchestraLevel[] = [];
    const peak: Record<string, number> = {};
    let writesPerStep: Record<string, number> = {};
    let phases: Record<string, Latency> = {};
    let cpuMsPerJob: Record<string, number> = {};
    for (const concurrency of CONCURRENCIES) {
      const jobs = SIZES[size][concurrency];
      const before = concurrency === 1 ? await streamSeqs(nc) : undefined;
      if (concurrency === 1) ends.timelines = new Map();
      const cpuBefore = concurrency === 16 ? cpuMsOf(stack) : undefined;
      const sampler = concurrency === 16 ? setInterval(() => Object.entries(rssOf(stack)).forEach(([k, v]) => (peak[k] = Math.max(peak[k] ?? 0, v))), 200) : undefined;
      const runs: Array<{ ms: number; minerMs: number; ok: boolean }> = [];
      const { wallMs } = await closedLoop(jobs, concurrency, async () => void runs.push(await runJob()));
      clearInterval(sampler);
      if (cpuBefore) {
        const cpuAfter = cpuMsOf(stack);
        cpuMsPerJob = Object.fromEntries(Object.entries(cpuAfter).map(([name, ms]) => [name, (ms - (cpuBefore[name] ?? 0)) / jobs]));
      }
      if (ends.timelines) {
        phases = stepPhases(ends.timelines);
        ends.timelines = undefined;
      }
      if (before) {
        const after = await streamSeqs(nc);
        writesPerStep = Object.fromEntries(
          Object.entries(after)
            .map(([stream, seq]) => [stream, (seq - (before[stream] ?? 0)) / (jobs * STEPS)])
            .filter(([, n]) => (n as number) > 0),
        );
      }
      const good = runs.filter((r) => r.ok);
      levels.push({
        concurrency,
        jobs,
        failed: runs.length - good.length,
        jobsPerSecond: (jobs / wallMs) * 1_000,
        job: latency(good.map((r) => r.ms)),
        stepOverhead: latency(good.map((r) => (r.ms - r.minerMs) / STEPS)),
        minerPerStep: latency(good.map((r) => r.minerMs / STEPS)),
      });
    }
    if (options.cpuProfileDir) {
      toggleProfilers();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      for (const replica of stack.replicas) {
        const written = join(options.cpuProfileDir, `${replica.opsPort}.cpuprofile`);
        if (existsSync(written)) renameSync(written, join(options.cpuProfileDir, `${replica.name}.cpuprofile`));
      }
    }
    const rssMb = Object.fromEntries(Object.entries(idle).map(([name, mb]) => [name, { idle: mb, load: peak[name] ?? mb }]));
    return { levels, rssMb, writesPerStep, phases, cpuMsPerJob };
  } finally {
    await nc.close();
    await stack.stop();
  }
}

/** A progress event as the bench saw it arrive. */
interface SeenEvent {
  readonly event: string;
  readonly stepId?: string;
  readonly atMs: number;
}

/** How a job ended, and the miners' time in it: the sum of its `step.answered` latencies (the hire calls), ms. */
interface JobEnd {
  readonly ok: boolean;
  readonly minerMs: number;
}

interface JobWatcher {
  of(jobId: string): Promise<JobEnd>;
  timelines?: Map<string, SeenEvent[]>;
}

/**
 * Resolves each job's end from `job.*` terminal events on the event stream (reading the job
 * record instead would add an api request per job to the load), and keeps every job's events
 * with their arrival times while `timelines` is set.
 */
function watchJobEnds(nc: NatsConnection): JobWatcher {
  const ended = new Map<string, JobEnd>();
  const waiting = new Map<string, (end: JobEnd) => void>();
  const minerMs = new Map<string, number>();
  const watcher: JobWatcher = {
    of: (jobId) => {
      const known = ended.get(jobId);
      if (known !== undefined) {
        ended.delete(jobId);
        return Promise.resolve(known);
      }
      return new Promise((resolve) => waiting.set(jobId, resolve));
    },
  };
  nc.subscribe('orch.event.>', {
    callback: (_err, msg) => {
      const atMs = performance.now();
      const { jobId, payload } = msg.json<{ jobId: string; payload: { event: string; stepId?: string; data?: { latencyMs?: number } } }>();
      if (payload.event === 'step.answered') minerMs.set(jobId, (minerMs.get(jobId) ?? 0) + (payload.data?.latencyMs ?? 0));
      if (watcher.timelines) {
        const timeline = watcher.timelines.get(jobId) ?? [];
        timeline.push({ event: payload.event, stepId: payload.stepId, atMs });
        watcher.timelines.set(jobId, timeline);
      }
      if (!['job.succeeded', 'job.failed', 'job.cancelled'].includes(payload.event)) return;
      const end = { ok: payload.event === 'job.succeeded', minerMs: minerMs.get(jobId) ?? 0 };
      minerMs.delete(jobId);
      const resolve = waiting.get(jobId);
      if (resolve) {
        waiting.delete(jobId);
        resolve(end);
      } else ended.set(jobId, end);
    },
  });
  return watcher;
}

/**
 * Where a step's time goes, from the progress events' arrival times: the median gap from each
 * event to the next within a job (one job at a time, so nothing else interleaves).
 */
function stepPhases(timelines: Map<string, SeenEvent[]>): Record<string, Latency> {
  const gaps = new Map<string, number[]>();
  for (const timeline of timelines.values()) {
    for (let i = 1; i < timeline.length; i++) {
      const [from, to] = [timeline[i - 1], timeline[i]];
      const key = `${from.event} → ${to.event}`;
      gaps.set(key, [...(gaps.get(key) ?? []), to.atMs - from.atMs]);
    }
  }
  return Object.fromEntries([...gaps].map(([key, samples]) => [key, latency(samples)]));
}

/** The last sequence of every stream (KV buckets included): their difference is what was written. */
async function streamSeqs(nc: NatsConnection): Promise<Record<string, number>> {
  const jsm = await jetstreamManager(nc);
  const seqs: Record<string, number> = {};
  for await (const info of jsm.streams.list()) seqs[info.config.name] = info.state.last_seq;
  return seqs;
}

/**
 * VmRSS of each service process, MB (from /proc/<pid>/status), and under `<name> children`
 * that of the processes it started (the Python parsers), when it has any.
 */
function rssOf(stack: DevnetStack): Record<string, number> {
  const rss: Record<string, number> = {};
  const mb = (pid: number | string) => Math.round(Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
  for (const replica of stack.replicas) {
    const pid = replica.process.pid;
    if (pid === undefined) continue;
    try {
      rss[replica.name] = mb(pid);
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean);
      if (children.length) rss[`${replica.name} children`] = children.reduce((sum, child) => sum + mb(child), 0);
    } catch {
      // the process is restarting (or the kernel lists no children): no sample this time
    }
  }
  return rss;
}

/** CPU time (user + system) so far of every process of the stack, ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMsOf(stack: DevnetStack): Record<string, number> {
  const ticks = (pid: number | string): number => {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const cpu: Record<string, number> = {};
  const pids: Array<[string, number | undefined]> = [...stack.processes].map(([name, p]) => [name, p.pid]);
  if (stack.nats) pids.push(['nats-server', natsServerPid(stack.nats.port)]);
  for (const [name, pid] of pids) {
    if (pid === undefined) continue;
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean);
      cpu[name] = (ticks(pid) + children.reduce((sum, child) => sum + ticks(child), 0)) * 10;
    } catch {
      // gone or restarting
    }
  }
  return cpu;
}

/** The pid of the nats-server listening on `port` (its command line names the port). */
function natsServerPid(port: number): number | undefined {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args[0].endsWith('nats-server') && args.includes(String(port))) return Number(pid);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}
