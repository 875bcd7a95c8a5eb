import { DEFAULT_LIMITS, JobState, jsonBytes, TERMINAL_JOB_STATUSES } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiAccess, authed, submit } from '../e2e/helpers';

/**
 * A bad day on the network, many jobs at once:
 * - 30% of every subnet's miners faulty in mixed ways (down, slow, garbage, wrong schema,
 *   intermittent, slow-tail, replay, colluding, huge, redirect): ≥ 99.5% of jobs succeed;
 * - the same, plus 30% of every subnet's miners hostile (deep JSON, huge error text, huge
 *   headers, invalid UTF-8, endless body, trickle): with up to 4 bad miners of 6 some jobs
 *   may run out of attempts, but every job ends with a reason and none for its deadline.
 * Size: RESILIENCE_JOBS (default 30 for the faulty scenario and 10 for the hostile one, the
 * CI size; 200 for the full scenario), RESILIENCE_SEED picks which miners misbehave and how
 * (default 7; 32 for the hostile scenario, which ranks hostile miners first on every subnet
 * and draws five of the six hostile behaviours).
 */
const DEADLINE_MS = 90_000;
const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';

interface Scenario {
  readonly faulty: number;
  readonly hostile: number;
  readonly seed: number;
  readonly jobs: number;
  /** Share of jobs that must succeed; undefined: only that each ends in time, with a reason. */
  readonly minSuccess?: number;
}

const SCENARIOS: Scenario[] = [
  { faulty: 0.3, hostile: 0, seed: Number(process.env.RESILIENCE_SEED ?? 7), jobs: Number(process.env.RESILIENCE_JOBS ?? 30), minSuccess: 0.995 },
  { faulty: 0.3, hostile: 0.3, seed: Number(process.env.RESILIENCE_SEED ?? 32), jobs: Number(process.env.RESILIENCE_JOBS ?? 10) },
];

describe.each(SCENARIOS)('resilience: $jobs jobs with $faulty faulty and $hostile hostile miners per subnet (separate processes)', (scenario) => {
  const { jobs: JOBS, seed: SEED } = scenario;
  const switches = `--faulty ${scenario.faulty}${scenario.hostile ? ` --hostile ${scenario.hostile}` : ''} --seed ${SEED}`;
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-resilience-')),
      faulty: scenario.faulty,
      hostile: scenario.hostile || undefined,
      seed: SEED,
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '2500' },
    });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  it(
    'every job ends within its deadline, with a reason when it fails, within the attempt budget (and enough succeed)',
    async () => {
      const started = Date.now();
      const ids = await Promise.all(Array.from({ length: JOBS }, () => submit(stack.api, { goal: GOAL, limits: { deadlineMs: DEADLINE_MS } })));
      const jobs = await Promise.all(ids.map((id) => untilTerminal(stack.api, id, started + DEADLINE_MS + 10_000)));
      const seconds = (Date.now() - started) / 1000;

      const table = summarise(jobs);
      console.log(
        [
          `resilience: ${JOBS} jobs, ${seconds.toFixed(1)} s, devnet ${switches}`,
          `miners: ${stack.devnet.miners.map((m) => `SN${m.netuid}/${m.uid} ${m.behaviour}`).join(', ')}`,
          ...Object.entries(table).map(([k, v]) => `  ${k.padEnd(28)} ${v}`),
        ].join('\n'),
      );

      for (const job of jobs) {
        expect(TERMINAL_JOB_STATUSES).toContain(job.status);
        if (job.status !== 'succeeded') expect(job.error?.message).toBeTruthy();
        // No miner, however hostile, makes a job wait for its deadline.
        expect(job.error?.code).not.toBe('deadline');
        expect(Date.parse(job.updatedAt)).toBeLessThanOrEqual(Date.parse(job.deadlineAt) + 5_000);
        for (const step of job.steps) {
          expect(step.attempts.length).toBeLessThanOrEqual(step.maxAttempts);
          // A stranger's text is kept cut to textLimitChars (plus the truncation marker).
          for (const attempt of step.attempts) expect((attempt.reason ?? '').length).toBeLessThanOrEqual(DEFAULT_LIMITS.textLimitChars + 40);
        }
      }
      if (scenario.minSuccess !== undefined) expect(jobs.filter((j) => j.status === 'succeeded').length / JOBS).toBeGreaterThanOrEqual(scenario.minSuccess);
    },
    DEADLINE_MS + 60_000,
  );
});

/** Polls a job until it is terminal (GET /v1/jobs/:id), failing at `until`. */
async function untilTerminal(api: ApiAccess, jobId: string, until: number): Promise<JobState> {
  for (;;) {
    const job = (await (await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: authed(api) })).json()) as JobState;
    if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
    if (Date.now() > until) throw new Error(`job ${jobId} still ${job.status} past its deadline`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The scenario's table: outcomes, failures by reason, attempts and extra (hedged) calls. */
function summarise(jobs: JobState[]): Record<string, string | number> {
  const steps = jobs.flatMap((j) => j.steps);
  const attempts = steps.flatMap((s) => s.attempts);
  const failures: Record<string, number> = {};
  for (const j of jobs) if (j.status !== 'succeeded') failures[j.error?.code ?? 'unknown'] = (failures[j.error?.code ?? 'unknown'] ?? 0) + 1;
  return {
    succeeded: `${jobs.filter((j) => j.status === 'succeeded').length} / ${jobs.length}`,
    'failed by reason':
      Object.entries(failures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none',
    'first failure': jobs.find((j) => j.status !== 'succeeded')?.error?.message.slice(0, 300) ?? 'none',
    'mean attempts per step': (attempts.length / Math.max(1, steps.length)).toFixed(2),
    'rejected attempts': attempts.filter((a) => a.status === 'rejected').length,
    'extra calls (hedges)': attempts.reduce((n, a) => n + a.hedgedUids.length, 0),
    'mean spend per job (TAO)': (jobs.reduce((n, j) => n + j.spend.totalTao, 0) / jobs.length).toFixed(6),
    'largest job record (bytes)': Math.max(...jobs.map((j) => jsonBytes(j))),
  };
}
