import type { DynamicModule, INestApplication, INestApplicationContext, Type } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { NestFactory, type AbstractHttpAdapter, type NestApplicationContext } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import type { ServiceSettings } from './config';
import { ServiceConfigError, ServiceStartError } from './errors';
import { JsonLogger } from './logger';
import { initMetrics } from './metrics';
import { startOpsServer, type LivenessReport, type OpsServer, type ReadinessReport } from './ops-server';
import { initTracing } from './tracing';

/**
 * Which kind of Nest application {@link runService} builds:
 * - `context` (default): `NestFactory.createApplicationContext`, for workers whose
 *   providers start consuming in `onModuleInit`/`onApplicationBootstrap`;
 * - `microservice`: `NestFactory.createMicroservice(module, { strategy })` + `listen()`;
 * - `http`: `NestFactory.create(module, adapter)` + `listen(port, host)`, e.g. with
 *   `new FastifyAdapter()` (passed in so workers never load an HTTP framework).
 */
export type ServiceAppKind =
  | { kind: 'context' }
  | { kind: 'microservice'; strategy: CustomTransportStrategy }
  | {
      kind: 'http';
      adapter: AbstractHttpAdapter;
      port: number;
      /** Defaults to all interfaces. */
      host?: string;
      /** Runs before `listen`: global pipes, CORS, versioning, Swagger... */
      configure?: (app: INestApplication) => void | Promise<void>;
    };

/** Options for {@link runService}. */
export interface RunServiceOptions {
  /** Service name: `service` field of logs and metrics, OpenTelemetry `service.name`. */
  name: string;
  /** Root Nest module. */
  module: Type<unknown> | DynamicModule;
  /** Application kind; defaults to `{ kind: 'context' }`. */
  app?: ServiceAppKind;
  /** Default port of the ops server (/healthz, /readyz, /metrics); `settings.opsPort` replaces it. 0 = any free port. */
  opsPort: number;
  /** Default interface of the ops server; `settings.opsHost` replaces it. Defaults to all interfaces. */
  opsHost?: string;
  /** What the operator set (`OPS_PORT`, `OPS_HOST`, `SHUTDOWN_GRACE_MS`, `LOG_LEVEL`: config.ts {@link serviceSettings}). */
  settings?: ServiceSettings;
  /**
   * Service-specific readiness, asked on every /readyz once the app has started (before
   * that, and once shutdown begins, the service is reported not ready without asking).
   */
  readiness?: (app: INestApplicationContext) => ReadinessReport | Promise<ReadinessReport>;
  /**
   * Service-specific liveness, asked on every /healthz once the app has started: report
   * `live: false` only for what a restart cures (a consumer that stopped for good).
   */
  liveness?: (app: INestApplicationContext) => LivenessReport | Promise<LivenessReport>;
  /** Upper bound on shutdown before exiting 1; `settings.shutdownGraceMs` replaces it. Default 20 000. */
  shutdownGraceMs?: number;
}

/** Handle returned by {@link runService} once the service has started. */
export interface RunningService {
  app: INestApplicationContext;
  logger: JsonLogger;
  /** Bound port of the ops server. */
  opsPort: number;
  /**
   * Starts the same graceful shutdown a SIGTERM would (idempotent) and exits the process
   * when done, e.g. when the service hits an unrecoverable condition of its own.
   */
  shutdown(reason: string): Promise<void>;
}

const DEFAULT_GRACE_MS = 20_000;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

let started = false;

/**
 * The one entry point of a service's `main.ts`. In order: installs crash handlers (an
 * unhandled rejection or uncaught exception is logged as JSON and exits 1, so the
 * supervisor restarts a clean process), initialises tracing and metrics, starts the ops
 * server, then creates and starts the Nest application with {@link JsonLogger}.
 *
 * On the first SIGTERM/SIGINT (later ones are ignored): /readyz turns 503, `app.close()`
 * runs Nest's onModuleDestroy / beforeApplicationShutdown / onApplicationShutdown hooks
 * (where consumers drain), spans are flushed, and the process exits 0 — or exits 1 if
 * that takes longer than the grace period or fails. A startup failure also exits 1.
 * Rejects only when called a second time in the same process.
 */
