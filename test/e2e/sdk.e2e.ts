import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  Orchestra,
  OrchestraError,
  PermissionDeniedError,
  PlanRejectedError,
  ValidationError,
  type JobEvent,
} from '@orchestra/sdk';
import { DEV_TENANT, DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One step bought from the fake Chutes: a few events over a few hundred milliseconds. */
const FIGURES = {
  goal: 'chart reported revenue',
  inputs: {
    rows: [
      { entity: 'AAPL', period: 'FY2022', metric: 'revenue', value: 394328, unit: 'USD_millions', source: 'AAPL 10-K FY2022' },
      { entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', source: 'AAPL 10-K FY2023' },
    ],
  },
  plan: [{ id: 'chart', capability: 'code.python', input: { task: 'Chart the revenue per year', rows: { $ref: '/inputs/rows' } } }],
};

/**
 * A TCP proxy in front of the API that can cut a connection: the first connection whose
 * answer carries a Server-Sent Event is destroyed right after that event reaches the client.
 */
async function cuttingProxy(target: URL): Promise<{ url: string; connections: () => number; cuts: () => number; eventsBeforeCut: () => number; close: () => Promise<void> }> {
  let connections = 0;
  let cuts = 0;
  let eventsBeforeCut = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (cuts === 0 && /\nevent: /.test(chunk.toString('latin1'))) {
        cuts++;
        eventsBeforeCut = chunk.toString('latin1').split('\nevent: ').length - 1;
        // Let the event reach the client, then drop the connection as a failing network would.
        setTimeout(() => (client.destroy(), upstream.destroy()), 50);
      }
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    cuts: () => cuts,
    eventsBeforeCut: () => eventsBeforeCut,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('SDK (libs/sdk) against the devnet', () => {
  let stack: DevnetStack;
  let client: Orchestra;
  let admin: Orchestra;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-sdk-')),
      gateways: true,
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000' },
    });
    // The way a developer's program finds the devnet: its connection file.
    const file = join(mkdtempSync(join(tmpdir(), 'orchestra-sdk-conn-')), 'connection.json');
    writeFileSync(file, JSON.stringify({ api: stack.api, nats: { servers: stack.natsUrl } }), { mode: 0o600 });
    client = new Orchestra({ connectionFile: file, env: {} });
    admin = new Orchestra({ connectionFile: file, env: {}, admin: true });
  }, 120_000);
  afterAll(() => stack?.stop(), 60_000);

  it('finds the API in the devnet connection file, submits, follows and reads a job to the end', async () => {
    expect(client.connection).toEqual({ url: stack.api.url, key: stack.api.key });
    const events: JobEvent[] = [];
    const job = await client.run(FIGURES, { onEvent: (e) => events.push(e), timeoutMs: 60_000 });
    expect(job.status).toBe('succeeded');
    expect(events[0].type).toBe('job.accepted');
    expect(events.at(-1)?.type).toBe('job.succeeded');
    expect(events.map((e) => Number(e.id))).toEqual([...events.map((e) => Number(e.id))].sort((a, b) => a - b));

    const page = await client.list({ limit: 5 });
    expect(page.tenant).toBe(DEV_TENANT);
    expect(page.jobs.map((j) => j.jobId)).toContain(job.jobId);
    const all: string[] = [];
    for await (const summary of client.jobs({ status: 'succeeded', pageSize: 1 })) all.push(summary.jobId);
    expect(all).toContain(job.jobId);
    expect((await client.usage()).days[0].jobs).toBeGreaterThanOrEqual(1);
    expect(await client.delete(job.jobId)).toEqual({ jobId: job.jobId, deleted: true });
    await expect(client.get(job.jobId)).rejects.toBeInstanceOf(NotFoundError);
  }, 90_000);

  it('resumes a dropped event stream after the last event received, losing and repeating nothing', async () => {
    const proxy = await cuttingProxy(new URL(stack.api.url));
    try {
      const viaProxy = new Orchestra({ url: proxy.url, key: stack.api.key, env: {}, reconnectDelayMs: 50 });
      const { jobId } = await viaProxy.submit(FIGURES);
      const received: JobEvent[] = [];
      for await (const event of viaProxy.events(jobId)) received.push(event);

      expect(proxy.cuts()).toBe(1);
      expect(proxy.connections()).toBeGreaterThanOrEqual(2);
      // Some events came only after the cut: through the resumed stream.
      expect(received.length).toBeGreaterThan(proxy.eventsBeforeCut());
      // The whole stream, read again directly, is exactly what arrived across the cut.
      const direct: JobEvent[] = [];
      for await (const event of client.events(jobId)) direct.push(event);
      expect(received.map((e) => e.id)).toEqual(direct.map((e) => e.id));
      expect(received.at(-1)?.type).toBe('job.succeeded');
      // Resuming after the last event of a finished job: nothing more (the API's 204).
      const after: JobEvent[] = [];
      for await (const event of client.events(jobId, { lastEventId: received.at(-1)?.id })) after.push(event);
      expect(after).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('dry-runs (planned, nobody hired), waits at approval and approves, cancels', async () => {
    const planned = await client.dryRun(FIGURES, { timeoutMs: 60_000 });
    expect(planned.status).toBe('planned');

    const { jobId } = await client.submit({ ...FIGURES, approval: 'required' });
    expect((await client.wait(jobId, { timeoutMs: 60_000 })).status).toBe('awaiting_approval');
    // An edited plan the plan checks refuse leaves the job waiting.
    const refused = await client
      .approve(jobId, [{ id: 'chart', capability: 'code.python', input: { task: 'Chart', rows: { $ref: '/steps/nowhere/output/rows' } } }])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PlanRejectedError);
    expect((await client.get(jobId)).status).toBe('awaiting_approval');
    expect((await client.approve(jobId)).status).not.toBe('awaiting_approval');
    expect((await client.wait(jobId, { timeoutMs: 60_000 })).status).toBe('succeeded');
    await expect(client.approve(jobId)).rejects.toBeInstanceOf(ConflictError);

    const waiting = await client.submit({ ...FIGURES, approval: 'required' });
    await client.wait(waiting.jobId, { timeoutMs: 60_000 });
    await client.cancel(waiting.jobId, 'not today');
    // Waiting past approval: the cancellation is what ends it.
    expect((await client.wait(waiting.jobId, { timeoutMs: 60_000, stopAtApproval: false })).status).toBe('cancelled');
  }, 120_000);

  it('manages keys and tenants as an admin; every failure is an OrchestraError of its own class', async () => {
    const issued = await admin.keys.create({ tenant: 'sdk-tenant', scopes: ['read'] });
    expect(issued.key).toMatch(/^orch_/);
    expect((await admin.keys.list('sdk-tenant')).map((k) => k.id)).toEqual([issued.id]);
    const tenant = await admin.tenants.set('sdk-tenant', { jobsPerMinute: 3 });
    expect(tenant.quotas.jobsPerMinute).toBe(3);
    expect((await admin.tenants.get('sdk-tenant')).overrides).toEqual({ jobsPerMinute: 3 });

    const reader = new Orchestra({ url: stack.api.url, key: issued.key, env: {} });
    expect((await reader.list()).tenant).toBe('sdk-tenant');
    const denied = await reader.submit(FIGURES).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied).toMatchObject({ status: 403, kind: 'insufficient-scope', retryable: false });
    await admin.keys.revoke(issued.id);
    await expect(reader.list()).rejects.toBeInstanceOf(AuthenticationError);
    const invalid = await client.submit({ goal: '' } as never).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toBeInstanceOf(OrchestraError);
    expect((invalid as ValidationError).problem.errors?.[0].pointer).toBe('/goal');
    await expect(client.keys.list()).rejects.toBeInstanceOf(PermissionDeniedError);
  }, 60_000);
});
