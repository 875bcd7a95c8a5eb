import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProto } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { JOB_ID_HEADER, withConsumeSpan, withPublishSpan } from './messaging-spans';
import { activeJobId, extractTraceContext, initTracing, injectTraceContext, needsFullOtelSdk, traceExportersFromEnv, withJobId, withSpan } from './tracing';

/** A header map standing in for NATS MsgHdrs (which return '' for a missing key). */
class Headers {
  readonly values = new Map<string, string>();
  set(key: string, value: string): void {
    this.values.set(key, value);
  }
  get(key: string): string {
    return this.values.get(key) ?? '';
  }
}

describe('tracing', () => {
  // Export over OTLP is exercised in run-service.spec.ts, in a real Node process: the
  // exporter loads its HTTP agent with a dynamic import(), which Jest's VM cannot run.
  beforeAll(() => {
    initTracing('tracing-test');
  });
  it('maps job and step ids to attributes and ends the span', async () => {
    const span = await withSpan('plan step', { jobId: 'job-1', stepId: 'step-1', 'orchestra.uid': 5 }, (s) => s);
    const readable = span as unknown as ReadableSpan;
    expect(readable.attributes).toEqual({ 'orchestra.job_id': 'job-1', 'orchestra.step_id': 'step-1', 'orchestra.uid': 5 });
    expect(readable.ended).toBe(true);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('records a thrown error, sets error status and rethrows', async () => {
    let captured: ReadableSpan | undefined;
    const failure = new Error('miner timed out');
    await expect(
      withSpan('call miner', { jobId: 'job-2' }, (span) => {
        captured = span as unknown as ReadableSpan;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(captured?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'miner timed out' });
    expect(captured?.events.map((e) => e.name)).toEqual(['exception']);
    expect(captured?.ended).toBe(true);
  });

  it('keeps passwords an error quotes out of the span', async () => {
    let captured: ReadableSpan | undefined;
    await withSpan('connect', {}, (span) => {
      captured = span as unknown as ReadableSpan;
      throw new Error('cannot connect to nats://orch-api:hunter2@nats:4222');
    }).catch(() => undefined);
    expect(captured?.status.message).toBe('cannot connect to nats://orch-api:[redacted]@nats:4222');
    expect(JSON.stringify(captured?.events)).not.toContain('hunter2');
  });

  it('propagates W3C trace context through a header carrier', async () => {
    const headers = new Headers();
    const parent = await withSpan('publish', {}, (span) => {
      injectTraceContext(headers);
      return span.spanContext();
    });
    expect(headers.get('traceparent')).toBe(`00-${parent.traceId}-${parent.spanId}-01`);

    const child = await withSpan('consume', {}, (span) => span as unknown as ReadableSpan, { parent: extractTraceContext(headers) });
    expect(child.spanContext().traceId).toBe(parent.traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanId);

    // No traceparent: a fresh trace, not a child of the caller's active span.
    const orphan = await withSpan('outer', {}, () => withSpan('consume', {}, (span) => span as unknown as ReadableSpan, { parent: extractTraceContext(new Headers()) }));
    expect(orphan.parentSpanContext).toBeUndefined();
  });
});

describe('job ids and messaging spans', () => {
  beforeAll(() => {
    initTracing('tracing-test');
  });

  it('stamps orchestra.job_id on every span started under a job, and PRODUCER/CONSUMER spans link through headers', async () => {
    const headers = new Headers();
    let producer: ReadableSpan | undefined;
    await withPublishSpan({ subject: 'orch.event.job_7', jobId: 'job_7', messageId: 'm-1', bodyBytes: 42 }, headers, async () => {
      producer = trace.getActiveSpan() as unknown as ReadableSpan;
    });
    expect(producer?.name).toBe('send orch.event.{jobId}');
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(producer?.attributes).toMatchObject({
      'orchestra.job_id': 'job_7',
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'orch.event.job_7',
      'messaging.message.id': 'm-1',
    });
    expect(headers.get(JOB_ID_HEADER)).toBe('job_7');

    // The consumer runs in a fresh async context (another process, in real life).
    const info = { subject: 'orch.event.job_7', consumer: 'api-events', headers, deliveryCount: 2, streamSequence: 9, bodyBytes: 42 };
    const [consumer, inner] = await withConsumeSpan(info, async () => {
      const outer = trace.getActiveSpan() as unknown as ReadableSpan;
      // A span nobody told about the job (an instrumentation's) still carries it.
      const child = trace.getTracer('other').startSpan('http GET');
      child.end();
      return [outer, child as unknown as ReadableSpan];
    });
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.name).toBe('process orch.event.{jobId}');
    expect(consumer.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({
      'orchestra.job_id': 'job_7',
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': 'api-events',
    });
    expect(inner.attributes['orchestra.job_id']).toBe('job_7');
    expect(withJobId('job_8', () => activeJobId())).toBe('job_8');
  });

  it('ignores a job id header that is not an id', async () => {
    const headers = new Headers();
    headers.set(JOB_ID_HEADER, 'x'.repeat(500));
    const span = await withConsumeSpan(
      { subject: 's', consumer: 'c', headers, deliveryCount: 1, streamSequence: 1, bodyBytes: 1 },
      async () => trace.getActiveSpan() as unknown as ReadableSpan,
    );
    expect(span.attributes['orchestra.job_id']).toBeUndefined();
  });

  it('chooses exporters from the standard OTEL_* variables', () => {
    expect(traceExportersFromEnv({})).toEqual([]);
    expect(traceExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })[0]).toBeInstanceOf(OtlpProto);
    expect(traceExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })[0]).toBeInstanceOf(OtlpJson);
    expect(traceExportersFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })[0]).toBeInstanceOf(OtlpJson);
    expect(traceExportersFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual([]);
    expect(() => traceExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /unsupported protocol "grpc"; use http\/protobuf or http\/json/,
    );
  });

  it('loads the full Node SDK only for what tracing alone does not cover', () => {
    expect(needsFullOtelSdk({})).toBe(false);
    expect(needsFullOtelSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_off', OTEL_METRICS_EXPORTER: ' ' })).toBe(false);
    expect(needsFullOtelSdk({ OTEL_METRICS_EXPORTER: 'otlp' })).toBe(true);
    expect(needsFullOtelSdk({ OTEL_LOGS_EXPORTER: 'otlp' })).toBe(true);
    expect(needsFullOtelSdk({ OTEL_PROPAGATORS: 'b3' })).toBe(true);
    expect(needsFullOtelSdk({ OTEL_NODE_RESOURCE_DETECTORS: 'env' })).toBe(true);
  });
});
