import { ApiUnderTest, IssuedKey, TEST_ADMIN_KEY, startApiUnderTest } from '../api.fixture';
import { writeJobRecord } from '../job-record.fixture';
import { RouteTable } from '../routes';
import { API_SETTINGS, type ApiSettings } from '../settings';
import { UndocumentedRouteError, buildOpenApi, documentedRoutes, openApiPath, routeProblems } from './openapi';
import { specValidator } from './openapi.fixture';
import { ROUTE_DOCS } from './route-docs';

type Spec = ReturnType<typeof buildOpenApi>;
type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };

/** Statuses documented but not provoked here, each with why. */
const NOT_EXERCISED: Record<string, string> = {
  '500': 'internal-error: a bug by definition; the problem filter spec covers its rendering',
  'GET /readyz 503': 'readiness without NATS: the service runtime spec covers it',
};

describe('OpenAPI document', () => {
  let api: ApiUnderTest;
  let spec: Spec;
  let validate: ReturnType<typeof specValidator>;
  let settings: ApiSettings;
  const keys: Record<'readOnly' | 'submitOnly' | 'throttled', IssuedKey> = {} as never;
  const exercised = new Set<string>();

  beforeAll(async () => {
    api = await startApiUnderTest('openapi-spec');
    settings = api.app.get(API_SETTINGS);
    const res = await fetch(`${api.base}/openapi.json`);
    expect(res.status).toBe(200);
    spec = (await res.json()) as Spec;
    validate = specValidator(spec);
    [keys.readOnly, keys.submitOnly, keys.throttled] = await Promise.all([
      api.issueKey('default', ['read']),
      api.issueKey('default', ['submit']),
      api.issueKey('throttled', ['submit', 'read']),
    ]);
  });
  afterAll(() => api?.close());

  /**
   * Sends a request, checks it got `status`, and that the answer is what the document says
   * for that route and status: its media type, and a JSON body valid against its schema.
   */
  async function expectDocumented(route: string, status: number, path: string, init: RequestInit & { key?: string | null } = {}): Promise<{ res: Response; text: string }> {
    const [method] = route.split(' ');
    const headers = new Headers(init.headers);
    if (init.key !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${init.key ?? api.key.key}`);
    const res = await fetch(`${api.base}${path}`, { ...init, method, headers });
    const text = await res.text();
    expect({ route, status: res.status, body: text.slice(0, 500) }).toEqual({ route, status, body: expect.any(String) });
    const operation = (spec.paths as Record<string, Record<string, Operation>>)[openApiPath(route.split(' ')[1])]?.[method.toLowerCase()];
    const documented = operation?.responses[String(status)];
    expect({ route, status, documented: documented !== undefined }).toEqual({ route, status, documented: true });
    exercised.add(`${route} ${status}`);
    const media = Object.keys(documented.content ?? {})[0];
    if (media === undefined) {
      expect(text).toBe('');
      return { res, text };
    }
    expect(res.headers.get('content-type')?.split(';')[0]).toBe(media);
    if (documented.content?.[media].schema) {
      expect({ route, status, errors: validate(route, status, media, JSON.parse(text)) ?? null }).toEqual({ route, status, errors: null });
    }
    return { res, text };
  }

  const json = (body: unknown, extra: Record<string, string> = {}): RequestInit => ({
    headers: { 'content-type': 'application/json', ...extra },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const submitJob = async (goal: string) => {
    const { text } = await expectDocumented('POST /v1/jobs', 202, '/v1/jobs', json({ goal }));
    return (JSON.parse(text) as { jobId: string }).jobId;
  };

  it('documents every route the app registers, and only those', () => {
    const registered = documentedRoutes(api.app.get(RouteTable).registered);
    expect(registered.length).toBeGreaterThanOrEqual(Object.keys(ROUTE_DOCS).length);
    const inSpec = Object.entries(spec.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(inSpec.sort()).toEqual(registered.map((r) => `${r.split(' ')[0]} ${openApiPath(r.split(' ')[1])}`).sort());
    expect(Object.keys(ROUTE_DOCS).sort()).toEqual(registered);
  });

  it('refuses to describe a route without documentation, naming it and where to add it', () => {
    const routes = [...api.app.get(RouteTable).registered, { method: 'POST', url: '/v1/files' }];
    expect(() => buildOpenApi(routes)).toThrow(UndocumentedRouteError);
    expect(() => buildOpenApi(routes)).toThrow(/POST \/v1\/files.*route-docs\.ts/);
  });

  it('is OpenAPI 3.1 with the bearer scheme on every route but the public ones', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    for (const [key, doc] of Object.entries(ROUTE_DOCS)) {
      const [method, url] = key.split(' ');
      const op = (spec.paths as Record<string, Record<string, { security: unknown[] }>>)[openApiPath(url)][method.toLowerCase()];
      expect({ key, security: op.security }).toEqual({ key, security: doc.scope === 'public' ? [] : [{ bearer: [] }] });
    }
  });

  it('serves a self-contained docs page that renders the document', async () => {
    const { res, text: html } = await expectDocumented('GET /docs', 200, '/docs', { key: null });
    expect(html).toContain("fetch('/openapi.json')");
    // No CDN: the page loads nothing from elsewhere.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    await expectDocumented('GET /openapi.json', 200, '/openapi.json', { key: null });
  });

  it('answers every documented status as documented, against a real API', async () => {
    // Public routes.
    await expectDocumented('GET /healthz', 200, '/healthz', { key: null });
    await expectDocumented('GET /readyz', 200, '/readyz', { key: null });
    await expectDocumented('GET /v1/schemas', 200, '/v1/schemas', { key: null });
    await expectDocumented('GET /v1/schemas/:id', 200, '/v1/schemas/data.financials@2', { key: null });
    await expectDocumented('GET /v1/schemas/:id', 404, '/v1/schemas/nope@1', { key: null });

    // Jobs.
    const queued = await submitJob('a queued job');
    await expectDocumented('POST /v1/jobs', 202, '/v1/jobs', json({ goal: 'once' }, { 'idempotency-key': 'k1' }));
    await expectDocumented('POST /v1/jobs', 200, '/v1/jobs', json({ goal: 'once' }, { 'idempotency-key': 'k1' }));
    await expectDocumented('POST /v1/jobs', 400, '/v1/jobs', json({ gaol: 'typo' }));
    await expectDocumented('POST /v1/jobs', 422, '/v1/jobs', json({ goal: 'too dear', limits: { maxTao: 500 } }));
    await expectDocumented('PUT /v1/tenants/:tenant', 200, '/v1/tenants/throttled', { ...json({ jobsPerMinute: 1 }), key: TEST_ADMIN_KEY });
    await expectDocumented('POST /v1/jobs', 202, '/v1/jobs', { ...json({ goal: 'first' }), key: keys.throttled.key });
    await expectDocumented('POST /v1/jobs', 429, '/v1/jobs', { ...json({ goal: 'second' }), key: keys.throttled.key });

    await expectDocumented('GET /v1/jobs', 200, '/v1/jobs?limit=5');
    await expectDocumented('GET /v1/jobs', 400, '/v1/jobs?limit=0');
    await expectDocumented('GET /v1/jobs/:id', 200, `/v1/jobs/${queued}`);
    await expectDocumented('GET /v1/jobs/:id', 400, '/v1/jobs/not.an.id');
    await expectDocumented('GET /v1/jobs/:id', 404, '/v1/jobs/job_ghost');

    // A job the planner (absent here) has failed: its record, and its one event (job.accepted).
    const failed = await submitJob('a job that fails');
    await writeJobRecord(api.bus, { jobId: failed, tenant: 'default', status: 'failed' });
    await expectDocumented('GET /v1/jobs/:id', 200, `/v1/jobs/${failed}`);
    // The stream ends after the job's last event, since the job has ended.
    const stream = await expectDocumented('GET /v1/jobs/:id/events', 200, `/v1/jobs/${failed}/events`);
    const lastId = stream.text.match(/^id: (\d+)$/m)?.[1];
    expect(stream.text).toContain('event: job.accepted');
    await expectDocumented('GET /v1/jobs/:id/events', 204, `/v1/jobs/${failed}/events`, { headers: { 'last-event-id': String(lastId) } });
    await expectDocumented('GET /v1/jobs/:id/events', 400, `/v1/jobs/${failed}/events`, { headers: { 'last-event-id': 'yesterday' } });
    await expectDocumented('GET /v1/jobs/:id/events', 404, '/v1/jobs/job_ghost/events');

    const waiting = await submitJob('a job to approve');
    await writeJobRecord(api.bus, { jobId: waiting, tenant: 'default', status: 'awaiting_approval' });
    await expectDocumented('POST /v1/jobs/:id/approve', 202, `/v1/jobs/${waiting}/approve`, json({}));
    await expectDocumented('POST /v1/jobs/:id/approve', 409, `/v1/jobs/${queued}/approve`, json({}));
    await expectDocumented('POST /v1/jobs/:id/approve', 400, `/v1/jobs/${queued}/approve`, json({ plan: 'all of it' }));
    await expectDocumented('POST /v1/jobs/:id/approve', 404, '/v1/jobs/job_ghost/approve', json({}));

    await expectDocumented('POST /v1/jobs/:id/cancel', 202, `/v1/jobs/${queued}/cancel`, json({ reason: 'changed my mind' }));
    await expectDocumented('POST /v1/jobs/:id/cancel', 400, `/v1/jobs/${queued}/cancel`, json({ reason: 'x'.repeat(501) }));
    await expectDocumented('POST /v1/jobs/:id/cancel', 404, '/v1/jobs/job_ghost/cancel', json({}));

    await expectDocumented('DELETE /v1/jobs/:id', 409, `/v1/jobs/${queued}`);
    await expectDocumented('DELETE /v1/jobs/:id', 200, `/v1/jobs/${failed}`);
    await expectDocumented('DELETE /v1/jobs/:id', 404, `/v1/jobs/${failed}`);
    await expectDocumented('DELETE /v1/jobs/:id', 400, '/v1/jobs/not.an.id');

    await expectDocumented('GET /v1/subnets', 200, '/v1/subnets');
    await expectDocumented('GET /v1/usage', 200, '/v1/usage');
    await expectDocumented('GET /v1/usage', 400, '/v1/usage?tenant=Not%20A%20Tenant', { key: TEST_ADMIN_KEY });

    // Admin.
    const admin = { key: TEST_ADMIN_KEY };
    await expectDocumented('POST /v1/keys', 201, '/v1/keys', { ...json({ tenant: 'acme', scopes: ['read'] }), ...admin });
    await expectDocumented('POST /v1/keys', 400, '/v1/keys', { ...json({ tenant: 'acme', scopes: ['everything'] }), ...admin });
    await expectDocumented('GET /v1/keys', 200, '/v1/keys', admin);
    await expectDocumented('GET /v1/keys', 400, '/v1/keys?tenant=NO', admin);
    await expectDocumented('DELETE /v1/keys/:id', 200, `/v1/keys/${keys.readOnly.id}`, admin);
    await expectDocumented('DELETE /v1/keys/:id', 404, '/v1/keys/0123456789abcdef', admin);
    await expectDocumented('DELETE /v1/keys/:id', 409, '/v1/keys/bootstrap', admin);
    await expectDocumented('DELETE /v1/keys/:id', 400, '/v1/keys/xyz', admin);
    await expectDocumented('GET /v1/tenants/:tenant', 200, '/v1/tenants/throttled', admin);
    await expectDocumented('GET /v1/tenants/:tenant', 400, '/v1/tenants/NO', admin);
    await expectDocumented('PUT /v1/tenants/:tenant', 400, '/v1/tenants/throttled', { ...json({ jobsPerMinute: -1 }), ...admin });

    // What every authenticated route answers: no key, a key without the scope; and every body route: too large, not JSON.
    // A key without the route's scope: `default`'s (submit, read, cancel) lacks admin, the submit-only one lacks read,
    // `throttled`'s (submit, read) lacks cancel, and a read-only one lacks submit.
    const reader = await api.issueKey('default', ['read']);
    const lacking = { admin: api.key.key, read: keys.submitOnly.key, cancel: keys.throttled.key, submit: reader.key };
    const samplePath = (url: string) => url.replace(':id', url.startsWith('/v1/keys') ? '0123456789abcdef' : queued).replace(':tenant', 'acme');
    for (const [route, doc] of Object.entries(ROUTE_DOCS)) {
      const url = samplePath(route.split(' ')[1]);
      const body = doc.body ? json({}) : {};
      if (doc.scope !== 'public') {
        await expectDocumented(route, 401, url, { ...body, key: null });
        await expectDocumented(route, 403, url, { ...body, key: lacking[doc.scope] });
      }
      if (doc.body) {
        const key = doc.scope === 'admin' ? TEST_ADMIN_KEY : api.key.key;
        await expectDocumented(route, 413, url, { ...json(`{"goal":"${'x'.repeat(settings.limits.maxBodyBytes + 10)}"}`), key });
        await expectDocumented(route, 415, url, { headers: { 'content-type': 'text/plain' }, body: 'hello', key });
      }
    }

    const missing = Object.entries(ROUTE_DOCS).flatMap(([route, doc]) =>
      [...Object.keys(doc.responses), ...Object.keys(routeProblems(doc))]
        .map((status) => `${route} ${status}`)
        .filter((key) => !exercised.has(key) && !NOT_EXERCISED[key] && !NOT_EXERCISED[key.split(' ').pop() as string]),
    );
    expect(missing).toEqual([]);
  });

  it('validates for real: an answer that breaks its schema is caught', () => {
    const links = { self: '/v1/jobs/j1', events: '/v1/jobs/j1/events', cancel: '/v1/jobs/j1/cancel' };
    expect(validate('POST /v1/jobs', 202, 'application/json', { jobId: 'j1', status: 'queued', links })).toBeUndefined();
    expect(validate('POST /v1/jobs', 202, 'application/json', { jobId: 'j1', status: 'sleeping' })).toBeDefined();
    // A problem whose type the route does not document.
    expect(
      validate('POST /v1/jobs', 429, 'application/problem+json', { type: 'https://orchestra.dev/problems/job-not-found', title: 't', status: 429, detail: 'd' }),
    ).toBeDefined();
  });

  it('names the problem types each status may carry (the real answers above were checked against them)', () => {
    const submit = (spec.paths as Record<string, Record<string, Operation>>)['/v1/jobs'].post.responses['429'];
    expect(JSON.stringify(submit)).toContain('https://orchestra.dev/problems/too-many-concurrent-jobs');
  });
});
