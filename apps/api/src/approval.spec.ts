import { ChildProcess, spawn } from 'node:child_process';
import { JobState, Streams } from '@orchestra/contracts';
import { FakeServer, loadDocuments, startFakeChutes } from '@orchestra/devnet-providers';
import { freePort, serviceMain } from '@orchestra/testing';
import { ApiUnderTest, startApiUnderTest } from './api.fixture';

const KEY = 'cpk_approval_spec';
const GOAL = 'Analyze the revenue of AAPL and MSFT in FY2022 and FY2023 and write a Python script to chart it';
/** The filings the figures are extracted from (data.financials@2 reads documents the client supplies). */
const INPUTS = { documents: loadDocuments() };
const PLAN = [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] } }];

/**
 * Client control through the API, over a real nats-server, with the built planner as a process
 * of its own planning through the devnet's fake Chutes (first a model that answers cycles, then a
 * good one): dry runs, approval (as planned, edited, edited wrongly, twice), cancellation while
 * waiting, and the outputSchema checks at the door. No dispatcher runs: nothing is hired.
 */
describe('plans under client control (api + planner process + fake Chutes)', () => {
  let api: ApiUnderTest;
  let chutes: FakeServer;
  let planner: ChildProcess;
  let plannerLog = '';

  beforeAll(async () => {
    api = await startApiUnderTest('approval-spec');
    chutes = await startFakeChutes({ apiKeys: [KEY] });
    const { command, args } = serviceMain('planner');
    planner = spawn(command, args, {
      env: {
        ...process.env,
        ORCH_NATS_URL: api.nats.url,
        ORCH_NATS_STORAGE: 'memory',
        OPS_PORT: String(await freePort()),
        OPS_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ORCH_CHUTES_API_KEY: KEY,
        ORCH_CHUTES_URL: chutes.url,
        ORCH_PLANNER_MODELS: 'devnet/cyclic-planner-llm,devnet/good-llm',
        ORCH_PLANNER_TIMEOUT_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    planner.stdout?.on('data', (chunk: Buffer) => (plannerLog += chunk.toString()));
    planner.stderr?.on('data', (chunk: Buffer) => (plannerLog += chunk.toString()));
  }, 60_000);

  afterAll(async () => {
    if (planner && planner.exitCode === null) {
      const exited = new Promise((resolve) => planner.once('exit', resolve));
      planner.kill('SIGTERM');
      await exited;
    }
    await chutes?.stop();
    await api?.close();
  }, 30_000);

  const submit = async (body: unknown): Promise<string> => {
    const res = await api.post('/v1/jobs', body);
    expect(res.status).toBe(202);
    return ((await res.json()) as { jobId: string }).jobId;
  };
  const getJob = async (jobId: string): Promise<JobState> => (await (await api.fetch(`${api.base}/v1/jobs/${jobId}`)).json()) as JobState;
  /** The job once `done` says so (the planner works asynchronously), or a failure naming the last view and the planner's log. */
  const until = async (jobId: string, done: (job: JobState) => boolean): Promise<JobState> => {
    let job = await getJob(jobId);
    for (let i = 0; i < 300 && !done(job); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await getJob(jobId);
    }
    if (!done(job)) throw new Error(`job ${jobId} never reached the expected state: ${JSON.stringify(job).slice(0, 2000)}\nplanner log:\n${plannerLog.slice(-4000)}`);
    return job;
  };
  const tasksPublished = async () => (await api.bus.jsm.streams.info(Streams.tasks.name)).state.messages;

  it('a dry run returns the plan a model built, its estimate and the rejected plans, hiring nobody', async () => {
    const before = await tasksPublished();
    const jobId = await submit({ goal: GOAL, inputs: INPUTS, dryRun: true });
    const job = await until(jobId, (j) => j.status === 'planned');
    expect(job).toMatchObject({
      planSource: 'model',
      dryRun: true,
      estimate: { calls: 3, tao: 0.06 },
      rejectedPlans: [
        { by: 'model:devnet/cyclic-planner-llm', reasons: [expect.stringMatching(/the plan has a cycle/)] },
        { by: 'model:devnet/cyclic-planner-llm', reasons: [expect.stringMatching(/the plan has a cycle/)] },
      ],
    });
    expect(job.steps.map((s) => [s.id, s.capability, s.status])).toEqual([
      ['financials', 'data.financials', 'pending'],
      ['analysis', 'text.analysis', 'pending'],
      ['python', 'code.python', 'pending'],
    ]);
    expect(await tasksPublished()).toBe(before);
  });

  it('approval: waits with its plan, refuses an invalid edit (still waiting), runs an edited plan once, 409 after', async () => {
    const jobId = await submit({ goal: GOAL, inputs: INPUTS, approval: 'required' });
    const waiting = await until(jobId, (j) => j.status === 'awaiting_approval');
    expect(waiting.steps.map((s) => s.id)).toEqual(['financials', 'analysis', 'python']);

    const wrong = await api.post(`/v1/jobs/${jobId}/approve`, { plan: [{ ...PLAN[0], deps: ['ghost'] }] });
    expect(wrong.status).toBe(202);
    const still = await until(jobId, (j) => (j.rejectedPlans ?? []).some((r) => r.by === 'approval'));
    expect(still.status).toBe('awaiting_approval');
    expect(still.rejectedPlans?.find((r) => r.by === 'approval')?.reasons).toEqual(['step "data" depends on "ghost", which is not in the plan']);

    const before = await tasksPublished();
    expect((await api.post(`/v1/jobs/${jobId}/approve`, { plan: PLAN })).status).toBe(202);
    const running = await until(jobId, (j) => j.status === 'running');
    expect(running).toMatchObject({ planSource: 'client', estimate: { calls: 1 } });
    expect(running.steps.map((s) => [s.id, s.status])).toEqual([['data', 'running']]);
    // Its deadline runs from the approval, not the submission.
    expect(Date.parse(running.deadlineAt)).toBeGreaterThan(Date.parse(running.submittedAt) + running.limits.deadlineMs);
    for (let i = 0; i < 50 && (await tasksPublished()) === before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await tasksPublished()).toBe(before + 1);

    const again = await api.post(`/v1/jobs/${jobId}/approve`, {});
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ title: 'Job not awaiting approval', detail: expect.stringMatching(/is running, not awaiting approval/) });
  });

  it('approval as planned with {}, and a waiting job dropped by cancel', async () => {
    const asPlanned = await submit({ goal: GOAL, inputs: INPUTS, approval: 'required' });
    await until(asPlanned, (j) => j.status === 'awaiting_approval');
    expect((await api.post(`/v1/jobs/${asPlanned}/approve`, {})).status).toBe(202);
    expect((await until(asPlanned, (j) => j.status === 'running')).steps.find((s) => s.id === 'financials')?.status).toBe('running');

    const dropped = await submit({ goal: GOAL, inputs: INPUTS, approval: 'required' });
    await until(dropped, (j) => j.status === 'awaiting_approval');
    expect((await api.post(`/v1/jobs/${dropped}/cancel`, { reason: 'not this plan' })).status).toBe(202);
    expect(await until(dropped, (j) => j.status === 'cancelled')).toMatchObject({ error: { code: 'cancelled', message: 'not this plan' } });
  });

  it('refuses approvals of unknown jobs, malformed approvals and non-JSON ones', async () => {
    expect((await api.post('/v1/jobs/job_nobody/approve', {})).status).toBe(404);
    const malformed = await api.post('/v1/jobs/job_nobody/approve', { plan: 'all of it' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ errors: [expect.objectContaining({ pointer: '/plan' })] });
    const text = await api.fetch(`${api.base}/v1/jobs/job_nobody/approve`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'yes' });
    expect(text.status).toBe(415);
  });

  it('checks outputSchema at the door: 400 naming /outputSchema for one that is not a schema or too large; a valid one is kept on the job', async () => {
    for (const outputSchema of [
      { type: 'no-such-type' },
      { properties: { a: { $ref: 'https://example.com/s.json' } } },
      { enum: Array.from({ length: 5_000 }, (_, i) => `value-${i}`) },
    ]) {
      const res = await api.post('/v1/jobs', { goal: GOAL, outputSchema, dryRun: true });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { errors: Array<{ pointer: string; detail: string }> };
      expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/outputSchema', detail: expect.stringMatching(/not a valid JSON Schema|over the limit/) })]);
    }
    const schema = { type: 'object', required: ['rows'] };
    const jobId = await submit({ goal: GOAL, inputs: INPUTS, outputSchema: schema, dryRun: true });
    expect(await until(jobId, (j) => j.status === 'planned')).toMatchObject({ outputSchema: schema });
  });
});
