import { DynamicModule, INestApplicationContext, Module, Provider, Type } from '@nestjs/common';
import { JsonLogger, ReadinessReport, runService } from '@orchestra/service';
import { Bus } from './bus';
import { BusModule } from './bus.module';
import { BusConfigError } from './errors';
import { DEFAULT_STUCK_HANDLER_MS, JetStreamTransport } from './transport';

/** A bus-driven service: its controllers consume durable consumers, its providers publish. */
export interface BusWorkerOptions {
  readonly name: string;
  /** Default ops port (/healthz, /readyz, /metrics); `OPS_PORT` overrides it. */
  readonly opsPort: number;
  readonly controllers?: Type<unknown>[];
  readonly providers?: Provider[];
  /** Handlers running at once per consumer. */
  readonly concurrency?: number;
  /** Readiness beyond the NATS connection (e.g. "first chain sync done"). */
  readonly readiness?: (app: INestApplicationContext) => ReadinessReport | Promise<ReadinessReport>;
}

@Module({})
class BusWorkerModule {}

/**
 * The `main` of planner, dispatcher, verifier and metagraph-sync: connects to NATS
 * (`ORCH_NATS_URL`, default nats://127.0.0.1:4222), makes sure the topology exists,
 * and runs the service on the JetStream transport with readiness tied to the connection.
 * A failure to connect is logged as JSON and exits 1, so a supervisor restarts it.
 */
export async function runBusWorker(options: BusWorkerOptions): Promise<void> {
  let bus: Bus;
  try {
    bus = await Bus.connect({ servers: process.env.ORCH_NATS_URL ?? 'nats://127.0.0.1:4222', name: options.name });
  } catch (error) {
    new JsonLogger({ service: options.name }).fatal({ msg: 'cannot start', err: error });
    process.exit(1);
  }
  const module: DynamicModule = {
    module: BusWorkerModule,
    imports: [BusModule.forRoot(bus)],
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  };
  let stuckHandlerMs: number;
  try {
    stuckHandlerMs = stuckHandlerMsFromEnv();
  } catch (error) {
    new JsonLogger({ service: options.name }).fatal({ msg: 'cannot start', err: error });
    process.exit(1);
  }
  const transport = new JetStreamTransport(bus, { concurrency: options.concurrency, stuckHandlerMs });
  await runService({
    name: options.name,
    module,
    app: { kind: 'microservice', strategy: transport },
    opsPort: options.opsPort,
    readiness: async (app) => {
      const own = (await options.readiness?.(app)) ?? { ready: true };
      const nats = bus.isConnected();
      const consumers = transport.health();
      return { ready: nats && consumers.ready && own.ready, checks: { nats: nats ? 'up' : 'down', ...consumers.checks, ...own.checks } };
    },
    liveness: () => {
      const connection = bus.connectionHealth();
      const consumers = transport.health();
      return { live: connection.live && consumers.live, checks: { nats: connection.detail, ...consumers.checks } };
    },
  });
}

/** `ORCH_STUCK_HANDLER_MS`: how long every handler slot of a consumer may be busy before /readyz reports it stuck. */
export function stuckHandlerMsFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env.ORCH_STUCK_HANDLER_MS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_STUCK_HANDLER_MS;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1_000) throw new BusConfigError(`ORCH_STUCK_HANDLER_MS must be an integer number of milliseconds, at least 1000; got ${JSON.stringify(raw)}`);
  return value;
}
