import { Bus } from '@orchestra/bus';
import { Buckets, JobState, Streams, Subjects, jobEvent, type JobStatus } from '@orchestra/contracts';
import { RawHttpResponse, Trickle, rawHttpExchange } from '@orchestra/testing';
import { ApiUnderTest, startApiUnderTest } from './api.fixture';
import { apiSettings } from './settings';

/**
 * Hostile requests against the real API (Nest + Fastify on a real port) over a real
 * nats-server: each is refused with the exact status, as application/problem+json naming
 * what is wrong, publishes nothing, and leaves the API serving good requests.
 */

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: Array<{ pointer?: string; header?: string; detail: string }>;
}

const KIB = 1024;

describe('api under hostile input', () => {
  let bus: Bus;
  let base: string;
  let port: number;
  // A record budget small enough that a body under the body limit can still overflow it
  // (the default budget always fits a body under the default body limit).
  const settings = apiSettings({
    ORCH_RECORD_BUDGET_BYTES: String(600 * KIB),
    ORCH_HTTP_HEADERS_TIMEOUT_MS: '500',
    ORCH_HTTP_REQUEST_TIMEOUT_MS: '1000',
    ORCH_HTTP_MAX_HEADER_BYTES: '8192',
  });

  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApiUnderTest('api-hostile-spec', settings);
    ({ bus, base } = api);
    port = Number(new URL(base).port);
  });
  afterAll(() => api?.close());

  const post: ApiUnderTest['post'] = (...args) => api.post(...args);

  /** What a request could have published: messages on the jobs and events streams, and stored submissions. */
  const published = async () => ({
    jobs: (await bus.jsm.streams.info(Streams.jobs.name)).state.messages,
    events: (await bus.jsm.streams.info(Streams.events.name)).state.messages,
    submissions: (await (await bus.kv(Buckets.submissions)).status()).values,
  });

  /** Reads a refusal: exact status, problem+json, the problem's status and type slug. */
  async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const problem = (await res.json()) as Problem;
    expect(problem).toMatchObject({ status, type: `https://orchestra.dev/problems/${kind}` });
    return problem;
  }

  /** The API still accepts a good job: 202 and exactly one job.submitted published. */
  async function expectGoodSubmission(): Promise<void> {
    const before = await published();
    const res = await post('/v1/jobs', { goal: 'Analyze these financial filings', inputs: { entities: ['AAPL'] } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { status: string }).status).toBe('queued');
    expect((await published()).jobs).toBe(before.jobs + 1);
  }

  const rawExchange = (head: string, trickle?: Trickle) => rawHttpExchange(port, head, trickle);

  function expectRawProblem(response: RawHttpResponse, status: number, kind: string): Problem {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const problem = JSON.parse(response.body) as Problem;
    expect(problem).toMatchObject({ status, type: `https://orchestra.dev/problems/${kind}` });
    return problem;
  }

  describe('finding 1: bodies that would grow a job record past its budget', () => {
    it('refuses a ~690 KB body with a huge inputs.entities: 413 naming /inputs/entities, nothing published', async () => {
      const entities = Array.from({ length: 60_000 }, (_, i) => `TICKER${i}`);
      const body = JSON.stringify({ goal: 'Analyze these financial filings', inputs: { entities, periods: ['FY2023'] } });
      expect(body.length).toBeGreaterThan(650_000);
      const before = await published();
      const problem = await expectProblem(await post('/v1/jobs', body), 413, 'payload-too-large');
      expect(problem.errors).toEqual([{ pointer: '/inputs/entities', detail: expect.stringContaining(`limited to ${settings.limits.maxBodyBytes}`) }]);
      expect(problem.detail).toContain('/inputs/entities');
      expect(problem.detail).toContain(`${body.length} bytes`);
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });

    it('names a single huge string field the same way', async () => {
      const problem = await expectProblem(await post('/v1/jobs', { goal: 'g', inputs: { notes: 'x'.repeat(300 * KIB) } }), 413, 'payload-too-large');
      expect(problem.errors?.[0].pointer).toBe('/inputs/notes');
    });

    it('refuses a body past the transport limit unread: 413 problem, nothing published', async () => {
      const before = await published();
      const huge = JSON.stringify({ goal: 'g', inputs: { blob: 'x'.repeat(settings.http.maxReadBytes) } });
      const problem = await expectProblem(await post('/v1/jobs', huge), 413, 'payload-too-large');
      expect(problem.detail).toContain(`limit of ${settings.limits.maxBodyBytes} bytes`);
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });

    it('refuses a body under the limit whose job record would exceed its budget: 422 naming the field, nothing published', async () => {
      // ~247 KB: under the 256 KiB body limit, but the playbook copies the entities into its
      // first step, so the record holds them twice, plus room for outputs: over 600 KiB.
      const entities = Array.from({ length: 19_000 }, (_, i) => `T${String(i).padStart(9, '0')}`);
      const body = JSON.stringify({ goal: 'Analyze these financial filings', inputs: { entities } });
      expect(body.length).toBeLessThan(settings.limits.maxBodyBytes);
      const before = await published();
      const problem = await expectProblem(await post('/v1/jobs', body), 422, 'job-record-too-large');
      expect(problem.errors).toEqual([{ pointer: '/inputs/entities', detail: expect.stringContaining(`at most ${settings.limits.recordBudgetBytes} bytes`) }]);
      expect(problem.detail).toContain('/inputs/entities');
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });
  });

  describe('finding 5: parse-time bounds', () => {
    const nested = (depth: number) => `{"goal":"g","inputs":{"deep":${'['.repeat(depth - 2)}1${']'.repeat(depth - 2)}}}`;

    it('refuses nesting of depth 2500 with 400 naming the limit, not a 500; nothing published', async () => {
      const before = await published();
      const problem = await expectProblem(await post('/v1/jobs', nested(2_500)), 400, 'json-too-deep');
      expect(problem.detail).toContain(`more than ${settings.limits.maxJsonDepth} levels`);
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });

    it('accepts nesting up to the limit and refuses one level more', async () => {
      expect((await post('/v1/jobs', nested(settings.limits.maxJsonDepth))).status).toBe(202);
      await expectProblem(await post('/v1/jobs', nested(settings.limits.maxJsonDepth + 1)), 400, 'json-too-deep');
    });

    it.each([
      ['__proto__', '{"goal":"g","inputs":{"__proto__":{"isAdmin":true}}}', '/inputs/__proto__'],
      ['constructor.prototype', '{"goal":"g","plan":[{"id":"a","capability":"code.python","input":{"constructor":{"prototype":{"x":1}}}}]}', '/plan/0/input/constructor/prototype'],
    ])('refuses a %s key with 400 saying the key is forbidden, not "not valid JSON"', async (key, body, pointer) => {
      const before = await published();
      const problem = await expectProblem(await post('/v1/jobs', body), 400, 'forbidden-key');
      expect(problem.detail).toContain(key);
      expect(problem.detail).not.toMatch(/not valid JSON|could not be parsed/);
      expect(problem.errors).toEqual([{ pointer, detail: `the key ${key} is not allowed` }]);
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });

    it('applies the same parser to cancellation bodies', async () => {
      await expectProblem(await post('/v1/jobs/job_x/cancel', '{"reason":"r","__proto__":{}}'), 400, 'forbidden-key');
      await expectProblem(await post('/v1/jobs/job_x/cancel', `{"reason":${'['.repeat(100)}${']'.repeat(100)}}`), 400, 'json-too-deep');
    });
  });

  describe('finding 5: every HTTP error is application/problem+json', () => {
    it('431 for headers over the limit (ORCH_HTTP_MAX_HEADER_BYTES), and not below it', async () => {
      const fits = await api.fetch(`${base}/v1/schemas`, { headers: { 'x-big': 'a'.repeat(6_000) } });
      expect(fits.status).toBe(200);
      const before = await published();
      const { response } = await rawExchange(`GET /v1/schemas HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(settings.http.maxHeaderBytes)}\r\n\r\n`);
      const problem = expectRawProblem(response, 431, 'headers-too-large');
      expect(problem.detail).toMatch(/fewer or shorter headers/);
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });

    it('400 for a path that is not valid percent-encoding', async () => {
      const { response } = await rawExchange('GET /v1/jobs/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(expectRawProblem(response, 400, 'bad-url').detail).toMatch(/percent-encoded/);
      // fetch sends such a path as it is, too.
      await expectProblem(await api.fetch(`${base}/v1/jobs/%E0%A4%A/events`), 400, 'bad-url');
    });

    it('414 for a path segment longer than the router takes', async () => {
      await expectProblem(await api.fetch(`${base}/v1/jobs/${'j'.repeat(500)}`), 414, 'uri-too-long');
    });

    it('400 for bytes that are not HTTP', async () => {
      const { response } = await rawExchange('HELLO THERE\r\n\r\n');
      expectRawProblem(response, 400, 'malformed-request');
    });

    it('404 for unknown routes, 405 with Allow for a wrong method, 415 for other media types, 400 for an empty JSON body', async () => {
      expect((await expectProblem(await api.fetch(`${base}/nothing/here`), 404, 'not-found')).instance).toBe('/nothing/here');
      const wrongMethod = await api.fetch(`${base}/v1/jobs`, { method: 'PUT' });
      expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, POST');
      expect((await expectProblem(wrongMethod, 405, 'method-not-allowed')).detail).toBe('/v1/jobs does not support PUT; use GET or HEAD or POST.');
      const getCancel = await api.fetch(`${base}/v1/jobs/job_x/cancel`);
      expect(getCancel.headers.get('allow')).toBe('POST');
      await expectProblem(getCancel, 405, 'method-not-allowed');
      expect((await expectProblem(await api.fetch(`${base}/v1/jobs/job_x`, { method: 'PUT', body: '{}' }), 405, 'method-not-allowed')).detail).toMatch(/use DELETE or GET/);
      await expectProblem(await api.fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' }), 415, 'unsupported-media-type');
      await expectProblem(await api.fetch(`${base}/v1/jobs`, { method: 'POST' }), 415, 'unsupported-media-type');
      await expectProblem(await post('/v1/jobs', ''), 400, 'malformed-body');
    });
  });

  describe('finding 5: slow clients are cut off', () => {
    it('cuts off a client trickling headers with 408, and serves others meanwhile', async () => {
      const before = await published();
      const exchange = rawExchange('POST /v1/jobs HTTP/1.1\r\nHost: x\r\n', { everyMs: 100, next: (i) => `X-Trickle-${i}: 1\r\n` });
      // While it trickles, good requests are served.
      await expectGoodSubmission();
      const { response, trickled } = await exchange;
      expect(trickled).toBeGreaterThan(0);
      expectRawProblem(response, 408, 'request-timeout');
      expect((await published()).jobs).toBe(before.jobs + 1);
      await expectGoodSubmission();
    });

    it('cuts off a client trickling its body with 408, publishing nothing', async () => {
      const before = await published();
      // With a valid key: without one the body is refused before it is read (auth.spec).
      const { response, trickled } = await rawExchange(
        `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.key.key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"goal":"`,
        {
          everyMs: 100,
          next: () => 'x',
        },
      );
      expect(trickled).toBeGreaterThan(0);
      expectRawProblem(response, 408, 'request-timeout');
      expect(await published()).toEqual(before);
      await expectGoodSubmission();
    });
  });

  describe('finding 5: SSE resume after the end of a finished job', () => {
    /** A job whose record says `status`, with `events` progress events published; returns their stream sequences. */
    async function jobWithEvents(status: JobStatus, events: Array<'job.planned' | 'step.dispatched' | 'job.succeeded'>): Promise<{ jobId: string; seqs: number[] }> {
      const res = await post('/v1/jobs', { goal: `resume ${status}` });
      const { jobId } = (await res.json()) as { jobId: string };
      const now = new Date().toISOString();
      const state: JobState = {
        jobId,
        tenant: 'default',
        goal: `resume ${status}`,
        inputs: {},
        limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 300_000, maxMinerCalls: 32 },
        status,
        submittedAt: now,
        updatedAt: now,
        deadlineAt: now,
        steps: [],
        spend: { totalTao: 0 },
      };
      await (await bus.kv(Buckets.jobs)).put(jobId, JSON.stringify(state));
      const seqs = [(await bus.jsm.streams.getMessage(Streams.events.name, { last_by_subj: Subjects.jobEvents(jobId) }))!.seq];
      for (const event of events) {
        await bus.publish(Subjects.jobEvents(jobId), jobEvent(jobId, { service: 'spec', message: event, event }));
        seqs.push((await bus.jsm.streams.getMessage(Streams.events.name, { last_by_subj: Subjects.jobEvents(jobId) }))!.seq);
      }
      return { jobId, seqs };
    }
    const events = (jobId: string, lastEventId?: number) =>
      api.fetch(`${base}/v1/jobs/${jobId}/events`, { headers: lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) } });

    it('answers 204 at once for a Last-Event-ID past the end of a finished job', async () => {
      const { jobId, seqs } = await jobWithEvents('succeeded', ['job.planned', 'job.succeeded']);
      const lastSeq = (await bus.jsm.streams.info(Streams.events.name)).state.last_seq;
      for (const id of [seqs[2], seqs[2] + 1, lastSeq + 1, 999_999_999]) {
        const res = await events(jobId, id);
        expect([id, res.status]).toEqual([id, 204]);
        expect(await res.text()).toBe('');
      }
    });

    it('ends the stream of a finished job at its last event even when no terminal event was written', async () => {
      // The record says cancelled, but the terminal event never made it to the stream.
      const { jobId, seqs } = await jobWithEvents('cancelled', ['job.planned', 'step.dispatched']);
      expect((await events(jobId, seqs[2])).status).toBe(204);
      expect((await events(jobId, seqs[2] + 10)).status).toBe(204);
      const rest = await events(jobId, seqs[0]);
      expect(rest.status).toBe(200);
      // text() resolves only when the server ends the stream.
      expect((await rest.text()).match(/^id: \d+$/gm)).toEqual([`id: ${seqs[1]}`, `id: ${seqs[2]}`]);
    });

    it('refuses a Last-Event-ID past every event for a running job with 400 naming the header', async () => {
      const { jobId } = await jobWithEvents('running', ['job.planned']);
      const lastSeq = (await bus.jsm.streams.info(Streams.events.name)).state.last_seq;
      const problem = await expectProblem(await events(jobId, lastSeq + 1000), 400, 'validation-error');
      expect(problem.errors).toEqual([expect.objectContaining({ header: 'Last-Event-ID' })]);
      expect(problem.detail).toContain('reconnect without it');
    });
  });
});
