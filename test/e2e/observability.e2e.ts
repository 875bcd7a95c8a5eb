import { JobState } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit } from './helpers';

/** One span as an OTLP/HTTP JSON export describes it, flattened. */
interface ExportedSpan {
  service: string;
  resource: Record<string, unknown>;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startNs: bigint;
  attributes: Record<string, unknown>;
}

/** OTLP span kinds (the protocol's numbering). */
const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue;
}

function attributesOf(list: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));
}

/** A real OTLP/HTTP receiver (JSON encoding): what a collector's otlp receiver on :4318 is to the services. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
        };
        for (const rs of body.resourceSpans) {
          const resource = attributesOf(rs.resource.attributes);
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                service: resource['service.name'] as string,
                resource,
                traceId: s.traceId as string,
                spanId: s.spanId as string,
                parentSpanId: (s.parentSpanId as string) || undefined,
                name: s.name as string,
                kind: s.kind as number,
                startNs: BigInt(s.startTimeUnixNano as string),
                attributes: attributesOf(s.attributes as OtlpAttribute[]),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

/** Every sample of a Prometheus text exposition, keyed `name{labels}` as written. */
async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
function total(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

async function until<T>(what: () => string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Observability of one job across the five services as separate processes: the spans they
 * export over OTLP/HTTP make one trace from the HTTP request to the last event, and their
 * /metrics moved by what the job did.
 */
describe('one job is one trace, and its metrics move (separate processes)', () => {
  let stack: DevnetStack;
  const logDir = mkdtempSync(join(tmpdir(), 'orchestra-e2e-'));
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const before: Record<string, Map<string, number>> = {};
  let jobId: string;
  let job: JobState;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startDevnetStack({
      ports: 'auto',
      logDir,
      devnetConfig: join(__dirname, 'fixtures', 'observability-devnet.json'),
      serviceEnv: {
        ORCH_NETUIDS: '13',
        ORCH_MINER_TIMEOUT_MS: '10000',
        ORCH_HEDGE: 'data.financials:on',
        // Before any latency is observed the hedge fires after this: well past the wrong-schema
        // miner's quick answer (attempt 1, no hedge), well before the slow one's (attempt 2, hedged).
        ORCH_HEDGE_DEFAULT_MS: '2500',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
      },
    });
    for (const service of ['api', 'planner', 'dispatcher'] as const) before[service] = await scrape(stack.opsPorts[service]);
    jobId = await submit(stack.api, {
      goal: 'fetch reported revenue',
      plan: [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] }, maxAttempts: 4 }],
    });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');
    job = await getJob(stack.api, jobId);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => receiver?.server.close(resolve));
  }, 60_000);

  it('exports one trace per job, from the HTTP request through every step, hire, verdict and the last event', async () => {
    const step = job.steps[0];
    const callsMade = step.attempts.reduce((n, a) => n + 1 + a.hedgedUids.length, 0);
    // Spans are batched for 200 ms and ended asynchronously: wait for the last ones.
    const summary = () =>
      `the job's spans; got:\n${receiver.spans
        .filter((s) => s.attributes['orchestra.job_id'] === jobId)
        .map((s) => `${s.service} ${s.kind} ${s.name} ${JSON.stringify(s.attributes)}`)
        .join('\n')}\njob: ${JSON.stringify(job.steps[0].attempts.map(({ output: _o, ...a }) => a))}`;
    const ofJob = await until(summary, () => {
      const spans = receiver.spans.filter((s) => s.attributes['orchestra.job_id'] === jobId);
      const lastEvent = spans.some((s) => s.kind === KIND.producer && String(s.attributes['messaging.message.id']).startsWith(`job.event:${jobId}:job.succeeded`));
      const clients = spans.filter((s) => s.kind === KIND.client && s.attributes['orchestra.provider'] !== undefined);
      return lastEvent && clients.length === callsMade ? spans : undefined;
    });

    // One trace, whose every span carries the job id.
    const traceIds = new Set(ofJob.map((s) => s.traceId));
    expect(traceIds.size).toBe(1);
    const trace = receiver.spans.filter((s) => s.traceId === ofJob[0].traceId);
    expect(trace.filter((s) => s.attributes['orchestra.job_id'] !== jobId).map((s) => `${s.service}: ${s.name}`)).toEqual([]);

    // Its root is the API's HTTP server span, named by the route.
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const roots = trace.filter((s) => !s.parentSpanId);
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ service: 'api', kind: KIND.server, name: 'POST /v1/jobs', attributes: { 'http.route': '/v1/jobs' } });
    expect(roots[0].resource).toMatchObject({ 'service.name': 'api', 'deployment.environment.name': 'e2e' });
    // The framework's span of the route handler, under which the API publishes the job.
    const handler = trace.find((s) => s.name === 'JobsController.submit');
    expect(handler).toMatchObject({ service: 'api', kind: KIND.internal, parentSpanId: roots[0].spanId, attributes: { 'http.route': '/v1/jobs' } });
    const submitted = trace.find((s) => s.attributes['messaging.destination.name'] === 'orch.job.submitted' && s.kind === KIND.producer);
    expect(submitted?.parentSpanId).toBe(handler?.spanId);
    for (const span of trace) {
      if (!span.parentSpanId) continue;
      const parent = byId.get(span.parentSpanId);
      expect(parent).toBeDefined(); // no span's parent is missing from the trace
      expect(span.startNs).toBeGreaterThanOrEqual((parent as ExportedSpan).startNs); // causal order
    }

    // Every consumed message is a CONSUMER span whose parent is the PRODUCER span of its publish.
    const consumers = trace.filter((s) => s.kind === KIND.consumer);
    for (const c of consumers) {
      const producer = byId.get(c.parentSpanId as string) as ExportedSpan;
      expect(producer.kind).toBe(KIND.producer);
      expect(producer.attributes['messaging.destination.name']).toBe(c.attributes['messaging.destination.name']);
      expect(c.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'process', 'messaging.consumer.group.name': expect.any(String) });
      expect(producer.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'send' });
    }
    expect(new Set(consumers.map((c) => `${c.service}/${c.attributes['messaging.consumer.group.name']}`))).toEqual(
      new Set(['planner/planner', 'dispatcher/dispatcher', 'verifier/verifier']),
    );

    // One CLIENT span per miner call, hedges included, each a child of the dispatcher's consumer span.
    const clients = trace.filter((s) => s.kind === KIND.client);
    expect(clients.every((c) => c.service === 'dispatcher')).toBe(true);
    // The attempt records name every UID called (the answer's and the hedges'; the answer may be a hedge's).
    const key = (attempt: unknown, uid: unknown) => `attempt ${String(attempt)} uid ${String(uid)}`;
    const expectedCalls = step.attempts.flatMap((a) => [a.uid, ...a.hedgedUids].map((uid) => key(a.attempt, uid)));
    expect(clients.map((c) => key(c.attributes['orchestra.attempt'], c.attributes['orchestra.uid'])).sort()).toEqual(expectedCalls.sort());
    for (const a of step.attempts) {
      const primaries = clients.filter((c) => c.attributes['orchestra.attempt'] === a.attempt && c.attributes['orchestra.hedge'] === false);
      expect(primaries).toHaveLength(1);
    }
    expect(clients.some((c) => c.attributes['orchestra.hedge'] === true)).toBe(true);
    for (const c of clients) {
      expect(c.attributes).toMatchObject({
        'orchestra.netuid': 13,
        'orchestra.provider': 'axon',
        'orchestra.capability': 'data.financials',
        'orchestra.outcome': expect.stringMatching(/^(ok|aborted|\d+)$/),
      });
      expect(byId.get(c.parentSpanId as string)).toMatchObject({ service: 'dispatcher', kind: KIND.consumer });
    }
    expect(clients.filter((c) => c.attributes['orchestra.outcome'] === 'aborted').length).toBeGreaterThanOrEqual(1);

    // The last event's chain back to the request crosses the services in the order the job ran:
    // the API, then per attempt planner → dispatcher → verifier, then the planner completing it.
    const last = ofJob.find((s) => String(s.attributes['messaging.message.id']).startsWith(`job.event:${jobId}:job.succeeded`)) as ExportedSpan;
    const path: string[] = [];
    for (let s: ExportedSpan | undefined = last; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) {
      if (path[0] !== s.service) path.unshift(s.service);
    }
    expect(path).toEqual(['api', ...step.attempts.flatMap(() => ['planner', 'dispatcher', 'verifier']), 'planner']);

    // Log lines join the trace: the API's access log of the request and the planner's last word on the job.
    const logLines = (service: string) =>
      readFileSync(join(logDir, `${service}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logLines('api')).toContainEqual(
      expect.objectContaining({ msg: 'http request', method: 'POST', route: '/v1/jobs', status: 202, trace_id: roots[0].traceId, span_id: roots[0].spanId }),
    );
    expect(logLines('planner')).toContainEqual(expect.objectContaining({ msg: 'job succeeded', jobId, trace_id: roots[0].traceId }));
  }, 60_000);

  it('moves the job, step, attempt, spend and provider call metrics by what the job did', async () => {
    const step = job.steps[0];
    const after = {
      api: await scrape(stack.opsPorts.api),
      planner: await scrape(stack.opsPorts.planner),
      dispatcher: await scrape(stack.opsPorts.dispatcher),
    };
    const delta = (service: 'api' | 'planner' | 'dispatcher', name: string, labels: Record<string, string> = {}) =>
      total(after[service], name, labels) - total(before[service], name, labels);

    expect(delta('api', 'orchestra_api_jobs_submitted_total')).toBe(1);
    expect(delta('planner', 'orchestra_jobs_finished_total', { status: 'succeeded', reason: 'none' })).toBe(1);
    expect(delta('planner', 'orchestra_jobs_finished_total')).toBe(1);
    expect(delta('planner', 'orchestra_job_duration_seconds_count', { status: 'succeeded' })).toBe(1);
    expect(delta('planner', 'orchestra_steps_finished_total', { capability: 'data.financials', outcome: 'verified' })).toBe(1);
    const rejected = step.attempts.filter((a) => a.status === 'rejected');
    expect(delta('planner', 'orchestra_attempts_total', { outcome: 'verified' })).toBe(1);
    expect(delta('planner', 'orchestra_attempts_total', { outcome: 'rejected' })).toBe(rejected.length);
    for (const kind of new Set(rejected.map((a) => a.rejectedAs as string))) {
      expect(delta('planner', 'orchestra_attempt_rejections_total', { kind })).toBe(rejected.filter((a) => a.rejectedAs === kind).length);
    }
    expect(job.spend.totalTao).toBeGreaterThan(0);
    expect(delta('planner', 'orchestra_spend_tao_total', { netuid: '13' })).toBeCloseTo(job.spend.totalTao, 9);

    const calls = step.attempts.reduce((n, a) => n + 1 + a.hedgedUids.length, 0);
    const byCall = { provider: 'axon', netuid: '13', capability: 'data.financials' };
    expect(delta('dispatcher', 'orchestra_provider_calls_total', byCall)).toBe(calls);
    expect(delta('dispatcher', 'orchestra_provider_call_seconds_count', { provider: 'axon', netuid: '13' })).toBe(calls);
    const aborted = receiver.spans.filter((s) => s.attributes['orchestra.job_id'] === jobId && s.kind === KIND.client && s.attributes['orchestra.outcome'] === 'aborted');
    expect(delta('dispatcher', 'orchestra_provider_calls_total', { ...byCall, outcome: 'aborted' })).toBe(aborted.length);
    expect(delta('dispatcher', 'orchestra_provider_calls_total', { ...byCall, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(delta('dispatcher', 'orchestra_dispatcher_hedged_calls_total', { netuid: '13' })).toBe(step.attempts.reduce((n, a) => n + a.hedgedUids.length, 0));
  }, 30_000);
});
