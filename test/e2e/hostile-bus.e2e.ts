import { Bus, listDeadLetters } from '@orchestra/bus';
import { Consumers, JobSubmitted, Streams, Subjects, envelope, jsonBytes } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authed, followEvents, getJob, submit, operatorBus } from './helpers';

const dataPlan = {
  goal: 'fetch reported revenue',
  plan: [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] } }],
};

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)?.slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The attacker's findings 1 and 4, replayed against the services as separate processes on
 * a real nats-server: hostile input must end or be set aside, never stall anything.
 */
describe('hostile input on the bus (separate processes)', () => {
  let stack: DevnetStack;
  let bus: Bus;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      devnetConfig: join(__dirname, 'fixtures', 'hostile-devnet.json'),
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '15000', ORCH_HEDGE: 'data.financials:off', ORCH_NETUIDS: '13' },
    });
    bus = await operatorBus(stack, 'hostile-e2e');
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    await stack?.stop();
  }, 60_000);

  const live = async (service: 'planner' | 'dispatcher') => (await fetch(`http://127.0.0.1:${stack.opsPorts[service]}/healthz`)).status;

  it('finding 1: a job whose record cannot fit, published straight to NATS, ends failed too_large; its message is settled; the next job succeeds', async () => {
    // ~1 MB of notes: the message fits NATS's max_payload, the job record around it does not fit its budget.
    // Each note is 18 bytes of JSON ("ENTITY-00000000",). (An input the plan reads would be refused by the
    // plan checks first: a data.financials step takes at most 10 entities.)
    const entities = Array.from({ length: Math.ceil((bus.limits.recordBudgetBytes + 2_000) / 18) }, (_, i) => `ENTITY-${String(i).padStart(8, '0')}`);
    expect(jsonBytes(entities)).toBeGreaterThan(bus.limits.recordBudgetBytes);
    const job = {
      jobId: 'job_hostile_huge',
      tenant: 'default',
      goal: 'Analyze these financial filings and write a Python script to graph the trends',
      inputs: { notes: entities },
      limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 },
      submittedAt: new Date().toISOString(),
    };
    await bus.publish(Subjects.jobSubmitted, envelope(JobSubmitted, job.jobId, { job }));

    const failed = await until(
      // Published straight to the bus for tenant `default`: the operators' key reads any tenant's job.
      () =>
        fetch(`${stack.api.url}/v1/jobs/${job.jobId}`, { headers: authed({ url: stack.api.url, key: stack.api.adminKey }) }).then(
          (r) => r.json() as Promise<Record<string, unknown>>,
        ),
      (j) => j.status === 'failed',
      30_000,
      'huge job failed',
    );
    expect(failed).toMatchObject({ status: 'failed', inputs: {}, error: { code: 'too_large' } });
    expect((failed.error as { message: string }).message).toMatch(/over its budget of \d+ bytes \(ORCH_RECORD_BUDGET_BYTES\)/);
    // Settled: nothing of it waits in the planner's consumer, and it was handled, not dead-lettered.
    await until(
      () => bus.jsm.consumers.info(Streams.jobs.name, Consumers.planner.durable),
      (c) => c.num_ack_pending === 0 && c.num_pending === 0,
      15_000,
      'planner consumer drained',
    );
    expect((await listDeadLetters(bus, { consumer: 'planner' })).filter((e) => e.jobId === job.jobId)).toEqual([]);

    const good = await submit(stack.api, dataPlan);
    const events = await followEvents(stack.api, good);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    expect(await live('planner')).toBe(200);
  }, 90_000);

  it('finding 4: garbage on orch.job.cancel leaves the dispatcher serving, and a later valid cancel still aborts', async () => {
    bus.nc.publish(Subjects.jobCancel, 'garbage!');
    bus.nc.publish(Subjects.jobCancel, JSON.stringify({ type: 'job.cancel', deep: JSON.parse('['.repeat(500) + ']'.repeat(500)) }));
    await bus.nc.flush();

    // The planner's consumer sees the same bytes (orch.job.> is its inbox): poison, dead-lettered with an excerpt.
    const letters = await until(
      () => listDeadLetters(bus, { consumer: 'planner' }),
      (l) => l.length >= 2,
      15_000,
      'planner dead letters',
    );
    expect(letters.map((l) => (l.letter as { excerpt: string }).excerpt)).toContain('garbage!');
    expect(letters.every((l) => l.version === 2 && (l.letter as { stream: string }).stream === Streams.jobs.name)).toBe(true);

    const good = await submit(stack.api, dataPlan);
    expect((await followEvents(stack.api, good)).at(-1)?.event).toBe('job.succeeded');
    expect(await live('dispatcher')).toBe(200);
    // Serving all along: not deafened until its liveness probe had it restarted (which would also get the job done).
    expect(stack.processes.get('dispatcher')?.restartCount).toBe(0);

    const doomed = await submit(stack.api, dataPlan);
    const following = followEvents(stack.api, doomed);
    await until(
      () => getJob(stack.api, doomed).catch(() => undefined),
      (j) => j?.status === 'running',
      10_000,
      'job running',
    );
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`${stack.api.url}/v1/jobs/${doomed}/cancel`, {
      method: 'POST',
      headers: authed(stack.api, { 'content-type': 'application/json' }),
      body: JSON.stringify({ reason: 'changed my mind' }),
    });
    expect(res.status).toBe(202);
    const events = await following;
    expect(events.at(-1)).toMatchObject({ event: 'job.cancelled', message: 'changed my mind' });
    expect(events.some((e) => e.event === 'step.answered')).toBe(false);
    // The dispatcher heard the cancellation and cut the miner call off.
    await until(
      async () => (await fetch(`http://127.0.0.1:${stack.opsPorts.dispatcher}/metrics`)).text(),
      (text) => /dispatcher_dropped_tasks_total\{reason="cancelled"[^}]*\} 1\b/.test(text),
      5_000,
      'hire aborted',
    );
  }, 90_000);
});
