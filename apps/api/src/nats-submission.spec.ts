import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Bus } from '@orchestra/bus';
import { PROBLEM_HEADER, SUBMIT_SUBJECT } from '@orchestra/contracts';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { type NatsConnection, connect, headers } from '@nats-io/transport-node';
import { TEST_ADMIN_KEY, bearer } from './api.fixture';
import { submitOverNats } from '../../../tools/examples/nats-submit';
import { createApiApp } from './app';
import { JobsService } from './jobs.service';
import { apiSettings } from './settings';

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

  it('an Idempotency-Key header replays the same job (through the documented example publisher)', async () => {
    const nc = await tenantClient(users().globex.submitter);
    const body = { goal: 'the same request twice' };
    const first = await submitOverNats(nc, body, { idempotencyKey: 'nats-replay-1' });
    const second = await submitOverNats(nc, body, { idempotencyKey: 'nats-replay-1' });
    expect(first.ok && second.ok && second.job.jobId === first.job.jobId).toBe(true);
    const refused = await submitOverNats(nc, { goal: '' });
    expect(refused).toMatchObject({ ok: false, status: 400, problem: { type: expect.stringMatching(/validation-error$/) } });
  });

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
