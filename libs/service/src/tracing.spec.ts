import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { extractTraceContext, initTracing, injectTraceContext, withSpan } from './tracing';

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

  it('propagates W3C trace context through a header carrier', async () => {
    const headers = new Headers();
    const parent = await withSpan('publish', {}, (span) => {
      injectTraceContext(headers);
      return span.spanContext();
    });
    expect(headers.get('traceparent')).toBe(`00-${parent.traceId}-${parent.spanId}-01`);

    const child = await withSpan('consume', {}, (span) => span as unknown as ReadableSpan, extractTraceContext(headers));
    expect(child.spanContext().traceId).toBe(parent.traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanId);

    // No traceparent: a fresh trace, not a child of the caller's active span.
    const orphan = await withSpan('outer', {}, () =>
      withSpan('consume', {}, (span) => span as unknown as ReadableSpan, extractTraceContext(new Headers())),
    );
    expect(orphan.parentSpanContext).toBeUndefined();
  });
});
