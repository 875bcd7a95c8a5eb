import { context, createContextKey, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type AttributeValue, type Context, type Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes, serviceInstanceIdDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ServiceConfigError } from './errors';
import { redactText } from './redact';

/** Flushes pending spans and stops the tracer provider. */
export type TracingShutdown = () => Promise<void>;

/** Name of the tracer all runtime helpers create spans with. */
const TRACER_NAME = '@orchestra/service';

/** The attribute every span of a job carries, so a backend finds the job's trace by its id. */
export const JOB_ID_ATTRIBUTE = 'orchestra.job_id';

/** Context slot holding the job a piece of work belongs to (see {@link withJobId}). */
const JOB_ID_KEY = createContextKey('orchestra.job_id');

let activeShutdown: TracingShutdown | undefined;

/**
 * Stamps `orchestra.job_id` on every span started in a context that carries a job id,
 * including spans of instrumentations (HTTP client calls to miners) that know nothing
 * about jobs.
 */
class JobIdSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const jobId = parentContext.getValue(JOB_ID_KEY);
    if (typeof jobId === 'string') span.setAttribute(JOB_ID_ATTRIBUTE, jobId);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The exporters the standard `OTEL_*` variables ask for. `OTEL_TRACES_EXPORTER` lists
 * them (`otlp`, `console`, `none`); unset, spans are exported over OTLP only when an
 * endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`) is
 * set, so a laptop without a collector does not log export failures forever. OTLP goes
 * over HTTP as protobuf (default) or JSON per `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
 * `OTEL_EXPORTER_OTLP_PROTOCOL`; the exporters read the endpoint, headers, timeout and
 * compression variables themselves.
 */
export function traceExportersFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter[] {
  const listed = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const names = listed.length > 0 ? listed : endpoint ? ['otlp'] : [];
  if (names.includes('none')) return [];
  return names.map((name) => {
    if (name === 'console') return new ConsoleSpanExporter();
    if (name !== 'otlp') {
      throw new ServiceConfigError(`OTEL_TRACES_EXPORTER: unsupported exporter ${JSON.stringify(name)}; use otlp, console or none`);
    }
    const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
    // Loaded only when asked for: the exporters and their protobuf encoder are a few MB of
    // every service's memory that a deployment without a collector never uses.
    if (protocol === 'http/protobuf') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter();
    }
    if (protocol === 'http/json') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter();
    }
    throw new ServiceConfigError(
      `OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol ${JSON.stringify(protocol)}; use http/protobuf or http/json (point it at the collector's OTLP/HTTP port, 4318)`,
    );
  });
}

/**
 * Whether the standard variables ask for more than traces with W3C propagation: SDK metrics
 * or logs over OTLP (`OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`), other propagators
 * (`OTEL_PROPAGATORS`: b3, jaeger…) or chosen resource detectors
 * (`OTEL_NODE_RESOURCE_DETECTORS`). Only then is `@opentelemetry/sdk-node` loaded: it
 * requires every exporter of every signal and protocol (gRPC included) at import, about
 * 35 MB of each service's resident memory that tracing alone does not need.
 */
export function needsFullOtelSdk(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  return set('OTEL_METRICS_EXPORTER') || set('OTEL_LOGS_EXPORTER') || set('OTEL_PROPAGATORS') || set('OTEL_NODE_RESOURCE_DETECTORS');
}

/**
 * Starts OpenTelemetry for this process, honouring the standard variables:
 * `OTEL_SERVICE_NAME` (else `serviceName`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SDK_DISABLED`,
 * `OTEL_PROPAGATORS` (default W3C trace-context + baggage), the sampler, span limits,
 * `OTEL_BSP_*` batching and the exporters of {@link traceExportersFromEnv}. Spans always get
 * real ids, exported or not, so `traceparent` propagates across services and logs carry
 * trace ids.
 *
 * Tracing alone runs on the trace SDK (`NodeTracerProvider`, which reads the sampler and span
 * limits from the environment itself) with the resource the Node SDK would detect;
 * `@opentelemetry/sdk-node` is loaded only when {@link needsFullOtelSdk} says the variables
 * ask for more.
 *
 * Instruments Node's `http` server side (the API's server spans). That
 * only works if `http` is loaded after this runs: services call it from
 * `@orchestra/service/register`, the first import of their `main.ts`.
 *
 * Idempotent: a second call returns the first call's shutdown, since OpenTelemetry's
 * globals can be registered only once per process.
 */
