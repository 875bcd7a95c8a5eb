import { JobSpec, JobState, StepRejected, StepVerified, jobEvent } from '@orchestra/contracts';
import { applyApproved, applyCancel, applyDeadline, applyRejected, applyVerified, failedStepLetters, outstandingTasks, progressEvents, startJob, Transition } from './job-machine';
import { clientPlan } from './planning';
import { FinancialRow } from '@orchestra/schemas';
import { z } from 'zod';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

const job = (overrides: Partial<JobSpec> = {}): JobSpec => ({
  jobId: 'job_1',
  tenant: 'default',
  goal: 'Analyze these financial filings and write a Python script to graph the trends',
  inputs: {},
  limits: { maxTao: 1, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 32 },
  submittedAt: t0.toISOString(),
  ...overrides,
});

type Verified = z.infer<typeof StepVerified.payload>;
type Rejected = z.infer<typeof StepRejected.payload>;

const verified = (stepId: string, attempt: number, output: unknown, uid = 7): Verified => ({
  stepId,
  attempt,
  uid,
  hotkey: `hk${uid}`,
  coldkey: `ck${uid}`,
  netuid: 13,
  output,
  latencyMs: 12,
  costTao: 0.001,
  hedgedUids: [],
});
const rejected = (stepId: string, attempt: number, uid: number | null, kind: Rejected['kind'] = 'schema'): Rejected => ({
  stepId,
  attempt,
  uid,
  hotkey: uid === null ? null : `hk${uid}`,
  kind,
  reason: `uid ${uid} returned JSON that does not match`,
  errors: ['rows.0.value: expected number'],
  latencyMs: 5,
  costTao: 0,
  hedgedUids: [],
});

