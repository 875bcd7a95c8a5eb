import { DynamicModule, INestApplicationContext, Module, Provider, Type } from '@nestjs/common';
import { JsonLogger, ReadinessReport, runService } from '@orchestra/service';
import { Bus } from './bus';
import { busOptions, type WorkerConfig } from './config';
import { REPUTATION_SETTINGS } from './reputation-ledger';
import { BusModule } from './bus.module';
import { JetStreamTransport } from './transport';

/** A bus-driven service: its controllers consume durable consumers, its providers publish. */
export interface BusWorkerOptions {
  readonly name: string;
  /** The service's settings, read once by its config module ({@link workerSections}). */
  readonly config: WorkerConfig;
  /** Default ops port (/healthz, /readyz, /metrics); `OPS_PORT` (`config.service.opsPort`) replaces it. */
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
 * (`config.natsUrl`), makes sure the topology exists, and runs the service on the
 * JetStream transport with readiness tied to the connection. The services' providers get
 * the reputation settings ({@link REPUTATION_SETTINGS}). A failure to connect is logged
 * as JSON and exits 1, so a supervisor restarts it.
 */
export async function runBusWorker(options: BusWorkerOptions): Promise<void> {
  const { config } = options;
  let bus: Bus;
  try {
    bus = await Bus.connect(busOptions(config, options.name));
  } catch (error) {
    new JsonLogger({ service: options.name, level: config.service.logLevel }).fatal({ msg: 'cannot start', err: error });
    process.exit(1);
  }
  const module: DynamicModule = {
    module: BusWorkerModule,
    imports: [BusModule.forRoot(bus)],
    controllers: options.controllers ?? [],
    providers: [{ provide: REPUTATION_SETTINGS, useValue: config.reputation }, ...(options.providers ?? [])],
  };
  const transport = new JetStreamTransport(bus, { concurrency: options.concurrency, stuckHandlerMs: config.stuckHandlerMs });
  await runService({
    name: options.name,
    module,
    app: { kind: 'microservice', strategy: transport },
    opsPort: options.opsPort,
    settings: config.service,
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