export function initTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env, extraProcessors: SpanProcessor[] = []): TracingShutdown {
  if (activeShutdown) return activeShutdown;
  const spanProcessors: SpanProcessor[] = [
    new JobIdSpanProcessor(),
    // Tests read finished spans through these (an in-memory exporter).
    ...extraProcessors,
    ...traceExportersFromEnv(env).map((exporter) => (exporter instanceof ConsoleSpanExporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter))),
  ];
  const instrumentations = [
    new HttpInstrumentation({
      // Probes and scrapes every few seconds would bury the jobs' traces.
      ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)(\?|$)/.test(request.url ?? ''),
      // Outgoing calls go to strangers (miners, gateways): injecting traceparent and
      // baggage would hand them our trace ids. Each call has our own CLIENT span instead.
      disableOutgoingRequestInstrumentation: true,
    }),
  ];
  activeShutdown = needsFullOtelSdk(env)
    ? startNodeSdk(serviceName, env, spanProcessors, instrumentations)
    : startTracerProvider(serviceName, env, spanProcessors, instrumentations);
  return activeShutdown;
}

/** Tracing only: the trace SDK with the Node SDK's defaults (resource detectors, W3C propagators). */
function startTracerProvider(serviceName: string, env: NodeJS.ProcessEnv, spanProcessors: SpanProcessor[], instrumentations: HttpInstrumentation[]): TracingShutdown {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return () => Promise.resolve();
  // The Node SDK's default detectors ("all"); OTEL_SERVICE_NAME arrives through the env detector.
  let resource = detectResources({ detectors: [hostDetector, osDetector, serviceInstanceIdDetector, processDetector, envDetector] });
  if (!env.OTEL_SERVICE_NAME) resource = resource.merge(resourceFromAttributes({ 'service.name': serviceName }));
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  // Default context manager (AsyncLocalStorage) and propagators (W3C trace-context + baggage).
  provider.register();
  // The instrumentation patched `http` when it was made (enabled by default); its spans go to this provider.
  for (const instrumentation of instrumentations) instrumentation.setTracerProvider(provider);
  let shutdownPromise: Promise<void> | undefined;
  return () => (shutdownPromise ??= provider.shutdown());
}

/** What tracing alone does not cover (metrics, logs, other propagators): the full Node SDK, loaded now. */
function startNodeSdk(serviceName: string, env: NodeJS.ProcessEnv, spanProcessors: SpanProcessor[], instrumentations: HttpInstrumentation[]): TracingShutdown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME wins; the resource's env detector reads it (and OTEL_RESOURCE_ATTRIBUTES).
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName }),
    spanProcessors,
    // Metrics are Prometheus (/metrics) and logs are JSON lines on stdout; the SDK would
    // otherwise push both over OTLP by default. An explicit OTEL_METRICS_EXPORTER /
    // OTEL_LOGS_EXPORTER still turns that on.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations,
  });
  sdk.start();
  let shutdownPromise: Promise<void> | undefined;
  return () => (shutdownPromise ??= sdk.shutdown());
}

/** Write side of a header map (NATS `MsgHdrs`, HTTP headers...) for {@link injectTraceContext}. */
export interface TraceCarrierWriter {
  set(key: string, value: string): void;
}

/** Read side of a header map for {@link extractTraceContext}. */
export interface TraceCarrierReader {
  get(key: string): string | undefined;
}

/**
 * Writes the trace context of `ctx` (default: the active context) into `carrier` as
 * `traceparent`/`tracestate` (and `baggage`), so the receiver's spans join this trace.
 */
export function injectTraceContext(carrier: TraceCarrierWriter, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier, { set: (c, key, value) => c.set(key, value) });
}

