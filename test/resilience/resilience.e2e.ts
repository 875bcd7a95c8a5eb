import { JobState, TERMINAL_JOB_STATUSES } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../e2e/helpers';

/**
 * A bad day on the network: 30% of every subnet's miners faulty in mixed ways (down,
 * slow, garbage, wrong schema, intermittent, slow-tail, replay, colluding, huge,
 * redirect), many jobs at once. Size: RESILIENCE_JOBS (default 30 here; 200 for the
 * full scenario), RESILIENCE_SEED picks which miners are faulty and how.
 */
const JOBS = Number(process.env.RESILIENCE_JOBS ?? 30);
const SEED = Number(process.env.RESILIENCE_SEED ?? 7);
const DEADLINE_MS = 90_000;
const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';

describe(`resilience: ${JOBS} jobs with 30% of each subnet's miners faulty (separate processes)`, () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-resilience-')),
      faulty: 0.3,
      seed: SEED,
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '2500' },
    });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  it('succeeds at ≥ 99.5% within the attempt budget; every failure has a reason; nothing hangs past its deadline', async () => {
    const started = Date.now();
    const ids = await Promise.all(Array.from({ length: JOBS }, () => submit(stack.apiUrl, { goal: GOAL, limits: { deadlineMs: DEADLINE_MS } })));
    const jobs = await Promise.all(ids.map((id) => untilTerminal(stack.apiUrl, id, started + DEADLINE_MS + 10_000)));
    const seconds = (Date.now() - started) / 1000;

    const table = summarise(jobs);
    console.log(
      [
        `resilience: ${JOBS} jobs, ${seconds.toFixed(1)} s, devnet --faulty 0.3 --seed ${SEED}`,
        `miners: ${stack.devnet.miners.map((m) => `SN${m.netuid}/${m.uid} ${m.behaviour}`).join(', ')}`,
        ...Object.entries(table).map(([k, v]) => `  ${k.padEnd(28)} ${v}`),
      ].join('\n'),
    );

    for (const job of jobs) {
      expect(TERMINAL_JOB_STATUSES).toContain(job.status);
      if (job.status !== 'succeeded') expect(job.error?.message).toBeTruthy();
      expect(Date.parse(job.updatedAt)).toBeLessThanOrEqual(Date.parse(job.deadlineAt) + 5_000);
      for (const step of job.steps) expect(step.attempts.length).toBeLessThanOrEqual(step.maxAttempts);
    }
    expect(jobs.filter((j) => j.status === 'succeeded').length / JOBS).toBeGreaterThanOrEqual(0.995);
  }, DEADLINE_MS + 60_000);
});

/** Polls a job until it is terminal (GET /v1/jobs/:id), failing at `until`. */
async function untilTerminal(apiUrl: string, jobId: string, until: number): Promise<JobState> {
  for (;;) {
    const job = (await (await fetch(`${apiUrl}/v1/jobs/${jobId}`)).json()) as JobState;
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
    'failed by reason': Object.entries(failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none',
    'mean attempts per step': (attempts.length / Math.max(1, steps.length)).toFixed(2),
    'rejected attempts': attempts.filter((a) => a.status === 'rejected').length,
    'extra calls (hedges)': attempts.reduce((n, a) => n + a.hedgedUids.length, 0),
    'mean spend per job (TAO)': (jobs.reduce((n, j) => n + j.spend.totalTao, 0) / jobs.length).toFixed(6),
  };
}
