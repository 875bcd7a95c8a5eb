import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { REPO_ROOT } from '@orchestra/testing';

/** One row of a printed table. */
export type Row = Record<string, string | number>;

/** A bench size: small is quick (default), full is what the README's numbers come from. */
export type BenchSize = 'small' | 'full';

/** Where `npm run bench` writes its JSON results and the logs of the processes it starts. */
export const BENCH_DIR = join(REPO_ROOT, 'tmp', 'bench');

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Latency summary of a sample, ms. */
export interface Latency {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** Nearest-rank quantiles of `samples` (ms); zeros for an empty sample. */
export function latency(samples: readonly number[]): Latency {
  if (samples.length === 0) return { n: 0, p50: 0, p99: 0, mean: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { n: sorted.length, p50: q(0.5), p99: q(0.99), mean: sorted.reduce((s, x) => s + x, 0) / sorted.length };
}

/**
 * Runs `total` operations with at most `concurrency` in flight (a closed loop: each worker
 * starts its next operation when the last one ended) and returns each operation's latency
 * and the wall time, ms.
 */
export async function closedLoop(total: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

/** Writes a case's tables as JSON to tmp/bench/<case>.json and returns the path. */
export function writeResults(name: string, size: BenchSize, tables: Record<string, Row[]>, extra: Record<string, unknown> = {}): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `${name}.json`);
  writeFileSync(path, JSON.stringify({ case: name, size, at: new Date().toISOString(), tables, ...extra }, null, 2) + '\n');
  return path;
}
