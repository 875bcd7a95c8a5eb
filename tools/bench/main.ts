import { chainSyncBench } from './chain-sync';
import { hedgingBench } from './hedging';

/** One benchmark case: rows for one table, measured at the given size. */
interface BenchCase {
  readonly name: string;
  run(size: 'small' | 'full'): Promise<Array<Record<string, string | number>>>;
}

const CASES: readonly BenchCase[] = [chainSyncBench, hedgingBench];

/**
 * `npm run bench [-- <case>…]`: runs every case (or the named ones) and prints one table
 * per case. Small by default; `BENCH_SIZE=full` for full size. Each case measures its
 * baseline in the same run, so the ratios hold on any machine.
 */
async function main(): Promise<void> {
  const size = process.env.BENCH_SIZE === 'full' ? 'full' : 'small';
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length) {
    console.error(`unknown bench case(s): ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
    process.exit(2);
  }
  for (const c of CASES.filter((c) => wanted.length === 0 || wanted.includes(c.name))) {
    const started = Date.now();
    const rows = await c.run(size);
    console.log(`\n${c.name} (size ${size}, ${((Date.now() - started) / 1_000).toFixed(1)} s)`);
    console.table(rows);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
