import { listDeadLetters, replayDeadLetter } from '@orchestra/bus';
import { FAILED_STEP_LETTERS } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit, operatorBus } from './helpers';

/** Every miner of every subnet is faulty (`--faulty 1`): jobs must fail with reasons, not hang. */
describe('a job whose every candidate fails (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      faulty: 1,
      // Seed 11 gives SN13 only behaviours that fail every call (down, garbage, wrong-schema,
      // redirect); other draws include ones that answer well sometimes (intermittent, replay…).
      seed: 11,
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '1500' },
    });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  it('ends failed, naming every attempt and its reason', async () => {
    const jobId = await submit(stack.api, {
      goal: 'fetch reported revenue',
      plan: [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] } }],
      limits: { maxAttemptsPerStep: 6 },
    });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.failed');
    const job = await getJob(stack.api, jobId);
    expect(job.status).toBe('failed');
    const step = job.steps[0];
    // SN13 has 6 miners and 6 attempts are allowed: every one was tried once, none twice.
    expect(step.attempts.map((a) => a.uid).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(step.attempts.every((a) => a.status === 'rejected' && a.reason)).toBe(true);
    expect(job.error).toMatchObject({ code: 'step_failed', stepId: 'data' });
    for (const a of step.attempts) expect(job.error?.message).toContain(`#${a.attempt} uid ${a.uid}: `);

    // The failed step is on the dead-letter stream for operators, with every attempt's reason.
    const bus = await operatorBus(stack, 'e2e-dlq');
    try {
      const [letter] = (await listDeadLetters(bus, { consumer: FAILED_STEP_LETTERS })).filter((e) => e.jobId === jobId);
      expect(letter.letter.deliveries).toBe(6);
      // The operators' record keeps the miners' addresses; the client's view of the same reason does not.
      expect(letter.letter.reason).toMatch(/127\.0\.0\.1:\d+/);
      expect(letter.letter.reason.replace(/(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?/g, '[miner address]')).toBe(job.error?.message);
      await expect(replayDeadLetter(bus, letter.seq)).rejects.toThrow(/has ended: there is nothing to redeliver/);
    } finally {
      await bus.close();
    }
  }, 90_000);
});
