import { DEFAULT_LIMITS, JobState, jsonBytes } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit } from './helpers';

/**
 * Hostile miners ranked first (separate processes, real nats-server, real signed HTTP):
 * - SN13's best UID answers JSON nested 100,000 deep (finding 2: it used to throw in the
 *   dispatcher, the task was dead-lettered, the job waited for its deadline and the next
 *   job hired the same miner first);
 * - SN1's two best and SN62's best fail with 400,000-character status messages / Epistula
 *   details (finding 3: three such reasons made the job record unwritable).
 */
const GOAL = 'Analyze these financial filings and write a Python script to graph the trends';
const DEEP_UID = 1;
/** A stored reason is cut to textLimitChars, plus the truncation marker. */
const MAX_REASON_CHARS = DEFAULT_LIMITS.textLimitChars + 40;

describe('hostile miners ranked first (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-hostile-'));
    const config = join(dir, 'devnet.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        blockTimeMs: 2000,
        subnets: [
          { netuid: 1, name: 'text', taoReserve: 42000, alphaReserve: 1150000, miners: ['huge-error', 'huge-error', 'good', 'good'] },
          { netuid: 13, name: 'data', taoReserve: 61000, alphaReserve: 980000, miners: ['deep-json', 'good', 'good', 'good'] },
          { netuid: 62, name: 'code', taoReserve: 37000, alphaReserve: 1400000, miners: ['huge-error', 'good', 'good'] },
        ],
      }),
    );
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: dir,
      devnetConfig: config,
      // Reputation read fresh on every hire, so the second job sees what the first one taught.
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '5000', ORCH_REPUTATION_CACHE_MS: '0' },
    });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  let first: JobState;

  it('the job succeeds via the next miners; each hostile attempt is a rejection with a bounded reason; the record stays small', async () => {
    const jobId = await submit(stack.api, { goal: GOAL, limits: { deadlineMs: 60_000 } });
    const events = await followEvents(stack.api, jobId);
    first = await getJob(stack.api, jobId);
    expect(first.status).toBe('succeeded');
    expect(events.at(-1)?.event).toBe('job.succeeded');

    // Finding 2: SN13's deep-JSON miner was hired first, rejected with a reason, and replaced.
    const data = first.steps.find((s) => s.capability === 'data.financials');
    expect(data?.attempts[0]).toMatchObject({ uid: DEEP_UID, status: 'rejected', rejectedAs: 'miner_error' });
    expect(data?.attempts[0].reason).toMatch(/^uid 1 on SN13 failed: 422 Failed to parse response object with error: JSON nested deeper than \d+ levels/);
    expect(data?.attempts.at(-1)?.status).toBe('verified');

    // Finding 3: the huge-error miners' attempts are rejections whose reasons were cut.
    const hostile = first.steps.flatMap((s) => s.attempts).filter((a) => a.status === 'rejected' && a.reason?.includes('miner failure: EEE'));
    expect(hostile.length).toBeGreaterThanOrEqual(3);
    for (const attempt of hostile) expect(attempt.reason).toContain('…[truncated');
    for (const step of first.steps) {
      for (const attempt of step.attempts) {
        expect((attempt.reason ?? '').length).toBeLessThanOrEqual(MAX_REASON_CHARS);
        for (const error of attempt.errors ?? []) expect(error.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
      }
    }
    for (const event of events) expect(event.message.length).toBeLessThanOrEqual(MAX_REASON_CHARS + 200);
    // Three 400,000-character messages would have been 1.2 MB; the whole record is a few dozen KB.
    expect(jsonBytes(first)).toBeLessThan(128 * 1024);
  }, 90_000);

  it('the deep-JSON miner has reputation evidence: the next job does not hire it first', async () => {
    expect(first).toBeDefined();
    const jobId = await submit(stack.api, {
      goal: 'fetch reported revenue',
      plan: [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] } }],
    });
    await followEvents(stack.api, jobId);
    const job = await getJob(stack.api, jobId);
    expect(job.status).toBe('succeeded');
    expect(job.steps[0].attempts[0].uid).not.toBe(DEEP_UID);
    expect(job.steps[0].attempts.map((a) => a.uid)).not.toContain(DEEP_UID);
  }, 60_000);
});
