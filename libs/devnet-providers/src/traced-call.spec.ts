import { callTraced, DesearchProvider } from '@orchestra/providers';
import { initTracing, metricsRegistry, withJobId } from '@orchestra/service';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FakeServer, startFakeDesearch } from '.';

describe('callTraced: a CLIENT span and the call metrics per provider call (fake Desearch over HTTP)', () => {
  let fake: FakeServer;
  const spans = new InMemorySpanExporter();
  const provider = (apiKey: string) => new DesearchProvider({ apiKey, baseUrl: fake.url });

  beforeAll(async () => {
    initTracing('traced-call-spec', {}, [new SimpleSpanProcessor(spans)]);
    fake = await startFakeDesearch({ apiKeys: { 'dsr-good': 'good', 'dsr-down': 'down', 'dsr-slow': 'slow' }, slowMs: 10_000 });
  });
  afterAll(() => fake.stop());

  async function calls(outcome: string): Promise<number> {
    const metric = await metricsRegistry().getSingleMetric('orchestra_provider_calls_total')?.get();
    const value = metric?.values.find((v) => v.labels.provider === 'desearch' && v.labels.outcome === outcome && v.labels.capability === 'web.search');
    return value?.value ?? 0;
  }

  it('records a good call with its source, cost and job, a failure with its fault, and our abort as aborted', async () => {
    const answer = await withJobId('job_traced', () =>
      callTraced(
        provider('dsr-good'),
        { capability: 'web.search', source: 'web', input: { query: 'solar', count: 2 }, timeoutMs: 5_000 },
        { 'orchestra.attempt': 1, 'orchestra.hedge': false },
      ),
    );
    const failure = await callTraced(provider('dsr-down'), { capability: 'web.search', source: 'web', input: { query: 'q' }, timeoutMs: 5_000 }).catch((e: unknown) => e);
    const controller = new AbortController();
    const aborted = callTraced(provider('dsr-slow'), { capability: 'web.search', source: 'web', input: { query: 'q' }, timeoutMs: 5_000, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    setTimeout(() => controller.abort(), 50);
    expect(await aborted).toMatchObject({ name: 'ProviderAbortedError' });

    const [good, down, cut] = spans.getFinishedSpans().filter((s) => s.name === 'call desearch');
    expect(good.kind).toBe(SpanKind.CLIENT);
    expect(good.attributes).toMatchObject({
      'orchestra.job_id': 'job_traced',
      'orchestra.provider': 'desearch',
      'orchestra.netuid': 22,
      'orchestra.source': 'web',
      'orchestra.capability': 'web.search',
      'orchestra.attempt': 1,
      'orchestra.hedge': false,
      'orchestra.outcome': 'ok',
      'orchestra.cost_usd': answer.cost.usd,
    });
    const fault = (failure as { fault: string }).fault;
    expect(down.attributes).toMatchObject({ 'orchestra.outcome': fault, 'error.type': fault });
    expect(cut.attributes['orchestra.outcome']).toBe('aborted');
    // Our abort is not the call's failure; the gateway being down is.
    expect(cut.status.code).toBe(SpanStatusCode.UNSET);
    expect(down.status.code).toBe(SpanStatusCode.ERROR);
    expect(await calls('ok')).toBe(1);
    expect(await calls(fault)).toBe(1);
    expect(await calls('aborted')).toBe(1);
  });
});