const rows: { rows: FinancialRow[] } = {
  rows: [
    { entity: 'AAPL', period: 'FY2022', metric: 'revenue', value: 394328, unit: 'USD_millions', source: 'Apple Inc. Form 10-K FY2022' },
    { entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', source: 'Apple Inc. Form 10-K FY2023' },
  ],
};
const analysis = { summary: 'grew', findings: [{ statement: 'up', citations: [0] }] };
const code = { language: 'python', code: 'print(1)', dependencies: [], entrypoint: 'main.py' };

/** Replays messages in order, as the planner would, and returns every state reached. */
function replay(start: Transition, steps: Array<(s: JobState) => Transition | undefined>): JobState {
  let state = start.state;
  for (const step of steps) state = step(state)?.state ?? state;
  return state;
}

describe('job state machine', () => {
  it('plans the example goal as data → (analysis ∥ code) and dispatches only the root', () => {
    const { state, events } = startJob(job(), t0);
    expect(state.status).toBe('running');
    expect(state.steps.map((s) => [s.id, s.capability, s.netuid, s.deps])).toEqual([
      ['data', 'data.financials', 13, []],
      ['analysis', 'text.analysis', 1, ['data']],
      ['code', 'code.python', 62, ['data']],
    ]);
    expect(outstandingTasks(state).map((t) => t.id)).toEqual(['task.ready:job_1:data:1']);
    expect(events.map((e) => e.event)).toEqual(['job.planned', 'step.dispatched']);
  });

  it('resolves $ref inputs from verified outputs and completes with a valid report', () => {
    const start = startJob(job(), t0);
    const afterData = applyVerified(start.state, verified('data', 1, rows), at(10))!;
    const tasks = outstandingTasks(afterData.state);
    expect(tasks.map((t) => t.payload.stepId)).toEqual(['analysis', 'code']);
    expect((tasks[0].payload.input as { rows: unknown }).rows).toEqual(rows.rows);

    const afterAnalysis = applyVerified(afterData.state, verified('analysis', 1, analysis, 3), at(20))!;
    const done = applyVerified(afterAnalysis.state, verified('code', 1, code, 4), at(30))!;
    expect(done.state.status).toBe('succeeded');
    expect(done.events.at(-1)?.event).toBe('job.succeeded');
    expect(done.state.result).toMatchObject({ jobId: 'job_1', outputs: { data: rows, analysis, code }, spend: { totalTao: 0.003 } });
    expect(outstandingTasks(done.state)).toEqual([]);
  });

  it('retries a rejected step on another UID with the errors as feedback, excluding tried UIDs', () => {
    const start = startJob(job(), t0);
    const retry = applyRejected(start.state, rejected('data', 1, 5), at(5))!;
    expect(retry.events.map((e) => e.event)).toEqual(['step.retrying']);
    const [task] = outstandingTasks(retry.state);
    expect(task.id).toBe('task.ready:job_1:data:2');
    expect(task.payload.excludeUids).toEqual([5]);
    expect(task.payload.feedback).toEqual(['rows.0.value: expected number']);
  });

  it('excludes hedged UIDs from later attempts too', () => {
    const start = startJob(job(), t0);
    const retry = applyRejected(start.state, { ...rejected('data', 1, 5), hedgedUids: [8, 9] }, at(5))!;
    expect(retry.state.steps[0].attempts[0]).toMatchObject({ uid: 5, hedgedUids: [8, 9] });
    expect(outstandingTasks(retry.state)[0].payload.excludeUids).toEqual([5, 8, 9]);
  });

  it('fails the job when its miner calls, hedges included, exceed maxMinerCalls', () => {
    const limits = { maxTao: 1, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 3 };
    const retried = applyRejected(startJob(job({ limits }), t0).state, { ...rejected('data', 1, 5), hedgedUids: [8] }, at(1))!;
    expect(retried.state.status).toBe('running');
    const noRoom = applyRejected(retried.state, rejected('data', 2, 6), at(2))!;
    expect(noRoom.state.error).toMatchObject({ code: 'budget_exceeded', stepId: 'data' });
    expect(noRoom.state.error?.message).toMatch(/made 3 miner calls, its limit of 3/);

    const over = applyVerified(retried.state, { ...verified('data', 2, rows, 6), hedgedUids: [10] }, at(2))!;
    expect(over.state.error).toMatchObject({ code: 'budget_exceeded', message: "made 4 miner calls (hedges included), over the job's limit of 3" });
  });

  it('with reask: same, asks the miner whose answer was rejected once more, with the errors, then moves on', () => {
    const spec = job({ plan: [{ id: 'data', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] }, deps: [], reask: 'same' }] });
    const once = applyRejected(startJob(spec, t0).state, rejected('data', 1, 5, 'schema'), at(1))!;
    expect(outstandingTasks(once.state)[0].payload).toMatchObject({ attempt: 2, preferUid: 5, excludeUids: [], feedback: ['rows.0.value: expected number'] });
    const twice = applyRejected(once.state, rejected('data', 2, 5, 'schema'), at(2))!;
    const third = outstandingTasks(twice.state)[0].payload;
    expect(third).toMatchObject({ attempt: 3, excludeUids: [5] });
    expect(third.preferUid).toBeUndefined();
    // A miner that failed to answer at all is not asked again.
    const down = applyRejected(startJob(spec, t0).state, rejected('data', 1, 5, 'miner_error'), at(1))!;
    expect(outstandingTasks(down.state)[0].payload.preferUid).toBeUndefined();
  });

  it('fails the job with every attempt’s reason when attempts run out', () => {
    const start = startJob(job(), t0);
    const end = replay(start, [
      (s) => applyRejected(s, rejected('data', 1, 1), at(1)),
      (s) => applyRejected(s, { ...rejected('data', 2, 2, 'miner_error'), reason: 'uid 2 failed: 503 unavailable' }, at(2)),
      (s) => applyRejected(s, { ...rejected('data', 3, 3, 'not_json'), reason: 'uid 3 returned no JSON' }, at(3)),
    ]);
    expect(end.status).toBe('failed');
    expect(end.error).toMatchObject({ code: 'step_failed', stepId: 'data' });
    expect(end.error?.message).toMatch(/#1 uid 1: .*#2 uid 2: uid 2 failed: 503 unavailable; #3 uid 3: uid 3 returned no JSON/);
    expect(outstandingTasks(end)).toEqual([]);
    const [letter] = failedStepLetters(end);
    expect(letter).toMatchObject({ id: 'dead.letter:job_1:steps:data', payload: { consumer: 'steps', deliveries: 3, reason: end.error?.message } });
    expect(letter.payload).toMatchObject({ stream: '', streamSequence: 0 });
    expect(letter.payload.excerpt).toContain('"stepId":"data"');
    expect(letter.payload.bytes).toBeGreaterThan(letter.payload.excerpt.length / 2);
  });

  it('fails at once when no UID can be hired', () => {
    const start = startJob(job(), t0);
    const end = applyRejected(start.state, { ...rejected('data', 1, null, 'no_candidate'), reason: 'no eligible UID on SN13' }, at(1))!;
    expect(end.state.error).toMatchObject({ code: 'no_candidates', message: 'step data: no eligible UID on SN13' });
  });

  it('fails at once when the verifier cannot check answers (not retried on another miner)', () => {
    const start = startJob(job(), t0);
    const reason = "cannot judge the answer of uid 7 on SN13 (not the miner's fault): python3 is not installed";
    const end = applyRejected(start.state, { ...rejected('data', 1, 7, 'unverifiable'), reason }, at(1))!;
    expect(end.state.steps.find((s) => s.id === 'data')?.attempts).toHaveLength(1);
    expect(end.state.error).toMatchObject({ code: 'step_failed', message: `step data cannot be verified: ${reason}` });
  });

  it('ignores duplicates and stale attempts (redelivery changes nothing)', () => {
    const start = startJob(job(), t0);
    const once = applyVerified(start.state, verified('data', 1, rows), at(10))!;
    expect(applyVerified(once.state, verified('data', 1, rows), at(11))).toBeUndefined();
    expect(applyRejected(once.state, rejected('data', 1, 7), at(12))).toBeUndefined();
    const retry = applyRejected(start.state, rejected('data', 1, 5), at(5))!;
    expect(applyVerified(retry.state, verified('data', 1, rows), at(6))).toBeUndefined();
  });

  it('fails when spend exceeds the budget', () => {
    // The plan's estimate (3 steps at 0.02 TAO) fits; the miner's bill does not.
    const start = startJob(job({ limits: { maxTao: 0.06, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 32 } }), t0);
    const end = applyVerified(start.state, { ...verified('data', 1, rows), costTao: 0.07 }, at(1))!;
    expect(end.state.error).toMatchObject({ code: 'budget_exceeded' });
  });

  it('cancels and enforces the deadline only while running', () => {
    const start = startJob(job(), t0);
    const cancelled = applyCancel(start.state, 'changed my mind', at(1))!;
    expect(cancelled.state).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'changed my mind' } });
    expect(cancelled.events.map((e) => e.event)).toEqual(['job.cancelled']);
    expect(applyCancel(cancelled.state, 'again', at(2))).toBeUndefined();
    expect(applyDeadline(start.state, at(59_999))).toBeUndefined();
    expect(applyDeadline(start.state, at(60_000))?.state.error?.code).toBe('deadline');
  });

  it('rejects invalid explicit plans with a sentence that says what to change', () => {
    const bad = (plan: JobSpec['plan']) => startJob(job({ plan }), t0).state.error?.message;
    expect(bad([{ id: 'a', capability: 'text.poetry', input: {}, deps: [] }])).toMatch(/unknown capability "text.poetry"/);
    expect(bad([{ id: 'a', capability: 'text.analysis', input: {}, deps: ['b'] }])).toMatch(/depends on "b", which is not in the plan/);
    expect(
      bad([
        { id: 'a', capability: 'text.analysis', input: {}, deps: ['b'] },
        { id: 'b', capability: 'text.analysis', input: {}, deps: ['a'] },
      ]),
    ).toMatch(/cycle: a → b → a/);
    expect(
      bad([
        { id: 'b', capability: 'data.financials', input: { entities: ['AAPL'], periods: ['FY2023'], metrics: ['revenue'] }, deps: [] },
        { id: 'a', capability: 'text.analysis', input: { question: 'q', rows: { $ref: '/steps/b/output/rows' } }, deps: [] },
      ]),
    ).toMatch(/step "a" reads \/steps\/b\/output\/rows: "b" is not among its deps; add it to deps/);
    expect(startJob(job({ goal: 'Write me a poem' }), t0).state.error?.message).toMatch(/no valid plan for this goal: .*no playbook fits.*submit an explicit "plan"/);
    // Checked at planning, not at dispatch, where a reference to nothing would strand the job.
    expect(bad([{ id: 'a', capability: 'data.financials', input: { entities: { $ref: '/inputs/tickers' } }, deps: [] }])).toMatch(
      /reads \/inputs\/tickers: the job's inputs have no "tickers"/,
    );
  });

  describe('quorum (k-of-n agreement)', () => {
    const quorumJob = (agree: number, maxAttempts = 4) =>
      job({
        plan: [
          {
            id: 'data',
            capability: 'data.financials',
            input: { entities: ['AAPL'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] },
            deps: [],
            maxAttempts,
            quorum: { agree, checker: 'same-rows' },
          },
        ],
      });
    const wrong = { rows: rows.rows.map((r) => ({ ...r, value: r.value * 1.12 })) };
    const reordered = { rows: [...rows.rows].reverse().map((r) => ({ ...r, source: 'another wording of the filing' })) };
    const vote = (attempt: number, output: unknown, uid: number, coldkey = `ck${uid}`): Verified => ({ ...verified('data', attempt, output, uid), coldkey });

    it('hires k miners at once, each told to skip the UIDs its siblings take', () => {
      const { state } = startJob(quorumJob(2), t0);
      expect(outstandingTasks(state).map((t) => [t.id, t.payload.rankOffset])).toEqual([
        ['task.ready:job_1:data:1', 0],
        ['task.ready:job_1:data:2', 1],
      ]);
    });

    it('verifies when k answers from distinct owners agree (order and wording aside) and outvotes the rest', () => {
      const end = replay(startJob(quorumJob(2), t0), [
        (s) => applyVerified(s, vote(1, wrong, 1), at(1)),
        (s) => applyVerified(s, vote(2, rows, 2), at(2)),
        (s) => applyVerified(s, vote(3, reordered, 3), at(3)),
      ]);
      expect(end.status).toBe('succeeded');
      const step = end.steps[0];
      expect(step.output).toEqual(rows);
      expect(step.attempts.map((a) => [a.uid, a.status])).toEqual([
        [1, 'outvoted'],
        [2, 'verified'],
        [3, 'verified'],
      ]);
      expect(step.attempts.every((a) => a.output === undefined)).toBe(true);
      expect((end.result as { provenance: Array<{ uid: number }> }).provenance[0].uid).toBe(2);
    });

    it('counts a Sybil pair (two UIDs, one coldkey) once', () => {
      const start = startJob(quorumJob(2), t0);
      const colluded = replay(start, [(s) => applyVerified(s, vote(1, wrong, 1, 'same-owner'), at(1)), (s) => applyVerified(s, vote(2, wrong, 2, 'same-owner'), at(2))]);
      expect(colluded.steps[0].status).toBe('running');
      const [next] = outstandingTasks(colluded);
      expect(next.payload).toMatchObject({ attempt: 3, excludeUids: [1, 2], rankOffset: 0 });
    });

    it('fails naming every vote when agreement can no longer be reached', () => {
      const end = replay(startJob(quorumJob(2, 3), t0), [
        (s) => applyVerified(s, vote(1, wrong, 1), at(1)),
        (s) => applyVerified(s, vote(2, rows, 2), at(2)),
        (s) => applyRejected(s, rejected('data', 3, 3), at(3)),
      ]);
      expect(end.status).toBe('failed');
      expect(end.error?.message).toMatch(/no 2 agreeing answers in 3 attempts: #1 uid 1: accepted, but not enough others agreed; #2 uid 2: accepted/);
      expect(end.steps[0].attempts.every((a) => a.output === undefined)).toBe(true);
    });

    it('refuses quorums that cannot work', () => {
      const invalid = (quorum: { agree: number; checker: 'same-rows' | 'same-citations' | 'same-json' }, maxAttempts = 4) =>
        startJob(job({ plan: [{ id: 'data', capability: 'data.financials', input: {}, deps: [], maxAttempts, quorum }] }), t0).state.error?.message;
      expect(invalid({ agree: 3, checker: 'same-rows' }, 2)).toMatch(/quorum of 3 needs at least 3 attempts/);
      expect(invalid({ agree: 2, checker: 'same-citations' })).toMatch(/checker "same-citations" does not fit data.financials/);
    });
  });

  it('derives from the record every event its transitions emitted (same message ids), for republishing after a crash', () => {
    const ids = (state: JobState, events: Transition['events']) => events.map((e) => jobEvent(state.jobId, e).id).sort();
    const runs: Array<[JobSpec, Array<(s: JobState) => Transition | undefined>]> = [
      [
        job(),
        [
          (s) => applyRejected(s, rejected('data', 1, 1), at(1)),
          (s) => applyVerified(s, verified('data', 2, rows, 2), at(2)),
          (s) => applyVerified(s, verified('code', 1, code, 4), at(3)),
          (s) => applyRejected(s, rejected('analysis', 1, 9), at(4)),
          (s) => applyVerified(s, verified('analysis', 2, analysis, 3), at(5)),
        ],
      ],
      [
        job({ plan: [{ id: 'data', capability: 'data.financials', input: {}, deps: [], maxAttempts: 4, quorum: { agree: 2, checker: 'same-rows' } }] }),
        [
          (s) => applyRejected(s, rejected('data', 1, 1), at(1)),
          (s) => applyVerified(s, { ...verified('data', 2, rows, 2), coldkey: 'a' }, at(2)),
          (s) => applyVerified(s, { ...verified('data', 3, rows, 3), coldkey: 'b' }, at(3)),
        ],
      ],
      [
        job({ limits: { maxTao: 1, maxAttemptsPerStep: 2, deadlineMs: 60_000, maxMinerCalls: 32 } }),
        [(s) => applyRejected(s, rejected('data', 1, 1), at(1)), (s) => applyRejected(s, rejected('data', 2, 2), at(2))],
      ],
    ];
    for (const [spec, messages] of runs) {
      let t = startJob(spec, t0);
      const emitted = [...t.events];
      for (const message of messages) {
        t = message(t.state) ?? t;
        emitted.push(...t.events);
      }
      expect(t.state.status).not.toBe('running');
      expect(ids(t.state, progressEvents(t.state))).toEqual(ids(t.state, emitted).filter((id, i, all) => all.indexOf(id) === i));
    }
  });

  it('is deterministic: the same messages at the same times give the same state', () => {
    const run = () =>
      replay(startJob(job(), t0), [
        (s) => applyRejected(s, rejected('data', 1, 1), at(1)),
        (s) => applyVerified(s, verified('data', 2, rows, 2), at(2)),
        (s) => applyVerified(s, verified('code', 1, code, 4), at(3)),
        (s) => applyRejected(s, rejected('analysis', 1, 9), at(4)),
        (s) => applyVerified(s, verified('analysis', 2, analysis, 3), at(5)),
      ]);
    const a = run();
    expect(a.status).toBe('succeeded');
    expect(run()).toEqual(a);
  });
});