/**
 * Reads a trace context from `carrier`. The base defaults to the root context, not the
 * active one: a message without `traceparent` should start its own trace rather than
 * silently become a child of whatever the consumer loop happens to be running in.
 */
export function extractTraceContext(carrier: TraceCarrierReader, base: Context = ROOT_CONTEXT): Context {
  return propagation.extract(base, carrier, {
    // NATS returns '' for a missing header; treat it as absent.
    get: (c, key) => c.get(key) || undefined,
    keys: () => [],
  });
}

/**
 * Runs `fn` in a context that says it works for `jobId`: every span started inside,
 * by us or by an instrumentation, carries `orchestra.job_id`.
 */
export function withJobId<T>(jobId: string, fn: () => T, ctx: Context = context.active()): T {
  return context.with(ctx.setValue(JOB_ID_KEY, jobId), fn);
}

/** The job id of the active context, if any (see {@link withJobId}). */
export function activeJobId(ctx: Context = context.active()): string | undefined {
  const value = ctx.getValue(JOB_ID_KEY);
  return typeof value === 'string' ? value : undefined;
}

/** Attributes for {@link withSpan}; `jobId`/`stepId` become `orchestra.job_id`/`orchestra.step_id`. */
export interface SpanAttributes {
  jobId?: string;
  stepId?: string;
  [key: string]: AttributeValue | undefined;
}

/** Where and what kind of span {@link withSpan} starts. */
export interface SpanOptions {
  /** Parent context; default the active one. */
  parent?: Context;
  /** Default INTERNAL. */
  kind?: SpanKind;
}

/**
 * Runs `fn` inside a new active span named `name`. Records a thrown error as an exception
 * with ERROR status and rethrows; the span always ends. A `jobId` attribute also marks the
 * context (as {@link withJobId}), so the spans started inside carry it too.
 */
export async function withSpan<T>(name: string, attributes: SpanAttributes, fn: (span: Span) => T | Promise<T>, options: SpanOptions = {}): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const base = options.parent ?? context.active();
  const parent = attributes.jobId === undefined ? base : base.setValue(JOB_ID_KEY, attributes.jobId);
  return tracer.startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: toOtelAttributes(attributes) }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      // Spans leave the process (the collector, a tracing vendor): no password in a URL or
      // bearer credential an error quotes goes with them, as none goes to the logs.
      const exception = error instanceof Error ? error : new Error(String(error));
      const message = redactText(exception.message);
      span.recordException({ name: exception.name, message, stack: exception.stack === undefined ? undefined : redactText(exception.stack) });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw error;
    } finally {
      span.end();
    }
  });
}

function toOtelAttributes(attributes: SpanAttributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (key === 'jobId') out[JOB_ID_ATTRIBUTE] = value;
    else if (key === 'stepId') out['orchestra.step_id'] = value;
    else out[key] = value;
  }
  return out;
}

/**
 * Marks the active span, and the HTTP request's server span it runs under (started
 * before the job id was known; see {@link withRequestSpan}), as belonging to `jobId`.
 */
export function tagActiveSpanWithJob(jobId: string): void {
  trace.getActiveSpan()?.setAttribute(JOB_ID_ATTRIBUTE, jobId);
  const requestSpan = context.active().getValue(REQUEST_SPAN_KEY) as Span | undefined;
  requestSpan?.setAttribute(JOB_ID_ATTRIBUTE, jobId);
}

/** Context slot holding the HTTP request's server span while a handler span is active. */
const REQUEST_SPAN_KEY = createContextKey('orchestra.request_span');

/**
 * Runs `fn` with the active span remembered as the request's span, so
 * {@link tagActiveSpanWithJob} can tag it from inside a nested handler span.
 */
export function withRequestSpan<T>(fn: () => T): T {
  const span = trace.getActiveSpan();
  return span ? context.with(context.active().setValue(REQUEST_SPAN_KEY, span), fn) : fn();
}

/**
 * Names the active HTTP server span after the route template (`POST /v1/jobs/:id/cancel`),
 * as the framework knows it and Node's http instrumentation cannot, and sets `http.route`.
 */
export function nameActiveHttpSpan(method: string, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('http.route', route);
  span.updateName(`${method} ${route}`);
}
