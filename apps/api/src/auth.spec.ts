import { Buckets, Streams, Subjects, jobEvent } from '@orchestra/contracts';
import { ApiUnderTest, IssuedKey, TEST_ADMIN_KEY, bearer, startApiUnderTest } from './api.fixture';
import { AuditEntrySchema } from './audit';
import { publishedCounts, writeJobRecord } from './job-record.fixture';

/**
 * Authentication and tenant isolation against the real API over a real nats-server: API
 * keys in, 401/403 with a problem type per condition, and a tenant that cannot reach
 * another tenant's jobs by any route.
 */

interface Problem {
  type: string;
  status: number;
  detail: string;
}

const TYPE = 'https://orchestra.dev/problems/';

async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
  expect([res.status, res.headers.get('content-type')]).toEqual([status, 'application/problem+json; charset=utf-8']);
  const problem = (await res.json()) as Problem;
  expect(problem).toMatchObject({ status, type: `${TYPE}${kind}` });
  return problem;
}

describe('api keys and tenant isolation', () => {
  let api: ApiUnderTest;
  let acme: IssuedKey;
  let globex: IssuedKey;
  const admin = bearer(TEST_ADMIN_KEY);

  beforeAll(async () => {
    api = await startApiUnderTest('api-auth-spec');
    [acme, globex] = await Promise.all([api.issueKey('acme'), api.issueKey('globex')]);
  });
  afterAll(() => api?.close());

  const call = (path: string, init: RequestInit = {}) => fetch(`${api.base}${path}`, init);
  const postJson = (path: string, body: unknown, headers: Record<string, string>) =>
    call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const submitAs = async (key: IssuedKey, body: unknown = { goal: 'g' }) => {
    const res = await postJson('/v1/jobs', body, bearer(key.key));
    expect(res.status).toBe(202);
    return ((await res.json()) as { jobId: string }).jobId;
  };

  describe('keys', () => {
    it('issues a key once (201 with the key), lists it without the key or its hash, and stores only a sha256', async () => {
      const res = await postJson('/v1/keys', { tenant: 'initech', scopes: ['read', 'submit'] }, admin);
      expect(res.status).toBe(201);
      const issued = (await res.json()) as IssuedKey & Record<string, unknown>;
      expect(issued).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{16}$/),
        key: expect.stringMatching(/^orch_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
        tenant: 'initech',
        scopes: ['read', 'submit'],
        createdAt: expect.any(String),
        createdBy: 'bootstrap',
      });
      const stored = await (await api.bus.kv(Buckets.apiKeys)).get(issued.id);
      expect(stored?.string()).not.toContain(issued.key.split('_')[2]);
      expect(stored?.json()).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

      const listed = (await (await call('/v1/keys?tenant=initech', { headers: admin })).json()) as { keys: Array<Record<string, unknown>> };
      expect(listed.keys).toEqual([{ id: issued.id, tenant: 'initech', scopes: ['read', 'submit'], createdAt: issued.createdAt, createdBy: 'bootstrap' }]);
    });

    it('refuses bad key requests naming the field: unknown scope, bad tenant, expiry in the past', async () => {
      const res = await postJson('/v1/keys', { tenant: 'Not Valid', scopes: ['everything'], expiresAt: '2001-01-01T00:00:00Z' }, admin);
      const problem = (await expectProblem(res, 400, 'validation-error')) as Problem & { errors: Array<{ pointer: string }> };
      expect(problem.errors.map((e) => e.pointer).sort()).toEqual(['/expiresAt', '/scopes/0', '/tenant']);
    });

    it('only admins manage keys and tenants (403 insufficient-scope), and the bootstrap key cannot be revoked through the API', async () => {
      await expectProblem(await postJson('/v1/keys', { tenant: 'acme', scopes: ['admin'] }, bearer(acme.key)), 403, 'insufficient-scope');
      await expectProblem(await call('/v1/keys', { headers: bearer(acme.key) }), 403, 'insufficient-scope');
      await expectProblem(await call(`/v1/keys/${globex.id}`, { method: 'DELETE', headers: bearer(acme.key) }), 403, 'insufficient-scope');
      await expectProblem(await call('/v1/tenants/acme', { headers: bearer(acme.key) }), 403, 'insufficient-scope');
      await expectProblem(await call('/v1/keys/bootstrap', { method: 'DELETE', headers: admin }), 409, 'bootstrap-key');
      await expectProblem(await call('/v1/keys/0000000000000000', { method: 'DELETE', headers: admin }), 404, 'key-not-found');
    });
  });

  describe('broken authentication: 401 with the condition named, nothing published', () => {
    it('missing, malformed, unknown, revoked and expired keys', async () => {
      const before = await publishedCounts(api.bus);
      const body = JSON.stringify({ goal: 'g' });
      const submitWith = (headers: Record<string, string>) => call('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

      const missing = await submitWith({});
      await expectProblem(missing, 401, 'missing-credentials');
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', `Bearer ${acme.key} extra`, `Bearer ${acme.key.slice(0, -1)}`, 'Bearer orch_xyz_abc', acme.key]) {
        await expectProblem(await submitWith({ authorization }), 401, 'malformed-credentials');
      }
      // Well-formed but not ours: an unknown id, and a known id with the wrong secret.
      await expectProblem(await submitWith(bearer(`orch_0123456789abcdef_${'A'.repeat(43)}`)), 401, 'invalid-api-key');
      await expectProblem(await submitWith(bearer(`${acme.key.slice(0, 22)}${'B'.repeat(43)}`)), 401, 'invalid-api-key');

      const doomed = await api.issueKey('acme');
      expect((await call('/v1/usage', { headers: bearer(doomed.key) })).status).toBe(200);
      const revoked = await call(`/v1/keys/${doomed.id}`, { method: 'DELETE', headers: admin });
      expect(revoked.status).toBe(200);
      expect(await revoked.json()).toMatchObject({ id: doomed.id, revokedAt: expect.any(String) });
      await expectProblem(await submitWith(bearer(doomed.key)), 401, 'api-key-revoked');

      const brief = await api.issueKey('acme', ['submit', 'read'], new Date(Date.now() + 1_500).toISOString());
      expect((await call('/v1/usage', { headers: bearer(brief.key) })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      expect((await expectProblem(await submitWith(bearer(brief.key)), 401, 'api-key-expired')).detail).toMatch(/expired at/);

      expect(await publishedCounts(api.bus)).toEqual(before);
    });

    it('a key without the route scope gets 403 naming the scope, and nothing is published', async () => {
      const reader = await api.issueKey('acme', ['read']);
      const submitter = await api.issueKey('acme', ['submit']);
      const before = await publishedCounts(api.bus);
      const refused = await expectProblem(await postJson('/v1/jobs', { goal: 'g' }, bearer(reader.key)), 403, 'insufficient-scope');
      expect(refused.detail).toMatch(/"submit" scope/);
      expect(await publishedCounts(api.bus)).toEqual(before);

      const jobId = await submitAs(submitter);
      await expectProblem(await call(`/v1/jobs/${jobId}`, { headers: bearer(submitter.key) }), 403, 'insufficient-scope');
      await expectProblem(await call(`/v1/jobs/${jobId}/cancel`, { method: 'POST', headers: bearer(reader.key) }), 403, 'insufficient-scope');
      await expectProblem(await call(`/v1/jobs/${jobId}`, { method: 'DELETE', headers: bearer(reader.key) }), 403, 'insufficient-scope');
      expect((await call(`/v1/jobs/${jobId}`, { headers: bearer(reader.key) })).status).toBe(200);
    });

    it('refuses a body without a valid key before reading it', async () => {
      const before = await publishedCounts(api.bus);
      // A body over the body limit would be read and parsed to name its largest field (413); unauthenticated, it is never read.
      const big = JSON.stringify({ goal: 'g', inputs: { blob: 'x'.repeat(600_000) } });
      const post = (headers: Record<string, string>) => call('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: big });
      await expectProblem(await post({}), 401, 'missing-credentials');
      await expectProblem(await post(bearer(`orch_0123456789abcdef_${'A'.repeat(43)}`)), 401, 'invalid-api-key');
      await expectProblem(await post(bearer(acme.key)), 413, 'payload-too-large');
      expect(await publishedCounts(api.bus)).toEqual(before);
    });

    it('serves health and the published schemas without a key', async () => {
      expect((await call('/healthz')).status).toBe(200);
      expect((await call('/v1/schemas')).status).toBe(200);
    });
  });

  describe("BOLA: tenant B with tenant A's ids gets exactly what a nonexistent id gets", () => {
    it('on every job route', async () => {
      const running = await submitAs(acme, { goal: 'acme secret plan' });
      const finished = await submitAs(acme, { goal: 'acme finished plan' });
      await writeJobRecord(api.bus, { jobId: finished, tenant: 'acme', status: 'succeeded', spentTao: 0.1 });
      // A job waiting for its tenant's approval: another tenant can neither see nor approve it.
      const waiting = await submitAs(acme, { goal: 'acme plan to approve', approval: 'required' });
      await writeJobRecord(api.bus, { jobId: waiting, tenant: 'acme', status: 'awaiting_approval' });
      await api.bus.publish(Subjects.jobEvents(running), jobEvent(running, { service: 'spec', event: 'job.planned', message: 'planned' }));
      const ghost = 'job_00000000000000000000000000';
      const b = bearer(globex.key);

      const routes = (id: string): Array<[string, RequestInit]> => [
        [`/v1/jobs/${id}`, { headers: b }],
        [`/v1/jobs/${id}/events`, { headers: b }],
        [`/v1/jobs/${id}/cancel`, { method: 'POST', headers: b }],
        [`/v1/jobs/${id}/approve`, { method: 'POST', headers: { ...b, 'content-type': 'application/json' }, body: '{}' }],
        [`/v1/jobs/${id}`, { method: 'DELETE', headers: b }],
      ];
      const before = await publishedCounts(api.bus);
      for (const id of [running, finished, waiting]) {
        for (const [index, [path, init]] of routes(id).entries()) {
          const theirs = await call(path, init);
          const [ghostPath, ghostInit] = routes(ghost)[index];
          const nobodys = await call(ghostPath, ghostInit);
          const [a, g] = [
            (await expectProblem(theirs, 404, 'job-not-found')) as Problem & { instance: string },
            (await expectProblem(nobodys, 404, 'job-not-found')) as Problem & { instance: string },
          ];
          // The same answer but for the id itself: nothing tells B that A's job exists.
          expect({ ...a, detail: a.detail.replace(id, 'ID'), instance: a.instance.replace(id, 'ID') }).toEqual({
            ...g,
            detail: g.detail.replace(ghost, 'ID'),
            instance: g.instance.replace(ghost, 'ID'),
          });
        }
      }
      // Listing and usage: B sees none of A's jobs, and cannot name A's tenant.
      const listed = (await (await call('/v1/jobs', { headers: b })).json()) as { tenant: string; jobs: Array<{ jobId: string }> };
      expect(listed.tenant).toBe('globex');
      expect(listed.jobs.map((j) => j.jobId)).not.toEqual(expect.arrayContaining([running]));
      await expectProblem(await call('/v1/jobs?tenant=acme', { headers: b }), 403, 'insufficient-scope');
      await expectProblem(await call('/v1/usage?tenant=acme', { headers: b }), 403, 'insufficient-scope');
      // Nothing was cancelled, deleted or published on A's behalf.
      expect(await publishedCounts(api.bus)).toEqual(before);
      expect((await call(`/v1/jobs/${finished}`, { headers: bearer(acme.key) })).status).toBe(200);
      expect(await (await call(`/v1/jobs/${waiting}`, { headers: bearer(acme.key) })).json()).toMatchObject({ status: 'awaiting_approval' });
      // Its own tenant approves it: the route works, for the job's owner only.
      const approved = await call(`/v1/jobs/${waiting}/approve`, { method: 'POST', headers: { ...bearer(acme.key), 'content-type': 'application/json' }, body: '{}' });
      expect(approved.status).toBe(202);

      // An admin sees any tenant's job, whole.
      expect(await (await call(`/v1/jobs/${finished}`, { headers: admin })).json()).toMatchObject({ jobId: finished, tenant: 'acme' });
      expect(((await (await call('/v1/jobs?tenant=acme', { headers: admin })).json()) as { jobs: Array<{ jobId: string }> }).jobs.map((j) => j.jobId)).toEqual(
        expect.arrayContaining([running, finished]),
      );
    });
  });

  describe('audit', () => {
    it('appends admin actions to ORCH_AUDIT, which refuses purges and deletes', async () => {
      const issued = await api.issueKey('audited', ['read']);
      expect((await call(`/v1/keys/${issued.id}`, { method: 'DELETE', headers: admin })).status).toBe(200);
      const put = await call('/v1/tenants/audited', { method: 'PUT', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify({ jobsPerMinute: 7 }) });
      expect(put.status).toBe(200);

      const entries = [];
      const stream = await api.bus.jsm.streams.info(Streams.audit.name);
      for (let seq = stream.state.first_seq; seq <= stream.state.last_seq; seq++) {
        const msg = await api.bus.jsm.streams.getMessage(Streams.audit.name, { seq });
        if (msg) entries.push({ subject: msg.subject, entry: AuditEntrySchema.parse(msg.json()) });
      }
      const mine = entries.filter((e) => e.entry.target === issued.id || e.entry.target === 'audited');
      expect(mine.map((e) => [e.subject, e.entry.action, e.entry.actor.keyId])).toEqual([
        ['orch.audit.key.create', 'key.create', 'bootstrap'],
        ['orch.audit.key.revoke', 'key.revoke', 'bootstrap'],
        ['orch.audit.tenant.update', 'tenant.update', 'bootstrap'],
      ]);
      expect(JSON.stringify(entries)).not.toContain(issued.key);
      await expect(api.bus.jsm.streams.purge(Streams.audit.name)).rejects.toThrow();
      await expect(api.bus.jsm.streams.deleteMessage(Streams.audit.name, stream.state.first_seq)).rejects.toThrow();
    });
  });
});
