import { getObject, putObject } from '@orchestra/bus';
import { Buckets, ObjectBuckets, Streams, Subjects, jobEvent } from '@orchestra/contracts';
import { ApiUnderTest, IssuedKey, bearer, startApiUnderTest } from './api.fixture';
import { writeJobRecord } from './job-record.fixture';

/** Listing a tenant's jobs and deleting finished ones, against the real API over a real nats-server. */

interface Page {
  tenant: string;
  jobs: Array<{ jobId: string; status: string; goal: string }>;
  nextCursor?: string;
}

describe('job listing and deletion', () => {
  let api: ApiUnderTest;
  let key: IssuedKey;
  let other: IssuedKey;

  beforeAll(async () => {
    api = await startApiUnderTest('api-job-list-spec');
    [key, other] = await Promise.all([api.issueKey('lister'), api.issueKey('neighbour')]);
  });
  afterAll(() => api?.close());

  const call = (path: string, init: RequestInit = {}, as: IssuedKey = key) =>
    fetch(`${api.base}${path}`, { ...init, headers: { ...bearer(as.key), ...(init.headers as Record<string, string>) } });
  const submit = async (goal: string, headers: Record<string, string> = {}, as: IssuedKey = key) => {
    const res = await call('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ goal }) }, as);
    expect(res.status).toBe(202);
    return ((await res.json()) as { jobId: string }).jobId;
  };
  const page = async (query: string, as: IssuedKey = key) => {
    const res = await call(`/v1/jobs${query}`, {}, as);
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };

  it('lists the tenant’s jobs newest first, page by page with a cursor, filtered by status', async () => {
    const ids: string[] = [];
    // Job ids order by their millisecond: one per millisecond at least.
    for (let i = 0; i < 5; i++) {
      ids.push(await submit(`job ${i}`));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await submit('not yours', {}, other);
    await writeJobRecord(api.bus, { jobId: ids[1], tenant: 'lister', status: 'succeeded' });
    await writeJobRecord(api.bus, { jobId: ids[3], tenant: 'lister', status: 'running' });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const next = await page(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(next.tenant).toBe('lister');
      expect(next.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...next.jobs.map((j) => j.jobId));
      cursor = next.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);

    expect((await page('?status=succeeded')).jobs).toEqual([expect.objectContaining({ jobId: ids[1], status: 'succeeded' })]);
    expect((await page('?status=running')).jobs.map((j) => j.jobId)).toEqual([ids[3]]);
    expect((await page('?status=queued')).jobs.map((j) => j.jobId)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await page('', other)).jobs.map((j) => j.goal)).toEqual(['not yours']);
  });

  it('refuses a bad query naming each parameter', async () => {
    const res = await call('/v1/jobs?status=done&limit=0&cursor=..');
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ parameter: string }> };
    expect(problem.errors.map((e) => e.parameter).sort()).toEqual(['cursor', 'limit', 'status']);
  });

  it('deletes a finished job: record, submission, stored outputs, events, index and Idempotency-Key; 409 while it runs', async () => {
    const jobId = await submit('to be deleted', { 'idempotency-key': 'delete-me' });
    await writeJobRecord(api.bus, { jobId, tenant: 'lister', status: 'running' });
    const running = await call(`/v1/jobs/${jobId}`, { method: 'DELETE' });
    expect(running.status).toBe(409);
    expect(await running.json()).toMatchObject({ type: 'https://orchestra.dev/problems/job-not-finished' });

    // The planner's stored outputs: an attempt's output and the result, by reference.
    const output = await putObject(api.bus, ObjectBuckets.outputs, `${jobId}/steps/data/1/output`, { rows: ['x'.repeat(100)] });
    const result = await putObject(api.bus, ObjectBuckets.outputs, `${jobId}/result`, { report: 'big' });
    const attempt = { attempt: 1, status: 'verified' as const, rankOffset: 0, dispatchedAt: new Date().toISOString(), uid: 1, hedgedUids: [] };
    const step = {
      id: 'data',
      capability: 'data.financials',
      netuid: 13,
      schemaId: 'data.financials@1',
      input: {},
      deps: [],
      maxAttempts: 4,
      status: 'verified' as const,
      attempts: [attempt],
      output,
    };
    await writeJobRecord(api.bus, { jobId, tenant: 'lister', status: 'succeeded', steps: [step], result });
    await api.bus.publish(Subjects.jobEvents(jobId), jobEvent(jobId, { service: 'spec', event: 'job.succeeded', message: 'done' }));

    // Another tenant cannot delete it (nor learn it exists).
    expect((await call(`/v1/jobs/${jobId}`, { method: 'DELETE' }, other)).status).toBe(404);

    const deleted = await call(`/v1/jobs/${jobId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ jobId, deleted: true });

    expect((await call(`/v1/jobs/${jobId}`)).status).toBe(404);
    expect((await call(`/v1/jobs/${jobId}/events`)).status).toBe(404);
    expect((await call(`/v1/jobs/${jobId}`, { method: 'DELETE' })).status).toBe(404);
    // A purged KV key keeps only a marker without data (the values and their history are gone).
    const gone = async (bucket: string, k: string) => {
      const entry = await (await api.bus.kv(bucket)).get(k);
      return entry === null || (entry.operation === 'PURGE' && entry.length === 0);
    };
    expect([await gone(Buckets.jobs, jobId), await gone(Buckets.submissions, jobId), await gone(Buckets.tenantJobs, `lister.${jobId}`)]).toEqual([true, true, true]);
    await expect(getObject(api.bus, output)).rejects.toThrow(/is gone/);
    await expect(getObject(api.bus, result)).rejects.toThrow(/is gone/);
    await expect(api.bus.jsm.streams.getMessage(Streams.events.name, { last_by_subj: Subjects.jobEvents(jobId) })).resolves.toBeNull();
    expect((await page('')).jobs.map((j) => j.jobId)).not.toContain(jobId);
    // Its Idempotency-Key is forgotten with it: the same request makes a new job.
    expect(await submit('to be deleted', { 'idempotency-key': 'delete-me' })).not.toBe(jobId);
  });
});
