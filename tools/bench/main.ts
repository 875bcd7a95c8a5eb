import { chainSyncBench } from './chain-sync';
import { Floor, floorBench, measureFloor, FLOOR_SIZES } from './floor';
import { hedgingBench } from './hedging';
import { Orchestra, measureOrchestra } from './orchestra';
import { PeerLevel, measurePeer } from './peer';
import { rankingBench } from './ranking';
import { join } from 'node:path';
import { BENCH_DIR, BenchSize, Row, round, writeResults } from './stats';

/**
 * What a case may ask for: the measurements other cases take as baselines, taken at most once
 * per run (so `npm run bench peer` measures Orchestra too, and a full run measures it once).
 */
export interface Measurements {
  floor(size: BenchSize): Promise<Floor>;
  orchestra(size: BenchSize): Promise<Orchestra>;
  peer(size: BenchSize): Promise<PeerLevel[]>;
}

/** One benchmark case: one table (rows), or several titled ones, measured at the given size. */
interface BenchCase {
  readonly name: string;
  run(size: BenchSize, measure: Measurements): Promise<Row[] | Record<string, Row[]>>;
}

const orchestraBench: BenchCase = {
  name: 'orchestra',
  async run(size, measure) {
    const [floor, orchestra] = [await measure.floor(size), await measure.orchestra(size)];
    return {
      [`3-step jobs through the five services, instant miners (per-step overhead = (job − miners' time) / 3; floor: ${round(floor.serial.p50, 2)} ms p50 a chain)`]:
        orchestra.levels.map((l) => ({
          'in flight': l.concurrency,
          jobs: l.jobs,
          failed: l.failed,
          'jobs/s': round(l.jobsPerSecond, 1),
          'job p50 ms': round(l.job.p50, 1),
          'job p99 ms': round(l.job.p99, 1),
          'step overhead p50 ms': round(l.stepOverhead.p50, 1),
          'step overhead p99 ms': round(l.stepOverhead.p99, 1),
          'miners/step p50 ms': round(l.minerPerStep.p50, 1),
          'overhead ÷ floor (p50)': round(l.stepOverhead.p50 / floor.serial.p50, 1),
          'jobs/s ÷ floor chains/s': l.concurrency === 16 ? `${round((l.jobsPerSecond * 3) / floor.chainsPerSecond, 3)} (steps/s ÷ chains/s)` : '',
        })),
      "where the time goes at 1 in flight: gaps between a job's consecutive progress events (as the bench received them)": Object.entries(orchestra.phases).map(([gap, l]) => ({
        gap,
        n: l.n,
        'p50 ms': round(l.p50, 1),
        'p99 ms': round(l.p99, 1),
      })),
      'CPU per job at 16 in flight, by process (children included: the Python parsers), from /proc/<pid>/stat': [
        ...Object.entries(orchestra.cpuMsPerJob).map(([process, ms]) => ({ process, 'CPU ms/job': round(ms, 1) })),
        {
          process: 'total',
          'CPU ms/job': round(
            Object.values(orchestra.cpuMsPerJob).reduce((a, b) => a + b, 0),
            1,
          ),
        },
      ],
      'stream writes per step, measured (last sequence deltas at 1 in flight; KV buckets are streams KV_<bucket>)': Object.entries(orchestra.writesPerStep).map(([stream, n]) => ({
        stream,
        'writes/step': round(n, 2),
      })),
    };
  },
};

const peerBench: BenchCase = {
  name: 'peer',
  async run(size, measure) {
    const [orchestra, peer] = [await measure.orchestra(size), await measure.peer(size)];
    return peer.map((p) => {
      const o = orchestra.levels.find((l) => l.concurrency === p.concurrency);
      return {
        'in flight': p.concurrency,
        'BullMQ flows': p.jobs,
        'BullMQ jobs/s': round(p.jobsPerSecond, 1),
        'BullMQ p50 ms': round(p.job.p50, 1),
        'BullMQ p99 ms': round(p.job.p99, 1),
        'Orchestra jobs/s': o ? round(o.jobsPerSecond, 1) : '',
        'Orchestra p50 ms': o ? round(o.job.p50, 1) : '',
        'Orchestra p99 ms': o ? round(o.job.p99, 1) : '',
        'jobs/s Orchestra ÷ BullMQ': o ? round(o.jobsPerSecond / p.jobsPerSecond, 3) : '',
        // CPU per job does not depend on what else the machine runs, unlike jobs/s.
        'BullMQ CPU ms/job (bench + redis)': round(p.cpuMsPerJob, 1),
        'Orchestra CPU ms/job (all processes)':
          o && p.concurrency === 16
            ? round(
                Object.values(orchestra.cpuMsPerJob).reduce((a, b) => a + b, 0),
                1,
              )
            : '',
      };
    });
  },
};

const memoryBench: BenchCase = {
  name: 'memory',
  async run(size, measure) {
    const { rssMb } = await measure.orchestra(size);
    return Object.entries(rssMb).map(([service, mb]) => ({
      service,
      'idle VmRSS MB': mb.idle,
      'under load (16 in flight) VmRSS MB': mb.load,
      'idle ≤ 150 MB': service.endsWith(' children') ? '' : mb.idle <= 150 ? 'yes' : 'no',
    }));
  },
};

const CASES: readonly BenchCase[] = [floorBench, orchestraBench, peerBench, memoryBench, chainSyncBench, rankingBench, hedgingBench];

function memoized(): Measurements {
  const cache = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, measure: () => Promise<T>): Promise<T> => {
    if (!cache.has(key)) cache.set(key, measure());
    return cache.get(key) as Promise<T>;
  };
  return {
    floor: (size) => once(`floor:${size}`, () => measureFloor(FLOOR_SIZES[size])),
    orchestra: (size) => once(`orchestra:${size}`, () => measureOrchestra(size, { cpuProfileDir: process.env.BENCH_CPU_PROF ? join(BENCH_DIR, 'cpu-prof') : undefined })),
    peer: (size) => once(`peer:${size}`, () => measurePeer(size)),
  };
}

/**
 * `npm run bench [-- <case>…]`: runs every case (or the named ones), prints one table (or
 * a few) per case and writes each case's results as JSON to tmp/bench/<case>.json. Small by
 * default; `BENCH_SIZE=full` for full size. Each case measures its baseline in the same run,
 * so the ratios hold on any machine.
 */
async function main(): Promise<void> {
  const size: BenchSize = process.env.BENCH_SIZE === 'full' ? 'full' : 'small';
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length) {
    console.error(`unknown bench case(s): ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
    process.exit(2);
  }
  const measure = memoized();
  for (const c of CASES.filter((c) => wanted.length === 0 || wanted.includes(c.name))) {
    const started = Date.now();
    const result = await c.run(size, measure);
    const tables = Array.isArray(result) ? { [c.name]: result } : result;
    const path = writeResults(c.name, size, tables);
    console.log(`\n${c.name} (size ${size}, ${((Date.now() - started) / 1_000).toFixed(1)} s; ${path})`);
    for (const [title, rows] of Object.entries(tables)) {
      if (title !== c.name) console.log(title);
      console.table(rows);
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
