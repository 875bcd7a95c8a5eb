import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type AttributeValue,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** Flushes pending spans and stops the tracer provider. */
export type TracingShutdown = () => Promise<void>;

/** Name of the tracer all runtime helpers create spans with. */
const TRACER_NAME = '@orchestra/service';

let activeShutdown: TracingShutdown | undefined;

/**
 * Installs the process's tracer provider: W3C trace-context (+ baggage) propagation and
 * an AsyncLocalStorage context manager, so the active span follows async calls.
 *
 * Spans are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads those itself, plus
 * `OTEL_EXPORTER_OTLP_HEADERS` etc.). Without them, spans are still created with real
 * ids so `traceparent` propagates across services and appears in logs.
 *
 * Idempotent: a second call returns the first call's shutdown, since OpenTelemetry's
 * globals can be registered only once per process.
 */
export function initTracing(serviceName: string): TracingShutdown {
  if (activeShutdown) return activeShutdown;

  const exportEnabled = Boolean(
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  );
  const spanProcessors: SpanProcessor[] = exportEnabled ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [];
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName })),
    spanProcessors,
  });
  // Defaults of register(): AsyncLocalStorageContextManager and the W3C
  // trace-context + baggage composite propagator.
  provider.register();

  let shutdownPromise: Promise<void> | undefined;
  activeShutdown = () => (shutdownPromise ??= provider.shutdown());
  return activeShutdown;
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

/** Attributes for {@link withSpan}; `jobId`/`stepId` become `orchestra.job_id`/`orchestra.step_id`. */
export interface SpanAttributes {
  jobId?: string;
  stepId?: string;
  [key: string]: AttributeValue | undefined;
}

/**
 * Runs `fn` inside a new active span named `name` (child of `parentContext`, default the
 * active context). Records a thrown error as an exception with ERROR status and rethrows.
 * The span always ends, also when `fn` fails.
 */
export async function withSpan<T>(
  name: string,
  attributes: SpanAttributes,
  fn: (span: Span) => T | Promise<T>,
  parentContext: Context = context.active(),
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(name, { attributes: toOtelAttributes(attributes) }, parentContext, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const exception = error instanceof Error ? error : new Error(String(error));
      span.recordException(exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
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
    if (key === 'jobId') out['orchestra.job_id'] = value;
    else if (key === 'stepId') out['orchestra.step_id'] = value;
    else out[key] = value;
  }
  return out;
}