describe('plans: source, dry run, approval, fan-out and the output schema', () => {
  const request = { entities: ['AAPL'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] };
  const dataStep = { id: 'data', capability: 'data.financials', input: request, deps: [] };

  it('records where the plan came from and its estimate', () => {
    expect(startJob(job(), t0).state).toMatchObject({ planSource: 'playbook', estimate: { calls: 3, tao: 0.06 } });
    expect(startJob(job({ plan: [dataStep] }), t0).state).toMatchObject({ planSource: 'client', estimate: { calls: 1 } });
    const invalid = startJob(job({ plan: [{ ...dataStep, capability: 'text.poetry' }] }), t0).state;
    expect(invalid).toMatchObject({ status: 'failed', error: { code: 'invalid_plan' }, rejectedPlans: [{ by: 'client', reasons: [expect.stringMatching(/unknown capability/)] }] });
  });

  it('ends a dry run at `planned` with the plan and its estimate, hiring nobody', () => {
    const { state, events } = startJob(job({ dryRun: true }), t0);
    expect(state).toMatchObject({ status: 'planned', dryRun: true, estimate: { tao: 0.06 } });
    expect(state.steps.map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);
    expect(outstandingTasks(state)).toEqual([]);
    expect(events.map((e) => e.event)).toEqual(['job.planned', 'job.dry_run']);
    expect(progressEvents(state).map((e) => e.event)).toEqual(['job.planned', 'job.dry_run']);
    expect(applyDeadline(state, at(10_000_000))).toBeUndefined();
  });

  describe('approval', () => {
    const waiting = () => startJob(job({ approval: 'required' }), t0);

    it('waits at awaiting_approval with its plan, its deadline not running, until approved', () => {
      const { state, events } = waiting();
      expect(state.status).toBe('awaiting_approval');
      expect(events.map((e) => e.event)).toEqual(['job.planned', 'job.awaiting_approval']);
      expect(outstandingTasks(state)).toEqual([]);
      expect(applyDeadline(state, at(10_000_000))).toBeUndefined();
      const approved = applyApproved(state, undefined, at(500_000))!;
      expect(approved.state).toMatchObject({ status: 'running', deadlineAt: at(560_000).toISOString() });
      expect(approved.events.map((e) => e.event)).toEqual(['job.approved', 'step.dispatched']);
      expect(outstandingTasks(approved.state).map((t) => t.payload.stepId)).toEqual(['data']);
      // A second approval changes nothing; replayed progress says it was approved.
      expect(applyApproved(approved.state, undefined, at(500_001))).toBeUndefined();
      expect(progressEvents(approved.state).map((e) => e.event)).toEqual(['job.planned', 'job.awaiting_approval', 'job.approved', 'step.dispatched']);
    });

    it('runs an edited plan instead, and keeps waiting (with the reasons) when the edit is invalid', () => {
      const { state } = waiting();
      const bad = applyApproved(state, clientPlan(state, [{ ...dataStep, deps: ['ghost'] }], 'approval'), at(1))!;
      expect(bad.state).toMatchObject({ status: 'awaiting_approval', rejectedPlans: [{ by: 'approval', reasons: ['step "data" depends on "ghost", which is not in the plan'] }] });
      expect(bad.events).toEqual([
        expect.objectContaining({ event: 'job.awaiting_approval', attempt: 2, message: expect.stringMatching(/edited plan was rejected \(step "data" depends on "ghost"/) }),
      ]);
      const edited = applyApproved(bad.state, clientPlan(state, [dataStep], 'approval'), at(2))!;
      expect(edited.state).toMatchObject({ status: 'running', planSource: 'client', estimate: { calls: 1 } });
      expect(edited.state.steps.map((s) => s.id)).toEqual(['data']);
    });

    it('is dropped by a cancellation', () => {
      expect(applyCancel(waiting().state, 'no thanks', at(1))?.state).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'no thanks' } });
    });
  });

  describe('fan-out and fan-in', () => {
    const questions = ['Did revenue grow?', 'Which year was best?'];
    const fanJob = (inputs: Record<string, unknown> = { questions }) =>
      job({
        inputs,
        plan: [
          dataStep,
          {
            id: 'each',
            capability: 'text.analysis',
            forEach: { $ref: '/inputs/questions' },
            input: { question: { $ref: '/item' }, rows: { $ref: '/steps/data/output/rows' } },
            deps: ['data'],
          },
          { id: 'code', capability: 'code.python', input: { task: 'plot', rows: { $ref: '/steps/data/output/rows' } }, deps: ['data', 'each'] },
        ],
      });

    it('runs a step once per item, each a step of its own, and gives dependants the array of their outputs', () => {
      const start = startJob(fanJob(), t0);
      const afterData = applyVerified(start.state, verified('data', 1, rows), at(1))!;
      const runs = afterData.state.steps.filter((s) => s.parent === 'each');
      expect(runs.map((s) => [s.id, s.item, s.status])).toEqual([
        ['each[0]', 0, 'running'],
        ['each[1]', 1, 'running'],
      ]);
      const tasks = outstandingTasks(afterData.state);
      expect(tasks.map((t) => [t.payload.stepId, (t.payload.input as { question: string }).question])).toEqual([
        ['each[0]', questions[0]],
        ['each[1]', questions[1]],
      ]);
      expect((tasks[0].payload.input as { rows: unknown }).rows).toEqual(rows.rows);
      const second = { ...analysis, summary: 'second' };
      const end = replay(afterData, [
        (s) => applyVerified(s, verified('each[1]', 1, second), at(2)),
        // The fan-in waits for every run.
        (s) => {
          expect(outstandingTasks(s).map((t) => t.payload.stepId)).toEqual(['each[0]']);
          return applyVerified(s, verified('each[0]', 1, analysis), at(3));
        },
        (s) => applyVerified(s, verified('code', 1, code), at(4)),
      ]);
      expect(end.status).toBe('succeeded');
      expect(end.steps.find((s) => s.id === 'each')).toMatchObject({ status: 'verified', output: [analysis, second] });
      const report = end.result as { outputs: Record<string, unknown>; output: unknown; provenance: Array<{ stepId: string }> };
      expect(Object.keys(report.outputs)).toEqual(['data', 'each', 'code']);
      expect(report.output).toEqual(code);
      expect(report.provenance.map((p) => p.stepId)).toEqual(['data', 'each[0]', 'each[1]', 'code']);
    });

    it('retries and fails a run like any step', () => {
      const afterData = applyVerified(startJob(fanJob(), t0).state, verified('data', 1, rows), at(1))!;
      const retried = applyRejected(afterData.state, rejected('each[0]', 1, 4), at(2))!;
      expect(outstandingTasks(retried.state).map((t) => [t.payload.stepId, t.payload.attempt])).toEqual([
        ['each[0]', 2],
        ['each[1]', 1],
      ]);
    });

    it('verifies a fan-out over an empty list with [] at once, and fails one over too many items naming the maximum', () => {
      const empty = replay(startJob(fanJob({ questions: [] }), t0), [(s) => applyVerified(s, verified('data', 1, rows), at(1))]);
      expect(empty.steps.find((s) => s.id === 'each')).toMatchObject({ status: 'verified', output: [] });
      expect(outstandingTasks(empty).map((t) => t.payload.stepId)).toEqual(['code']);
      // Over the rows of an output: known only once it is verified.
      const overRows = job({
        limits: { maxTao: 10, maxAttemptsPerStep: 3, deadlineMs: 60_000, maxMinerCalls: 100 },
        plan: [
          dataStep,
          { id: 'each', capability: 'text.analysis', forEach: { $ref: '/steps/data/output/rows' }, input: { question: 'q', rows: [{ $ref: '/item' }] }, deps: ['data'] },
        ],
      });
      const many = { rows: Array.from({ length: 21 }, (_, i) => ({ ...rows.rows[0], period: `FY${2000 + i}` })) };
      const failed = applyVerified(startJob(overRows, t0).state, verified('data', 1, many), at(1))!.state;
      expect(failed).toMatchObject({
        status: 'failed',
        error: { code: 'step_failed', stepId: 'each', message: 'step each: forEach /steps/data/output/rows has 21 items, over the maximum of 20 runs per step' },
      });
    });
  });

  describe('outputSchema', () => {
    const plan = [dataStep];
    it('succeeds when the final output conforms', () => {
      const spec = job({ plan, outputSchema: { type: 'object', required: ['rows'], properties: { rows: { type: 'array', minItems: 2 } } } });
      const end = applyVerified(startJob(spec, t0).state, verified('data', 1, rows), at(1))!.state;
      expect(end).toMatchObject({ status: 'succeeded', result: { output: rows } });
    });
    it('fails the job with invalid_output, saying where, when it does not', () => {
      const spec = job({ plan, outputSchema: { type: 'object', required: ['rows'], properties: { rows: { type: 'array', minItems: 3 } } } });
      const end = applyVerified(startJob(spec, t0).state, verified('data', 1, rows), at(1))!.state;
      expect(end).toMatchObject({
        status: 'failed',
        error: { code: 'invalid_output', message: expect.stringMatching(/does not conform to the job's outputSchema: \/rows: must NOT have fewer than 3 items/) },
      });
    });
  });
});
