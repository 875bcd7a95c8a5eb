import { Buckets, Subjects } from '@orchestra/contracts';
import { NatsServerHandle, freePort, launchNatsServer, startNatsServer } from '@orchestra/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Bus, natsStallMsFromEnv } from './bus';
import { PayloadTooLargeError } from './errors';
import { compareAndSet } from './kv';
import { taskResult } from './task-result.fixture';

const taskResultWithRaw = (jobId: string, raw: string) => taskResult(jobId, { raw });

/** The size budget follows the server connected to, and oversized writes fail at once, named. */
describe('size budget', () => {
  let small: NatsServerHandle;
  let bus: Bus;

  beforeAll(async () => {
    // A server configured with a quarter of NATS's default max_payload.
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-budget-'));
    writeFileSync(join(dir, 'nats.conf'), 'max_payload: 262144\n');
    small = await launchNatsServer({ port: await freePort(), storeDir: join(dir, 'store'), args: ['-c', join(dir, 'nats.conf')] });
    // A body limit that leaves room in this server's smaller record budget.
    bus = await Bus.connect({ servers: small.url, name: 'budget-spec', limits: { maxBodyBytes: 65536, inlineOutputBytes: 32768 } });
  });
  afterAll(async () => {
    await bus.close();
    await small.dispose();
  });

  it("derives the budgets from the server's max_payload", () => {
    expect(bus.limits.maxPayloadBytes).toBe(262_144);
    expect(bus.limits.recordBudgetBytes).toBe(262_144 - 16 * 1024);
    expect(bus.limits.maxBodyBytes).toBe(65_536);
  });

  it('refuses at connect a body limit the smaller server cannot record, saying which setting to change', async () => {
    await expect(Bus.connect({ servers: small.url, name: 'budget-spec-bad' })).rejects.toThrow(/ORCH_MAX_BODY_BYTES=262144 is more than half the job record budget/);
  });

  it('fails a publish over max_payload with PayloadTooLargeError naming the subject and sizes, before sending', async () => {
    const error = await bus.publish(Subjects.taskResult, taskResultWithRaw('big', 'x'.repeat(300_000))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ retryable: false, target: expect.stringContaining('subject orch.task.result'), limitBytes: 262_144 - 4_096 });
    expect((error as PayloadTooLargeError).bytes).toBeGreaterThan(300_000);
    // A message that fits still goes out.
    await expect(bus.publish(Subjects.taskResult, taskResultWithRaw('fits', 'x'.repeat(1_000)))).resolves.toMatchObject({ duplicate: false });
  });

  it('fails a KV write over its budget with PayloadTooLargeError naming bucket and key, writing nothing', async () => {
    const kv = await bus.kv(Buckets.jobs);
    const Blob = z.object({ text: z.string() });
    const error = await compareAndSet(kv, 'too-big', Blob, () => ({ text: 'x'.repeat(300_000) }), { maxBytes: bus.limits.recordBudgetBytes }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toMatch(/too-big: \d+ bytes exceed the limit of 245760 bytes/);
    expect(await kv.get('too-big')).toBeNull();
  });
});

describe('connection health', () => {
  let server: NatsServerHandle;

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(() => server.dispose());

  it('reports a connection whose reader died (a subscription callback threw) not live, and a closed one', async () => {
    const bus = await Bus.connect({ servers: server.url, name: 'stall-spec', stallMs: natsStallMsFromEnv({ ORCH_NATS_STALL_MS: '10000' }) });
    try {
      expect(bus.connectionHealth()).toEqual({ live: true, detail: 'up' });
      // What the dispatcher's cancel subscription did before it caught: 8 garbage bytes kill the client's reader.
      bus.nc.subscribe('spec.garbage', { callback: (_e, msg) => void msg.json() });
      const other = await Bus.connect({ servers: server.url, name: 'stall-spec-2' });
      other.nc.publish('spec.garbage', 'garbage!');
      await other.nc.flush();
      await other.close();
      // Pings go unanswered from now on: after ORCH_NATS_STALL_MS the connection reports dead.
      const until = Date.now() + 25_000;
      while (bus.connectionHealth().live && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
      expect(bus.connectionHealth()).toMatchObject({ live: false, detail: expect.stringMatching(/NATS connection stalled: no pong for \d+ ms/) });
    } finally {
      await bus.nc.close();
      await bus.close();
    }
    expect(bus.connectionHealth()).toEqual({ live: false, detail: 'NATS connection closed for good' });
  }, 40_000);
});
