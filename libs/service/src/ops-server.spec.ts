import { Counter } from 'prom-client';
import { MetricConflictError } from './errors';
import { counter, gauge, histogram, initMetrics } from './metrics';
import { startOpsServer, type LivenessReport, type OpsServer, type ReadinessReport } from './ops-server';

describe('ops server', () => {
  let ops: OpsServer;
  let base: string;
  let report: ReadinessReport | Error = { ready: true, checks: { nats: 'up' } };
  let life: LivenessReport | Error = { live: true };

  beforeAll(async () => {
    initMetrics();
    ops = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      readiness: async () => {
        if (report instanceof Error) throw report;
        return report;
      },
      liveness: () => {
        if (life instanceof Error) throw life;
        return life;
      },
    });
    base = `http://127.0.0.1:${ops.port}`;
  });

  afterAll(() => ops.close());

  it('answers /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /healthz 503 with the reason when the liveness check says the process cannot recover', async () => {
    life = { live: false, checks: { 'consumer planner': 'stopped: the connection closed' } };
    let res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'dead', checks: { 'consumer planner': 'stopped: the connection closed' } });
    // A check that throws is a bug in the check, not a dead process: no restart loop for it.
    life = new Error('bug');
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { liveness: 'check failed: bug' } });
    life = { live: true };
  });

  it('serves registered metrics in Prometheus text format, Node defaults under their standard names', async () => {
    const hired = counter({ name: 'steps_hired_total', help: 'Steps hired', labelNames: ['subnet'] });
    hired.inc({ subnet: '7' }, 3);
    histogram({ name: 'step_seconds', help: 'Step latency', buckets: [0.1, 1] }).observe(0.5);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE orchestra_steps_hired_total counter');
    expect(text).toContain('orchestra_steps_hired_total{subnet="7"} 3');
    expect(text).toContain('orchestra_step_seconds_bucket{le="1"} 1');
    // Node's default metrics under their standard names, for the usual dashboards.
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(text).not.toContain('service=');
  });

  it('returns the same metric for the same name and rejects conflicting definitions', () => {
    const a = counter({ name: 'dup_total', help: 'x', labelNames: ['a', 'b'] });
    const b = counter({ name: 'orchestra_dup_total', help: 'x', labelNames: ['b', 'a'] });
    expect(b).toBe(a);
    expect(a).toBeInstanceOf(Counter);
    expect(() => gauge({ name: 'dup_total', help: 'x', labelNames: ['a', 'b'] })).toThrow(MetricConflictError);
    expect(() => counter({ name: 'dup_total', help: 'x', labelNames: ['a'] })).toThrow(MetricConflictError);
  });

  it('reports readiness as 200 or 503 with the report', async () => {
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, checks: { nats: 'up' } });

    report = { ready: false, checks: { nats: 'down' } };
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { nats: 'down' } });

    report = new Error('kv unreachable');
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { readiness: 'error: kv unreachable' } });
  });

  it('answers problem+json for unknown paths and methods', async () => {
    let res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found' });

    res = await fetch(`${base}/healthz`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  // Last: shutting down is irreversible.
  it('turns /readyz to 503 once shutdown has begun, while /healthz stays 200', async () => {
    report = { ready: true };
    life = { live: false };
    ops.markShuttingDown();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { shutdown: 'in progress' } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
