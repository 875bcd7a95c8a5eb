import { AckPolicy, DeliverPolicy, JsMsg, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { performance } from 'node:perf_hooks';
import { startNatsServer } from '@orchestra/testing';
import { BenchSize, Latency, Row, closedLoop, latency, round } from './stats';

/** Chains per measurement: latency alone (1 in flight), then throughput (16 in flight). */
const SIZES = { small: { serial: 200, parallel: 2_000 }, full: { serial: 1_000, parallel: 10_000 } } as const;
const IN_FLIGHT = 16;
const HOPS = 3;

/** The floor: what the bus alone costs for the message path of one Orchestra step. */
export interface Floor {
  /** One chain at a time: latency of a chain, ms. */
  readonly serial: Latency;
  /** 16 chains in flight. */
  readonly parallel: Latency;
  readonly chainsPerSecond: number;
}

/**
 * The fixed reference: a minimal script with the same @nats-io client and the same
 * nats-server (file storage), doing what one Orchestra step needs of the bus and nothing
 * else. A chain is 3 hops — publish to a stream, a durable pull consumer receives it, acks
 * it, publishes the next — and at the last hop one KV compare-and-set (a read, then a write
 * conditional on the revision read), as planner → dispatcher → verifier → planner, which
 * then updates the job record. No validation, no envelopes, no logging.
 */
export async function measureFloor(counts: { serial: number; parallel: number }): Promise<Floor> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, name: 'bench-floor' });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'FLOOR', subjects: ['floor.>'], storage: StorageType.File, duplicate_window: 60_000_000_000 });
    const kv = await new Kvm(nc).create('floor', { history: 1, storage: StorageType.File });
    const done = new Map<string, () => void>();
    const stops: Array<() => void> = [];

    for (let hop = 1; hop <= HOPS; hop++) {
      await jsm.consumers.add('FLOOR', { durable_name: `hop${hop}`, filter_subject: `floor.hop.${hop}`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
      const messages = await (await js.consumers.get('FLOOR', `hop${hop}`)).consume({ max_messages: 64 });
      stops.push(() => void messages.stop());
      const handle = async (msg: JsMsg): Promise<void> => {
        const id = msg.string();
        if (hop < HOPS) {
          await js.publish(`floor.hop.${hop + 1}`, id, { msgID: `${id}:${hop + 1}` });
        } else {
          const entry = await kv.get(id);
          await kv.update(id, `done ${id}`, entry?.revision ?? 0);
        }
        msg.ack();
        if (hop === HOPS) done.get(id)?.();
      };
      // Handlers run concurrently, as the services' transport runs up to 16 at a time.
      void (async () => {
        for await (const msg of messages) void handle(msg);
      })();
    }

    let next = 0;
    const chain = async (): Promise<void> => {
      const id = `c${next++}`;
      await kv.create(id, 'started');
      const finished = new Promise<void>((resolve) => done.set(id, resolve));
      const t0 = performance.now();
      await js.publish('floor.hop.1', id, { msgID: `${id}:1` });
      await finished;
      done.delete(id);
      latencies.push(performance.now() - t0);
    };
    let latencies: number[] = [];
    await closedLoop(20, 1, chain); // warm-up: connections, consumers, JIT
    latencies = [];
    await closedLoop(counts.serial, 1, chain);
    const serial = latency(latencies);
    latencies = [];
    const { wallMs } = await closedLoop(counts.parallel, IN_FLIGHT, chain);
    const parallel = latency(latencies);
    for (const stop of stops) stop();
    return { serial, parallel, chainsPerSecond: (counts.parallel / wallMs) * 1_000 };
  } finally {
    await nc.close();
    await server.dispose();
  }
}

/**
 * What one step of a 3-step job costs Orchestra on the bus, counted from the code (a step
 * that is verified at its first attempt). The orchestra case measures the writes per step
 * from the streams' sequence numbers, which checks this table.
 */
export const ORCHESTRA_STEP_MESSAGING: readonly Row[] = [
  { who: 'planner', 'stream publishes': 'task.ready (hop 1), event step.dispatched', 'KV reads': '—', 'KV writes': '—' },
  {
    who: 'dispatcher',
    'stream publishes': 'event step.hired, event step.answered, task.result (hop 2)',
    'KV reads': 'job (leader), metagraph; reputation (cached 2 s)',
    'KV writes': 'reputation (batched: ≤ 1 CAS per key per 250 ms)',
  },
  { who: 'verifier', 'stream publishes': 'step.verified (hop 3), event step.verified', 'KV reads': '—', 'KV writes': 'reputation (batched)' },
  {
    who: 'planner',
    'stream publishes': "(the next step's task.ready and events; job.succeeded at the end)",
    'KV reads': 'job (leader, for the CAS)',
    'KV writes': 'job record CAS',
  },
  { who: 'per step', 'stream publishes': '3 hops + 4 events = 7 acknowledged publishes (floor: 3)', 'KV reads': '3 (floor: 1)', 'KV writes': '1 CAS + ≤ 2 batched (floor: 1)' },
];

/** The floor case: the reference chain's latency and rate, and what an Orchestra step takes in its place. */
export const floorBench = {
  name: 'floor',
  async run(size: BenchSize, measure: { floor(size: BenchSize): Promise<Floor> }): Promise<Record<string, Row[]>> {
    const floor = await measure.floor(size);
    return {
      'reference chain: 3 JetStream hops + 1 KV compare-and-set (file storage)': [
        {
          mode: '1 in flight',
          chains: floor.serial.n,
          'p50 ms': round(floor.serial.p50, 2),
          'p99 ms': round(floor.serial.p99, 2),
          'chains/s': round(1_000 / floor.serial.mean, 0),
        },
        {
          mode: `${IN_FLIGHT} in flight`,
          chains: floor.parallel.n,
          'p50 ms': round(floor.parallel.p50, 2),
          'p99 ms': round(floor.parallel.p99, 2),
          'chains/s': round(floor.chainsPerSecond, 0),
        },
      ],
      'one Orchestra step on the bus (counted from the code)': [...ORCHESTRA_STEP_MESSAGING],
    };
  },
};

export const FLOOR_SIZES = SIZES;