export async function runService(options: RunServiceOptions): Promise<RunningService> {
  // Two runs would register signal handlers twice and double-close; this is a caller bug.
  if (started) throw new ServiceConfigError('runService may be called once per process');
  started = true;

  const settings = options.settings ?? {};
  const logger = new JsonLogger({ service: options.name, level: settings.logLevel });
  installCrashHandlers(logger);

  const opsPort = settings.opsPort ?? options.opsPort;
  const opsHost = settings.opsHost ?? options.opsHost ?? '0.0.0.0';
  const graceMs = settings.shutdownGraceMs ?? options.shutdownGraceMs ?? DEFAULT_GRACE_MS;

  const shutdownTracing = initTracing(options.name);
  initMetrics();

  let app: INestApplicationContext | undefined;
  let ops: OpsServer;
  try {
    ops = await startOpsServer({
      port: opsPort,
      host: opsHost,
      readiness: () => (app ? (options.readiness?.(app) ?? { ready: true }) : { ready: false, checks: { app: 'starting' } }),
      liveness: () => (app ? (options.liveness?.(app) ?? { live: true }) : { live: true }),
    });
  } catch (error) {
    const cause = new ServiceStartError(`ops server could not listen on ${opsHost}:${opsPort}`, { cause: error });
    return fail(logger, 'service failed to start', cause);
  }

  const startup = createApp(options, logger);
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => (stopping ??= stop(reason));

  async function stop(reason: string): Promise<void> {
    const stopAt = performance.now();
    ops.markShuttingDown();
    logger.log({ msg: 'service stopping', reason, graceMs });
    // Deliberately not unref'd: if a hook awaits something that keeps nothing else alive,
    // this timer is what keeps the process up long enough to report and exit 1.
    setTimeout(() => {
      logger.error({ msg: 'shutdown grace period exceeded, exiting', graceMs });
      process.exit(1);
    }, graceMs);
    try {
      // A signal during startup waits for the app to exist, then closes it normally.
      const startedApp = await startup;
      // The public interface hides close()'s argument, which the implementation passes to
      // beforeApplicationShutdown/onApplicationShutdown hooks, so they see the signal.
      await (startedApp as NestApplicationContext).close(reason);
      await shutdownTracing();
      await ops.close();
    } catch (error) {
      logger.error({ msg: 'shutdown failed', err: error });
      process.exit(1);
    }
    const now = performance.now();
    logger.log({ msg: 'service stopped', shutdownMs: Math.round(now - stopAt), uptimeMs: Math.round(now) });
    process.exit(0);
  }

  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (stopping) logger.warn({ msg: 'shutdown already in progress, signal ignored', signal });
      else void shutdown(signal);
    });
  }

  try {
    app = await startup;
  } catch (error) {
    await ops.close().catch(() => undefined);
    await shutdownTracing().catch(() => undefined);
    return fail(logger, 'service failed to start', error);
  }

  logger.log({
    msg: 'service started',
    // performance.now() counts from process start, so this includes module loading.
    startupMs: Math.round(performance.now()),
    opsPort: ops.port,
    ...(options.app?.kind === 'http' ? { httpUrl: await (app as INestApplication).getUrl() } : {}),
  });
  return { app, logger, opsPort: ops.port, shutdown };
}

async function createApp(options: RunServiceOptions, logger: JsonLogger): Promise<INestApplicationContext> {
  // abortOnError: false makes Nest reject instead of calling process.abort() (a core
  // dump and exit 134) when a provider fails to initialise; we log and exit 1 ourselves.
  const nestOptions = { logger, abortOnError: false };
  const kind = options.app ?? { kind: 'context' };
  try {
    switch (kind.kind) {
      case 'context':
        return await NestFactory.createApplicationContext(options.module, nestOptions);
      case 'microservice': {
        const app = await NestFactory.createMicroservice(options.module, { ...nestOptions, strategy: kind.strategy });
        await app.listen();
        return app;
      }
      case 'http': {
        const app = await NestFactory.create(options.module, kind.adapter, nestOptions);
        await kind.configure?.(app);
        await app.listen(kind.port, kind.host ?? '0.0.0.0');
        return app;
      }
    }
  } catch (error) {
    throw new ServiceStartError(`nest ${kind.kind} application failed to start`, { cause: error });
  }
}

function installCrashHandlers(logger: JsonLogger): void {
  process.on('uncaughtException', (error, origin) => {
    logger.fatal({ msg: 'uncaught exception, exiting', err: error, origin });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ msg: 'unhandled rejection, exiting', err: reason });
    process.exit(1);
  });
}

function fail(logger: JsonLogger, msg: string, error: unknown): never {
  logger.fatal({ msg, err: error });
  process.exit(1);
}
