import { DynamicModule, INestApplication, LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Bus, BusModule } from '@orchestra/bus';
import type { FastifyInstance } from 'fastify';
import { HealthController } from './health.controller';
import { JobEventsStreamer } from './job-events';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { recordRequest } from './metrics';
import { ProblemFilter } from './problem.filter';
import { SchemasController } from './schemas.controller';

/** Largest request body accepted (413 beyond). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The API's root module, over an already connected bus (which it drains on shutdown). */
@Module({})
export class ApiModule {
  static forRoot(bus: Bus): DynamicModule {
    return {
      module: ApiModule,
      imports: [BusModule.forRoot(bus)],
      controllers: [JobsController, SchemasController, HealthController],
      providers: [JobsService, JobEventsStreamer],
    };
  }
}

/** The Fastify adapter the API runs on. */
export function apiAdapter(): FastifyAdapter {
  return new FastifyAdapter({ bodyLimit: MAX_BODY_BYTES });
}

/**
 * Configures a created (not yet listening) API application: problem+json for every
 * error, and request metrics by route template.
 */
export function configureApi(app: INestApplication): void {
  app.useGlobalFilters(new ProblemFilter());
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('onResponse', async (request, reply) => {
    recordRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** Options of {@link createApiApp}. */
export interface CreateApiAppOptions {
  readonly bus: Bus;
  /** Nest logger; defaults to Nest's console logger. Pass `false` to silence it. */
  readonly logger?: LoggerService | false;
}

/**
 * Builds the configured API application without listening or installing signal
 * handlers, for tests and embedding: call `listen(0, '127.0.0.1')` or `init()` + `inject`.
 */
export async function createApiApp(options: CreateApiAppOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(options.bus), apiAdapter(), {
    abortOnError: false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  configureApi(app);
  return app;
}
