import { taskResult } from './task-result.fixture';
import { errors as natsErrors } from '@nats-io/transport-node';
import { Controller, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Buckets, Consumers, DeadLetter, Streams, Subjects, TaskResult } from '@orchestra/contracts';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { Bus } from './bus';
import { PoisonMessageError, RetryableError } from './errors';
import { InboundMessage } from './inbound';
import { compareAndSet, readJson } from './kv';
import { listDeadLetters, replayDeadLetter } from './dead-letters';
import { BusErrorFilter, JetStreamTransport } from './transport';

describe('Bus', () => {
  let server: NatsServerHandle;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'bus-spec' });
  });
  afterAll(async () => {
    await bus.close();
    await server.dispose();
  });

  it('drops a republish of the same envelope (same Nats-Msg-Id)', async () => {
    const first = await bus.publish(Subjects.taskResult, taskResult('dedupe'));
    const again = await bus.publish(Subjects.taskResult, taskResult('dedupe'));
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
  });

  it('creates topology idempotently, bringing bucket TTLs up to date', async () => {
    await bus.jsm.streams.update(`KV_${Buckets.idempotency}`, { ...(await bus.jsm.streams.info(`KV_${Buckets.idempotency}`)).config, max_age: 0 });
    await bus.ensureTopology();
    const info = await bus.jsm.streams.info(Streams.tasks.name);
    expect(info.config.subjects).toEqual(['orch.task.>']);
    const day = 24 * 3_600_000 * 1_000_000;
    expect((await bus.jsm.streams.info(`KV_${Buckets.jobs}`)).config.max_age).toBe(7 * day);
    expect((await bus.jsm.streams.info(`KV_${Buckets.idempotency}`)).config.max_age).toBe(day);
    expect((await bus.jsm.streams.info(`KV_${Buckets.metagraph}`)).config.max_age).toBe(0);
  });

  it('compare-and-set serialises concurrent writers without losing an update', async () => {
    const kv = await bus.kv(Buckets.jobs);
    const Counter = z.object({ n: z.number() });
    await Promise.all(Array.from({ length: 10 }, () => compareAndSet(kv, 'counter', Counter, (c) => ({ n: (c?.n ?? 0) + 1 }))));
    expect(await readJson(kv, 'counter', Counter)).toEqual({ n: 10 });
    const unchanged = await compareAndSet(kv, 'counter', Counter, () => undefined);
    expect(unchanged).toEqual({ value: { n: 10 }, changed: false });
  });
});

describe('JetStreamTransport', () => {
  let server: NatsServerHandle;
  let bus: Bus;
  const seen: Array<{ jobId: string; delivery: number }> = [];
  /** Stands for a dependency that is down until the operator fixes it. */
  let dependencyDown = true;

  @Controller()
  @UseFilters(BusErrorFilter)
  class VerifierLike {
    @EventPattern('verifier')
    async handle(@Payload() message: InboundMessage): Promise<void> {
      const env = message.parse(TaskResult);
      seen.push({ jobId: env.jobId, delivery: message.deliveryCount });
      if (env.jobId === 'flaky' && message.deliveryCount < 2) throw new RetryableError('not yet');
      if (env.jobId === 'always-fails' && dependencyDown) throw new Error('boom');
      if (env.jobId === 'poison') throw new PoisonMessageError('cannot ever handle this');
      // The NATS client's own timeout, as a KV read during an outage throws it.
      if (env.jobId === 'outage' && message.deliveryCount < 9) throw new natsErrors.TimeoutError();
    }
  }
  @Module({ controllers: [VerifierLike] })
  class TestModule {}

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'transport-spec' });
  });
  afterAll(async () => {
    await bus.close();
    await server.dispose();
  });

  async function deadLetters(): Promise<Array<z.infer<typeof DeadLetter.payload>>> {
    const info = await bus.jsm.streams.info(Streams.deadLetters.name);
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await bus.jsm.streams.getMessage(Streams.deadLetters.name, { seq });
      out.push(DeadLetter.envelope.parse(msg!.json()).payload);
    }
    return out;
  }

  it('acks, retries with backoff, and dead-letters poison and exhausted messages with the reason', async () => {
    const app = await NestFactory.createMicroservice(TestModule, {
      strategy: new JetStreamTransport(bus, { consumers: [{ ...Consumers.verifier, backoffMs: [50] }] }),
      logger: false,
    });
    await app.listen();
    try {
      await bus.publish(Subjects.taskResult, taskResult('ok'));
      await bus.publish(Subjects.taskResult, taskResult('flaky'));
      await bus.publish(Subjects.taskResult, taskResult('poison'));
      await bus.publish(Subjects.taskResult, taskResult('always-fails'));
      await bus.publish(Subjects.taskResult, taskResult('outage'));
      await bus.js.publish(Subjects.taskResult, 'this is not json', { msgID: 'garbage-1' });

      await waitFor(async () => (await deadLetters()).length === 3, 20_000);
      const letters = await deadLetters();
      const reasons = Object.fromEntries(letters.map((l) => [l.excerpt.includes('"jobId"') ? JSON.parse(l.excerpt).jobId : 'garbage', l]));
      expect(reasons.poison.reason).toMatch(/cannot ever handle this/);
      expect(reasons.poison.deliveries).toBe(1);
      expect(reasons.garbage.reason).toMatch(/not JSON/);
      expect(reasons['always-fails'].reason).toMatch(/gave up after 6 deliveries: Error: boom/);
      expect(seen.filter((s) => s.jobId === 'ok')).toHaveLength(1);
      expect(seen.filter((s) => s.jobId === 'flaky').map((s) => s.delivery)).toEqual([1, 2]);
      // The bus failing does not use up deliveries: handled on the 9th, never dead-lettered.
      await waitFor(async () => seen.some((s) => s.jobId === 'outage' && s.delivery === 9), 10_000);
      await waitFor(async () => {
        const consumer = await bus.jsm.consumers.info(Streams.tasks.name, 'verifier');
        return consumer.num_ack_pending === 0 && consumer.num_pending === 0;
      }, 5_000);

      // An operator lists the dead letters, fixes the cause, and replays one: it is handled once.
      const listed = await listDeadLetters(bus, { consumer: 'verifier' });
      expect(listed.map((e) => e.jobId).sort()).toEqual(['-', 'always-fails', 'poison']);
      dependencyDown = false;
      const exhausted = listed.find((e) => e.jobId === 'always-fails')!;
      await replayDeadLetter(bus, exhausted.seq, { remove: true });
      await replayDeadLetter(bus, listed.find((e) => e.jobId === 'poison')!.seq);
      await waitFor(async () => seen.filter((s) => s.jobId === 'always-fails').length === 7, 5_000);
      // The replayed poison message is still poison: dead-lettered again.
      await waitFor(async () => (await listDeadLetters(bus)).length === 3, 5_000);
      expect((await listDeadLetters(bus)).map((e) => e.jobId).sort()).toEqual(['-', 'poison', 'poison']);
    } finally {
      await app.close();
    }
  }, 40_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
