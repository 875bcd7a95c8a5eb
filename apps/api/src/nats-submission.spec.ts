import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Bus } from '@orchestra/bus';
import { PROBLEM_HEADER, SUBMIT_SUBJECT } from '@orchestra/contracts';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { type NatsConnection, connect, headers } from '@nats-io/transport-node';
import { TEST_ADMIN_KEY, bearer } from './api.fixture';
import { createApiApp } from './app';
import { JobsService } from './jobs.service';
import { apiSettings } from './settings';

const REPO_ROOT = join(__dirname, '..', '..', '..');

/** NATS-native submission over a real nats-server with Orchestra's account and two tenant accounts. */
describe('NATS-native submission (tenants as NATS accounts)', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  let app: NestFastifyApplication;
  const clients: NatsConnection[] = [];

  const tenantClient = async (user: { user: string; pass: string }) => {
    const nc = await connect({ servers: nats.url, user: user.user, pass: user.pass });
    clients.push(nc);
    return nc;
  };
  const users = () => nats.tenantUsers as NonNullable<NatsServerHandle['tenantUsers']>;
  const reader = (tenant: string) => ({ keyId: 'spec', tenant, scopes: ['read' as const] });

  beforeAll(async () => {
    nats = await startNatsServer({ auth: { manageTopology: true, tenants: ['acme', 'globex', 'initech'] } });
    const api = (nats.users as NonNullable<NatsServerHandle['users']>).api;
    bus = await Bus.connect({ servers: nats.url, name: 'api', access: api, storage: { replicas: 1, storage: 'memory' } });
    app = await createApiApp({ bus, settings: { ...apiSettings({}, bus.nc.info?.max_payload), adminKey: TEST_ADMIN_KEY }, logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await app?.close();
    await bus?.close();
    await nats?.dispose();
  });

  it("a tenant's user submits over NATS: the reply is POST /v1/jobs's body, and the job is the tenant's", async () => {
    const nc = await tenantClient(users().acme.submitter);
    const reply = await nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'summarise the filings' }), { timeout: 10_000 });
    expect(reply.headers?.get(PROBLEM_HEADER) ?? '').toBe('');
    const accepted = reply.json<{ jobId: string; status: string; links: { self: string } }>();
    expect(accepted).toEqual({ jobId: expect.any(String), status: 'queued', links: expect.objectContaining({ self: `/v1/jobs/${accepted.jobId}` }) });
    const jobs = app.get(JobsService);
    await expect(jobs.find(accepted.jobId, reader('acme'))).resolves.toMatchObject({ jobId: accepted.jobId });
    await expect(jobs.find(accepted.jobId, reader('globex'))).resolves.toBeUndefined();
  });

  it('an Idempotency-Key header replays the same job', async () => {
    const nc = await tenantClient(users().globex.submitter);
    const h = headers();
    h.set('Idempotency-Key', 'nats-replay-1');
    const body = JSON.stringify({ goal: 'the same request twice' });
    const first = (await nc.request(SUBMIT_SUBJECT, body, { timeout: 10_000, headers: h })).json<{ jobId: string }>();
    const second = (await nc.request(SUBMIT_SUBJECT, body, { timeout: 10_000, headers: h })).json<{ jobId: string }>();
    expect(second.jobId).toBe(first.jobId);
  });

  it('the documented example publisher (tools/examples/nats-submit.ts) submits, and exits 1 printing the problem when refused', async () => {
    const { user, pass } = users().globex.submitter;
    const run = (body: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['-r', '@swc-node/register', join(REPO_ROOT, 'tools', 'examples', 'nats-submit.ts'), body], {
          cwd: REPO_ROOT,
          env: { ...process.env, NATS_URL: nats.url, NATS_USER: user, NATS_PASSWORD: pass },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', (code) => resolve({ code, out }));
      });
    const accepted = await run(JSON.stringify({ goal: 'from the example' }));
    expect(accepted.code).toBe(0);
    const { jobId } = JSON.parse(accepted.out) as { jobId: string };
    await expect(app.get(JobsService).find(jobId, reader('globex'))).resolves.toMatchObject({ jobId });
    const refused = await run(JSON.stringify({ goal: '' }));
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ type: expect.stringMatching(/validation-error$/) });
  }, 60_000);

  it('a payload or header claiming another tenant does not change the tenant', async () => {
    const nc = await tenantClient(users().acme.submitter);
    // A body field is refused outright (the body is POST /v1/jobs's, which has no tenant).
    const claimed = await nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'x', tenant: 'globex' }), { timeout: 10_000 });
    expect(claimed.headers?.get(PROBLEM_HEADER)).toBe('400');
    expect(claimed.json<{ errors: { pointer: string }[] }>().errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/tenant' })]));
    // Headers are not read for the tenant at all: the account the request came from decides.
    const h = headers();
    h.set('Orchestra-Tenant', 'globex');
    const accepted = (await nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'mine' }), { timeout: 10_000, headers: h })).json<{ jobId: string }>();
    const jobs = app.get(JobsService);
    await expect(jobs.find(accepted.jobId, reader('acme'))).resolves.toMatchObject({ jobId: accepted.jobId });
    await expect(jobs.find(accepted.jobId, reader('globex'))).resolves.toBeUndefined();
  });

  it('hostile bodies are problems marked by the header, never a silence or a 500', async () => {
    const nc = await tenantClient(users().acme.submitter);
    const notJson = await nc.request(SUBMIT_SUBJECT, '{"goal": ', { timeout: 10_000 });
    expect(notJson.headers?.get(PROBLEM_HEADER)).toBe('400');
    expect(notJson.json<{ type: string; detail: string }>()).toMatchObject({ type: expect.stringMatching(/malformed-body$/), detail: expect.stringMatching(/JSON/) });
    const deep = await nc.request(SUBMIT_SUBJECT, `{"goal":"x","inputs":{"a":${'['.repeat(500)}${']'.repeat(500)}}}`, { timeout: 10_000 });
    expect(deep.headers?.get(PROBLEM_HEADER)).toBe('400');
  });

  it("the tenant's caps and quotas apply exactly as over HTTP (the same problems, Retry-After included)", async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/tenants/initech',
      headers: { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY) },
      payload: JSON.stringify({ jobsPerMinute: 1 }),
    });
    expect(put.statusCode).toBe(200);
    const nc = await tenantClient(users().initech.submitter);
    const overCap = await nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'g', limits: { maxTao: 1_000_000 } }), { timeout: 10_000 });
    expect(overCap.headers?.get(PROBLEM_HEADER)).toBe('422');
    expect(overCap.json<{ type: string }>().type).toMatch(/limit-exceeds-cap$/);
    expect((await nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'first' }), { timeout: 10_000 })).headers?.get(PROBLEM_HEADER) ?? '').toBe('');
    const limited = await nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'second' }), { timeout: 10_000 });
    expect(limited.headers?.get(PROBLEM_HEADER)).toBe('429');
    expect(limited.json<{ type: string }>().type).toMatch(/rate-limited$/);
    expect(Number(limited.headers?.get('Retry-After'))).toBeGreaterThanOrEqual(1);
  });

  it("a user of the tenant's account without the submit permission is refused by the server", async () => {
    const nc = await tenantClient(users().acme.observer);
    await expect(nc.request(SUBMIT_SUBJECT, JSON.stringify({ goal: 'not allowed' }), { timeout: 5_000 })).rejects.toThrow(/Permissions Violation|permission/i);
  });

  it("a tenant's user cannot reach Orchestra's subjects or another tenant's submit subject", async () => {
    const nc = await tenantClient(users().acme.submitter);
    await expect(nc.request('orch.v1.jobs.submit.globex', JSON.stringify({ goal: 'as globex' }), { timeout: 5_000 })).rejects.toThrow(/Permissions Violation|permission/i);
  });
});
