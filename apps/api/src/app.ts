import { DynamicModule, INestApplication, Logger, LoggerService, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Bus, BusModule } from '@orchestra/bus';
import { HandlerSpanInterceptor, nameActiveHttpSpan } from '@orchestra/service';
import type { FastifyInstance } from 'fastify';
import { ApprovalController } from './approval.controller';
import { AuditLog } from './audit';
import { AuthGuard, authenticateBeforeBody } from './auth.guard';
import { JSON_MEDIA_TYPE, parseJsonBody } from './body';
import { HealthController } from './health.controller';
import { JobEventsStreamer } from './job-events';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { NatsSubmissionResponder } from './nats-submission';
import { KeyStore } from './keys';
import { recordRequest } from './metrics';
import { ProblemFilter, clientErrorHandler, frameworkErrorHandler, sendProblem } from './problem.filter';
import { OpenApiController } from './openapi/openapi.controller';
import { RouteTable } from './routes';
import { QuotasService } from './quotas.service';
import { SchemasController } from './schemas.controller';
import { SubnetsController } from './subnets.controller';
import { SubnetsService } from './subnets';
import { API_SETTINGS, ApiSettings, apiSettings, timeoutCheckIntervalMs } from './settings';
import { KeysController, TenantsController, UsageController } from './tenants.controller';
import { TenantStore } from './tenants';

/** The API's root module, over an already connected bus (which it drains on shutdown). */
@Module({})
export class ApiModule {
  static forRoot(bus: Bus, settings: ApiSettings): DynamicModule {
    return {
      module: ApiModule,
      imports: [BusModule.forRoot(bus)],
      controllers: [
        JobsController,
        ApprovalController,
        KeysController,
        TenantsController,
        UsageController,
        SchemasController,
        HealthController,
        OpenApiController,
        SubnetsController,
      ],
      providers: [
        JobsService,
        JobEventsStreamer,
        KeyStore,
        TenantStore,
        QuotasService,
        AuditLog,
        NatsSubmissionResponder,
        SubnetsService,
        // One guard for every route: each declares the scope it needs (RequireScope) or that it is Public.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: API_SETTINGS, useValue: settings },
        // Filled by configureApi as Fastify registers the routes: 405s and the OpenAPI document read it.
        { provide: RouteTable, useValue: new RouteTable() },
      ],
    };
  }
}

/**
 * The Fastify adapter the API runs on, with the HTTP server's limits: a transport body
 * limit above the body limit (so an oversized body can still be parsed and its largest
 * field named), header size, timeouts for slow clients, and problem+json for the errors
 * Fastify and Node answer themselves.
 */
export function apiAdapter(settings: ApiSettings): FastifyAdapter {
  const { http } = settings;
  return new FastifyAdapter({
    bodyLimit: http.maxReadBytes,
    connectionTimeout: http.idleTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      maxHeaderSize: http.maxHeaderBytes,
      connectionsCheckingInterval: timeoutCheckIntervalMs(http),
    },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
}

/**
 * Configures a created (not yet listening) API application: the JSON body parser (the
 * only one: other media types are refused with 415), problem+json for every error, and
 * request metrics by route template.
 */
export function configureApi(app: INestApplication, settings: ApiSettings): void {
  const adapter = app.getHttpAdapter() as FastifyAdapter;
  const fastify = adapter.getInstance() as FastifyInstance;
  // Fastify's own JSON and text parsers would answer first; registering through the
  // adapter also keeps Nest from adding its JSON and form parsers.
  fastify.removeAllContentTypeParsers();
  adapter.useBodyParser(JSON_MEDIA_TYPE, false, { bodyLimit: settings.http.maxReadBytes }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body, settings.limits));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  fastify.addHook('preParsing', authenticateBeforeBody(app.get(KeyStore), sendProblem));
  // Nest registers the controllers' routes when the app initialises, after this.
  const routes = app.get(RouteTable);
  fastify.addHook('onRoute', (route) => routes.add(route.method, route.url));
  app.useGlobalFilters(new ProblemFilter(settings.limits, routes));
  app.useGlobalInterceptors(new HandlerSpanInterceptor());
  // The HTTP server span (Node's http instrumentation) is named by Fastify's route template.
  fastify.addHook('onRequest', async (request) => {
    nameActiveHttpSpan(request.method, request.routeOptions.url ?? 'unmatched');
  });
  const access = new Logger('http');
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // The access log names the route template, never the URL's query or the headers (they may hold keys).
    access.log({ msg: 'http request', method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
}

/** Options of {@link createApiApp}. */
export interface CreateApiAppOptions {
  readonly bus: Bus;
  /** Limits and timeouts; defaults to `apiSettings()` (every default, fitted to the server's max_payload). */
  readonly settings?: ApiSettings;
  /** Nest logger; defaults to Nest's console logger. Pass `false` to silence it. */
  readonly logger?: LoggerService | false;
}

/**
 * Builds the configured API application without listening or installing signal
 * handlers, for tests and embedding: call `listen(0, '127.0.0.1')` or `init()` + `inject`.
 */
export async function createApiApp(options: CreateApiAppOptions): Promise<NestFastifyApplication> {
  const settings = options.settings ?? apiSettings({}, options.bus.nc.info?.max_payload);
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(options.bus, settings), apiAdapter(settings), {
    abortOnError: false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  configureApi(app, settings);
  return app;
}
