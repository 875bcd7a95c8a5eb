import { Bus } from '@orchestra/bus';
import { Buckets, JobState, Streams, Subjects, jobEvent, type JobEventPayload } from '@orchestra/contracts';
import { ApiUnderTest, IssuedKey, bearer, startApiUnderTest } from './api.fixture';

/** One parsed Server-Sent Event. */
interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** Parses an SSE body into events (comments and blank frames are dropped). */
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((frame) => frame.split('\n').filter((line) => line && !line.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const field = (name: string) =>
        lines
          .filter((l) => l.startsWith(`${name}: `))
          .map((l) => l.slice(name.length + 2))
          .join('\n');
      return { id: field('id'), event: field('event'), data: field('data') };
    });
}

/** An RFC 9457 problem as the API renders it. */
interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: Array<{ pointer?: string; header?: string; detail: string }>;
}

const problemOf = async (res: Response) => (await res.json()) as Problem;

describe('api', () => {
  let bus: Bus;
  let base: string;

  let api: ApiUnderTest;
  let acme: IssuedKey;
  let globex: IssuedKey;
  beforeAll(async () => {
    api = await startApiUnderTest('api-spec');
    ({ bus, base } = api);
    [acme, globex] = await Promise.all([api.issueKey('acme'), api.issueKey('globex')]);
  });
  afterAll(() => api?.close());

  const post: ApiUnderTest['post'] = (...args) => api.post(...args);
  const jobsStreamMessages = async () => (await bus.jsm.streams.info(Streams.jobs.name)).state.messages;
  const submit = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await post('/v1/jobs', body, headers);
    return { res, json: (await res.json()) as { jobId: string; status: string; links: Record<string, string> } };
  };
  const progress = (jobId: string, payload: Omit<JobEventPayload, 'service' | 'message'>) =>
    bus.publish(Subjects.jobEvents(jobId), jobEvent(jobId, { service: 'spec', message: payload.event, ...payload }));

  describe('rejects invalid submissions without publishing', () => {
    const cases: Array<[string, string, unknown]> = [
      ['missing goal', '/goal', { inputs: {} }],
      ['goal not a string', '/goal', { goal: 42 }],
      ['negative limits.maxTao', '/limits/maxTao', { goal: 'g', limits: { maxTao: -1 } }],
      ['bad plan step id', '/plan/0/id', { goal: 'g', plan: [{ id: 'Bad Id!', capability: 'data.financials', input: {} }] }],
      ['unknown field', '/limit', { goal: 'g', limit: {} }],
    ];
    it.each(cases)('%s → 400 naming %s', async (_name, pointer, body) => {
      const res = await post('/v1/jobs', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await problemOf(res);
      expect(problem).toMatchObject({ status: 400, title: 'Invalid request', instance: '/v1/jobs' });
      expect(problem.type).toMatch(/validation-error$/);
      expect(problem.detail).toContain(pointer);
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
    });

    it('rejects an over-long Idempotency-Key by header', async () => {
      const res = await post('/v1/jobs', { goal: 'g' }, { 'idempotency-key': 'k'.repeat(256) });
      expect(res.status).toBe(400);
      const problem = await problemOf(res);
      expect(problem.errors?.map((e) => e.header)).toEqual(['Idempotency-Key']);
    });

    it('answers malformed JSON 400, wrong content type 415 and an oversized body 413, as problems', async () => {
      const malformed = await post('/v1/jobs', '{"goal": ');
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await problemOf(malformed)).type).toMatch(/malformed-body$/);

      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await api.fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': type }, body: 'goal=g' });
        expect([type, res.status]).toEqual([type, 415]);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }

      const huge = await post('/v1/jobs', { goal: 'g', inputs: { blob: 'x'.repeat(1024 * 1024) } });
      expect(huge.status).toBe(413);
      expect((await problemOf(huge)).title).toBe('Payload too large');
    });

    it('published nothing on ORCH_JOBS', async () => {
      expect(await jobsStreamMessages()).toBe(0);
    });
  });

  describe('submission', () => {
    it('accepts a valid job: 202, submission in KV, one JobSubmitted on the stream', async () => {
      const before = await jobsStreamMessages();
      const { res, json } = await submit({ goal: 'Summarise ACME', inputs: { ticker: 'ACME' }, limits: { maxTao: 0.5 } }, bearer(acme.key));
      expect(res.status).toBe(202);
      expect(json.jobId).toMatch(/^job_[0-9A-Z]{26}$/);
      expect(json).toEqual({
        jobId: json.jobId,
        status: 'queued',
        links: { self: `/v1/jobs/${json.jobId}`, events: `/v1/jobs/${json.jobId}/events`, cancel: `/v1/jobs/${json.jobId}/cancel` },
      });
      expect(res.headers.get('location')).toBe(`/v1/jobs/${json.jobId}`);

      const stored = (await (await bus.kv(Buckets.submissions)).get(json.jobId))?.json();
      expect(stored).toMatchObject({
        jobId: json.jobId,
        tenant: 'acme',
        goal: 'Summarise ACME',
        inputs: { ticker: 'ACME' },
        limits: { maxTao: 0.5, maxAttemptsPerStep: 4, deadlineMs: 300_000 },
      });

      expect(await jobsStreamMessages()).toBe(before + 1);
      const msg = await bus.jsm.streams.getMessage(Streams.jobs.name, { last_by_subj: Subjects.jobSubmitted });
      expect(msg?.json()).toMatchObject({ type: 'job.submitted', id: `job.submitted:${json.jobId}`, jobId: json.jobId, payload: { job: stored } });
    });

    it('replays an Idempotency-Key with the same body: 200, same job, no second message', async () => {
      const body = { goal: 'once only', inputs: { a: 1, b: 2 } };
      const first = await submit(body, { 'idempotency-key': 'k-1' });
      expect(first.res.status).toBe(202);
      const after = await jobsStreamMessages();
      // Key order does not make it a different body.
      const again = await submit({ inputs: { b: 2, a: 1 }, goal: 'once only' }, { 'idempotency-key': 'k-1' });
      expect(again.res.status).toBe(200);
      expect(again.json).toMatchObject({ jobId: first.json.jobId, status: 'queued' });
      expect(await jobsStreamMessages()).toBe(after);
    });

    it('rejects an Idempotency-Key reused with a different body: 422', async () => {
      await submit({ goal: 'first' }, { 'idempotency-key': 'k-2' });
      const after = await jobsStreamMessages();
      const res = await post('/v1/jobs', { goal: 'second' }, { 'idempotency-key': 'k-2' });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await problemOf(res)).detail).toMatch(/already used with a different request body/);
      expect(await jobsStreamMessages()).toBe(after);
    });

    it('scopes idempotency keys by tenant', async () => {
      const a = await submit({ goal: 'same' }, { 'idempotency-key': 'k-3', ...bearer(acme.key) });
      const b = await submit({ goal: 'same' }, { 'idempotency-key': 'k-3', ...bearer(globex.key) });
      expect([a.res.status, b.res.status]).toEqual([202, 202]);
      expect(a.json.jobId).not.toBe(b.json.jobId);
    });

    it('turns concurrent identical requests into one job and one message', async () => {
      const before = await jobsStreamMessages();
      const results = await Promise.all(Array.from({ length: 6 }, () => submit({ goal: 'race' }, { 'idempotency-key': 'k-race' })));
      expect(new Set(results.map((r) => r.json.jobId)).size).toBe(1);
      expect(results.map((r) => r.res.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
      expect(await jobsStreamMessages()).toBe(before + 1);
    });
  });

  describe('reading jobs', () => {
    it('404s an unknown job and 400s a malformed id, as problems', async () => {
      const missing = await api.fetch(`${base}/v1/jobs/job_nope`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await missing.json()).toMatchObject({ status: 404, title: 'Job not found', instance: '/v1/jobs/job_nope' });

      const bad = await api.fetch(`${base}/v1/jobs/not.an.id`);
      expect(bad.status).toBe(400);
    });

    it('shows a submitted job as queued until the planner records it, then the record', async () => {
      const { json } = await submit({ goal: 'look at me' });
      const queued = await api.fetch(`${base}/v1/jobs/${json.jobId}`);
      expect(queued.status).toBe(200);
      expect(await queued.json()).toEqual({ jobId: json.jobId, status: 'queued', goal: 'look at me', submittedAt: expect.any(String) });

      const now = new Date().toISOString();
      const state: JobState = {
        jobId: json.jobId,
        tenant: 'default',
        goal: 'look at me',
        inputs: {},
        limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 },
        status: 'running',
        submittedAt: now,
        updatedAt: now,
        deadlineAt: now,
        steps: [
          {
            id: 'data',
            capability: 'data.financials',
            netuid: 13,
            schemaId: 'data.financials@1',
            input: {},
            deps: [],
            maxAttempts: 4,
            status: 'running',
            attempts: [{ attempt: 1, status: 'dispatched', rankOffset: 0, dispatchedAt: now, uid: 3, hedgedUids: [] }],
          },
        ],
        spend: { totalTao: 0.01 },
      };
      await (await bus.kv(Buckets.jobs)).put(json.jobId, JSON.stringify(state));
      expect(await (await api.fetch(`${base}/v1/jobs/${json.jobId}`)).json()).toEqual(state);
    });

    it("hides one tenant's jobs from another (404 on read, events and cancel), whatever tenant header it sends", async () => {
      const { json } = await submit({ goal: 'private' }, bearer(acme.key));
      expect((await api.fetch(`${base}/v1/jobs/${json.jobId}`, { headers: bearer(acme.key) })).status).toBe(200);
      for (const headers of [{}, bearer(globex.key), { ...bearer(globex.key), 'x-orchestra-tenant': 'acme' }] as Array<Record<string, string>>) {
        expect((await api.fetch(`${base}/v1/jobs/${json.jobId}`, { headers })).status).toBe(404);
        expect((await api.fetch(`${base}/v1/jobs/${json.jobId}/events`, { headers })).status).toBe(404);
        expect((await api.fetch(`${base}/v1/jobs/${json.jobId}/cancel`, { method: 'POST', headers })).status).toBe(404);
      }
    });

    it('reports the current status on an idempotent replay', async () => {
      const { json } = await submit({ goal: 'status on replay' }, { 'idempotency-key': 'k-status' });
      const record = (await (await bus.kv(Buckets.submissions)).get(json.jobId))?.json<Record<string, unknown>>();
      await (
        await bus.kv(Buckets.jobs)
      ).put(json.jobId, JSON.stringify({ ...record, status: 'succeeded', updatedAt: record?.submittedAt, deadlineAt: record?.submittedAt, steps: [], spend: { totalTao: 0 } }));
      const again = await submit({ goal: 'status on replay' }, { 'idempotency-key': 'k-status' });
      expect(again.res.status).toBe(200);
      expect(again.json).toMatchObject({ jobId: json.jobId, status: 'succeeded' });
    });
  });

  describe('cancellation', () => {
    it('404s an unknown job, publishes JobCancelRequested for a known one', async () => {
      expect((await post('/v1/jobs/job_unknown/cancel', {})).status).toBe(404);
      const { json } = await submit({ goal: 'cancel me' });
      const res = await post(`/v1/jobs/${json.jobId}/cancel`, { reason: 'changed my mind' });
      expect(res.status).toBe(202);
      const msg = await bus.jsm.streams.getMessage(Streams.jobs.name, { last_by_subj: Subjects.jobCancel });
      expect(msg?.json()).toMatchObject({ type: 'job.cancel', id: `job.cancel:${json.jobId}`, payload: { reason: 'changed my mind' } });

      const bodyless = await api.fetch(`${base}/v1/jobs/${json.jobId}/cancel`, { method: 'POST' });
      expect(bodyless.status).toBe(202);
    });
  });

  describe('progress events (SSE)', () => {
    it('404s the events of an unknown job', async () => {
      const res = await api.fetch(`${base}/v1/jobs/job_ghost/events`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });

    it('streams events in order with stream-sequence ids, closes after the terminal event, resumes after Last-Event-ID', async () => {
      const { json } = await submit({ goal: 'watch me' });
      const jobId = json.jobId;

      // Open the stream while the job is still running: events arrive live.
      const live = await api.fetch(`${base}/v1/jobs/${jobId}/events`);
      expect(live.status).toBe(200);
      expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await progress(jobId, { event: 'job.planned' });
      await progress(jobId, { event: 'step.dispatched', stepId: 'data', attempt: 1 });
      await progress(jobId, { event: 'step.verified', stepId: 'data', attempt: 1 });
      await progress(jobId, { event: 'job.succeeded' });
      // Anything after the terminal event is not part of the stream.
      await progress(jobId, { event: 'job.failed' });
      // A foreign job's events must not leak in.
      await progress('job_other', { event: 'job.planned' });

      const events = parseSse(await live.text()); // resolves only once the server closes the stream
      expect(events.map((e) => e.event)).toEqual(['job.accepted', 'job.planned', 'step.dispatched', 'step.verified', 'job.succeeded']);
      const ids = events.map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      for (const e of events) {
        const envelope = JSON.parse(e.data);
        expect(envelope).toMatchObject({ type: 'job.event', jobId, payload: { event: e.event } });
        const stored = await bus.jsm.streams.getMessage(Streams.events.name, { seq: Number(e.id) });
        expect(stored?.json()).toEqual(envelope);
      }
      expect(JSON.parse(events[0].data).payload).toMatchObject({ service: 'api', message: 'accepted: "watch me"' });

      // Resume after the second event, by header and by query parameter.
      const byHeader = await api.fetch(`${base}/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': events[1].id } });
      expect(parseSse(await byHeader.text()).map((e) => e.event)).toEqual(['step.dispatched', 'step.verified', 'job.succeeded']);
      const byQuery = await api.fetch(`${base}/v1/jobs/${jobId}/events?lastEventId=${events[3].id}`);
      expect(parseSse(await byQuery.text()).map((e) => e.id)).toEqual([events[4].id]);

      // Resuming after the terminal event: nothing more will come, 204 stops EventSource reconnecting.
      const done = await api.fetch(`${base}/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': events[4].id } });
      expect(done.status).toBe(204);

      const badId = await api.fetch(`${base}/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': 'abc' } });
      expect(badId.status).toBe(400);
    });

    it('stops the consumer when the client disconnects', async () => {
      const { json } = await submit({ goal: 'walk away' });
      const abort = new AbortController();
      const res = await api.fetch(`${base}/v1/jobs/${json.jobId}/events`, { signal: abort.signal });
      const reader = res.body!.getReader();
      await reader.read(); // the job.accepted event
      const consumers = async () => (await bus.jsm.streams.info(Streams.events.name)).state.consumer_count;
      expect(await consumers()).toBe(1);
      abort.abort();
      const deadline = Date.now() + 5_000;
      while ((await consumers()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await consumers()).toBe(0);
    });
  });

  describe('other endpoints', () => {
    it('serves schema ids and JSON Schemas', async () => {
      const list = (await (await api.fetch(`${base}/v1/schemas`)).json()) as { schemas: string[] };
      expect(list.schemas).toContain('data.financials@1');
      const one = await api.fetch(`${base}/v1/schemas/data.financials@1`);
      expect(one.status).toBe(200);
      expect(one.headers.get('content-type')).toMatch(/^application\/schema\+json/);
      expect(((await one.json()) as { $id: string }).$id).toMatch(/data\.financials@1$/);
      expect((await api.fetch(`${base}/v1/schemas/nope@9`)).status).toBe(404);
    });

    it('answers health, readiness and unknown routes', async () => {
      expect((await api.fetch(`${base}/healthz`)).status).toBe(200);
      expect(await (await api.fetch(`${base}/readyz`)).json()).toEqual({ ready: true, checks: { nats: 'up' } });
      const unknown = await api.fetch(`${base}/v2/nothing`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await problemOf(unknown)).instance).toBe('/v2/nothing');
    });
  });
});
