import { taskResult as result } from './task-result.fixture';
import { Controller, INestMicroservice, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Buckets, Consumers, DeadLetterV1, Streams, Subjects, TaskResult, envelope } from '@orchestra/contracts';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { Bus } from './bus';
import { DeadLetterReplayError, listDeadLetters, readDeadLetter, replayDeadLetter } from './dead-letters';
import { InboundMessage } from './inbound';
import { BusErrorFilter, JetStreamTransport } from './transport';

/** What the verifier-like handler below saw: each delivery's body size and job. */
const seen: Array<{ bytes: number; jobId?: string }> = [];
let release: () => void = () => undefined;

@Controller()
@UseFilters(BusErrorFilter)
class HostileVerifier {
  constructor(private readonly bus: Bus) {}

  @EventPattern('verifier')
  async handle(@Payload() message: InboundMessage): Promise<void> {
    seen.push({ bytes: message.text().length, jobId: message.peekJobId() });
    const { jobId } = message.parse(TaskResult);
    if (jobId === 'hang') await new Promise<void>((resolve) => (release = resolve));
    // A handler whose write can never fit: the server would refuse it on every retry.
    if (jobId === 'writes-too-much') await this.bus.publish(Subjects.stepVerified, { ...result('x'), payload: { raw: 'x'.repeat(1_100_000) } });
    // The same past the bus's checks: the NATS client refuses it itself.
    if (jobId === 'raw-put-too-large') await (await this.bus.kv(Buckets.jobs)).put('raw', 'x'.repeat(1_100_000));
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('JetStreamTransport under hostile input', () => {
  let server: NatsServerHandle;
  let bus: Bus;
  let transport: JetStreamTransport;
  let app: INestMicroservice;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'hostile-spec' });
    @Module({ controllers: [HostileVerifier], providers: [{ provide: Bus, useValue: bus }] })
    class TestModule {}
    transport = new JetStreamTransport(bus, { concurrency: 1, stuckHandlerMs: 1_000, consumers: [{ ...Consumers.verifier, backoffMs: [50] }] });
    app = await NestFactory.createMicroservice(TestModule, { strategy: transport, logger: false });
    await app.listen();
  });
  afterAll(async () => {
    await app?.close();
    await bus.close();
    await server.dispose();
  });

  it('dead-letters a ~900 KB poison message with an excerpt, its stream and sequence; replay redelivers the original from the stream', async () => {
    const poison = JSON.stringify({ type: 'task.result', jobId: 'huge', junk: 'x'.repeat(900_000) });
    const ack = await bus.js.publish(Subjects.taskResult, poison, { msgID: 'poison-900k' });
    await waitFor(async () => (await listDeadLetters(bus, { consumer: 'verifier' })).length === 1, 10_000, 'dead letter');
    const [entry] = await listDeadLetters(bus, { consumer: 'verifier' });
    expect(entry).toMatchObject({ version: 2, jobId: 'huge' });
    expect(entry.letter).toMatchObject({ subject: Subjects.taskResult, stream: Streams.tasks.name, streamSequence: ack.seq, deliveries: 1, bytes: poison.length });
    const letter = entry.letter as { excerpt: string; reason: string };
    expect(letter.reason).toMatch(/not a valid task.result v1 envelope/);
    expect(letter.excerpt.startsWith(poison.slice(0, 2_048))).toBe(true);
    expect(letter.excerpt.length).toBeLessThan(2_200);

    // Replay reads the original from ORCH_TASKS: the handler gets all 900 KB again (and, still poison, it is dead-lettered again).
    await replayDeadLetter(bus, entry.seq);
    await waitFor(() => seen.filter((s) => s.jobId === 'huge').length === 2, 10_000, 'replayed delivery');
    expect(seen.filter((s) => s.jobId === 'huge').map((s) => s.bytes)).toEqual([poison.length, poison.length]);
    await waitFor(async () => (await listDeadLetters(bus, { consumer: 'verifier' })).length === 2, 10_000, 'second dead letter');

    // Once the original is gone from its stream, replay says so instead of sending nothing.
    await bus.jsm.streams.deleteMessage(Streams.tasks.name, ack.seq);
    const gone = await replayDeadLetter(bus, entry.seq).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(DeadLetterReplayError);
    expect((gone as Error).message).toMatch(new RegExp(`message #${ack.seq} of stream ORCH_TASKS, is no longer there \\(aged out .* or deleted\\)`));
  });

  it('dead-letters at once a message whose handler writes something too large to ever send', async () => {
    await bus.publish(Subjects.taskResult, result('writes-too-much'));
    await waitFor(async () => (await listDeadLetters(bus)).some((e) => e.jobId === 'writes-too-much'), 10_000, 'dead letter');
    const entry = (await listDeadLetters(bus)).find((e) => e.jobId === 'writes-too-much');
    expect(entry?.letter).toMatchObject({ deliveries: 1, reason: expect.stringMatching(/PayloadTooLargeError: subject orch\.job\.step\.verified .* exceed the limit/) });
    await bus.publish(Subjects.taskResult, result('raw-put-too-large'));
    await waitFor(async () => (await listDeadLetters(bus)).some((e) => e.jobId === 'raw-put-too-large'), 10_000, 'dead letter');
    const raw = (await listDeadLetters(bus)).find((e) => e.jobId === 'raw-put-too-large');
    expect(raw?.letter).toMatchObject({ deliveries: 1, reason: expect.stringMatching(/max_payload/) });
    const consumer = await bus.jsm.consumers.info(Streams.tasks.name, 'verifier');
    expect(consumer.num_ack_pending).toBe(0);
  });

  it('still reads and replays version 1 letters (whole body inline)', async () => {
    const body = JSON.stringify(result('old-letter'));
    const v1 = envelope(
      DeadLetterV1,
      'old-letter',
      { consumer: 'verifier', subject: Subjects.taskResult, streamSequence: 1, deliveries: 6, reason: 'gave up', body, truncated: false },
      ['v1'],
    );
    const { seq } = await bus.js.publish(Subjects.deadLetter('verifier'), JSON.stringify(v1));
    expect(await readDeadLetter(bus, seq)).toMatchObject({ version: 1, jobId: 'old-letter', letter: { body } });
    await replayDeadLetter(bus, seq);
    await waitFor(() => seen.some((s) => s.jobId === 'old-letter'), 10_000, 'replayed v1 letter');
  });

  it('reports every handler slot stuck as not ready, and a stopped consumer as not live', async () => {
    expect(transport.health()).toMatchObject({ live: true, ready: true });
    await bus.publish(Subjects.taskResult, result('hang'));
    await waitFor(() => seen.some((s) => s.jobId === 'hang'), 10_000, 'hanging handler');
    await waitFor(() => !transport.health().ready, 5_000, 'stuck report');
    expect(transport.health()).toMatchObject({
      live: true,
      ready: false,
      checks: {
        'consumer verifier': expect.stringMatching(/^stuck: all 1 handler slots busy for over 1000 ms \(ORCH_STUCK_HANDLER_MS\); oldest orch\.task\.result #\d+ for \d+ ms$/),
      },
    });
    release();
    await waitFor(() => transport.health().ready, 5_000, 'ready again');

    // The connection closes for good: the pump stops, and only a restart helps.
    await bus.nc.close();
    await waitFor(() => !transport.health().live, 15_000, 'not live');
    expect(transport.health().checks['consumer verifier']).toMatch(/^stopped: BusConnectionError: verifier: consuming from ORCH_TASKS stopped: the connection closed/);
  }, 30_000);
});
