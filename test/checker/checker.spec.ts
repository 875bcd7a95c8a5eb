import { ANOMALY_KINDS, History, StoredMessage, checkHistory, formatReport } from './checker';

/** Hand-made histories: one clean job, then each anomaly planted into a copy of it. */

let seq = 0;
const msg = (stream: string, subject: string, type: string, jobId: string, id: string, payload: unknown): StoredMessage => ({
  stream,
  subject,
  seq: ++seq,
  body: { type, version: 1, id, jobId, ts: '2026-01-01T00:00:00.000Z', payload },
});

const output = { rows: [{ entity: 'AAPL', value: 1 }] };
const otherOutput = { rows: [{ entity: 'AAPL', value: 2 }] };

function taskResult(jobId: string, attempt: number, uid: number) {
  return msg('ORCH_TASKS', 'orch.task.result', 'task.result', jobId, `task.result:${jobId}:data:${attempt}`, {
    stepId: 'data',
    attempt,
    uid,
    hotkey: `hk${uid}`,
    ok: true,
  });
}
function verified(jobId: string, attempt: number, uid: number, out: unknown = output) {
  return msg('ORCH_JOBS', 'orch.job.step.verified', 'step.verified', jobId, `step.verified:${jobId}:data:${attempt}`, {
    stepId: 'data',
    attempt,
    uid,
    hotkey: `hk${uid}`,
    output: out,
  });
}
function event(jobId: string, name: string) {
  return msg('ORCH_EVENTS', `orch.event.${jobId}`, 'job.event', jobId, `job.event:${jobId}:${name}:-:0`, { event: name, service: 'planner', message: name });
}

/** A job whose step `data` was rejected once (uid 1) and then verified on uid 2. */
function succeededRecord(jobId: string, out: unknown = output, uid = 2) {
  return {
    jobId,
    status: 'succeeded',
    steps: [
      {
        id: 'data',
        status: 'verified',
        output: out,
        attempts: [
          { attempt: 1, status: 'rejected', uid: 1, hotkey: 'hk1' },
          { attempt: 2, status: 'verified', uid, hotkey: `hk${uid}` },
        ],
      },
    ],
    result: { outputs: { data: out }, provenance: [{ stepId: 'data', attempt: 2, uid, hotkey: `hk${uid}` }] },
  };
}

function cleanHistory(jobId = 'job_a'): History {
  return {
    submitted: [jobId],
    messages: [
      msg('ORCH_JOBS', 'orch.job.submitted', 'job.submitted', jobId, `job.submitted:${jobId}`, {}),
      msg('ORCH_TASKS', 'orch.task.ready.13', 'task.ready', jobId, `task.ready:${jobId}:data:1`, {}),
      taskResult(jobId, 1, 1),
      msg('ORCH_JOBS', 'orch.job.step.rejected', 'step.rejected', jobId, `step.rejected:${jobId}:data:1`, {}),
      msg('ORCH_TASKS', 'orch.task.ready.13', 'task.ready', jobId, `task.ready:${jobId}:data:2`, {}),
      taskResult(jobId, 2, 2),
      verified(jobId, 2, 2),
      event(jobId, 'job.succeeded'),
    ],
    finalRecords: [{ jobId, revision: 5, record: succeededRecord(jobId) }],
    observedRevisions: [
      { jobId, revision: 1, record: { jobId, status: 'running', steps: [{ id: 'data', status: 'running', attempts: [{ attempt: 1, status: 'dispatched' }] }] } },
      { jobId, revision: 5, record: succeededRecord(jobId) },
    ],
  };
}

const kindsOf = (history: History) => checkHistory(history).anomalies.map((a) => a.kind);

describe('history checker', () => {
  it('passes a clean history (a rejection and a retry are not anomalies)', () => {
    const report = checkHistory(cleanHistory());
    expect(report.anomalies).toEqual([]);
    expect(report.counts).toEqual({ lost: 0, finishedTwice: 0, multipleCommits: 0, unverifiedResult: 0 });
    expect(report.statuses).toEqual({ succeeded: 1 });
    expect(report.messageTypes).toMatchObject({ 'task.result': 2, 'step.verified': 1, 'job.event': 1 });
    expect(formatReport(report)).toMatch(/anomalies: lost\s+0/);
  });

  it('passes a failed job, and a redelivered step.verified of the committed attempt', () => {
    const history = cleanHistory();
    const failed = { jobId: 'job_f', status: 'failed', steps: [{ id: 'data', status: 'failed', attempts: [{ attempt: 1, status: 'rejected', uid: 1 }] }] };
    expect(
      checkHistory({
        ...history,
        submitted: [...history.submitted, 'job_f'],
        messages: [...history.messages, verified('job_a', 2, 2), event('job_f', 'job.failed')],
        finalRecords: [...history.finalRecords, { jobId: 'job_f', revision: 3, record: failed }],
      }).anomalies,
    ).toEqual([]);
  });

  it('finds a lost job: no record, still running, or no terminal event', () => {
    const history = cleanHistory();
    expect(kindsOf({ ...history, submitted: ['job_a', 'job_never'] })).toEqual(['lost']);
    const running = { ...succeededRecord('job_a'), status: 'running' };
    expect(kindsOf({ ...history, finalRecords: [{ jobId: 'job_a', revision: 9, record: running }], observedRevisions: [] })).toContain('lost');
    expect(kindsOf({ ...history, messages: history.messages.filter((m) => (m.body as { type: string }).type !== 'job.event') })).toEqual(['lost']);
  });

  it('finds a job finished twice: two terminal events, or a terminal status that changed', () => {
    const history = cleanHistory();
    expect(kindsOf({ ...history, messages: [...history.messages, event('job_a', 'job.failed')] })).toContain('finishedTwice');
    const failedFirst = { jobId: 'job_a', revision: 4, record: { ...succeededRecord('job_a'), status: 'failed', result: undefined } };
    expect(kindsOf({ ...history, observedRevisions: [...(history.observedRevisions ?? []), failedFirst] })).toEqual(['finishedTwice']);
  });

  it('finds a step with more than one committed result', () => {
    const history = cleanHistory();
    const twoVerified = succeededRecord('job_a');
    twoVerified.steps[0].attempts[0].status = 'verified';
    expect(kindsOf({ ...history, finalRecords: [{ jobId: 'job_a', revision: 5, record: twoVerified }], observedRevisions: [] })).toContain('multipleCommits');
    // The output committed earlier was later replaced by another.
    const earlier = { jobId: 'job_a', revision: 3, record: { ...succeededRecord('job_a', otherOutput), status: 'running' } };
    expect(kindsOf({ ...history, observedRevisions: [earlier] })).toEqual(['multipleCommits']);
    // Two step.verified messages of one attempt that disagree.
    expect(kindsOf({ ...history, messages: [...history.messages, verified('job_a', 2, 2, otherOutput)] })).toEqual(['multipleCommits']);
  });

  it('finds a result that differs from what a verified miner answered', () => {
    const history = cleanHistory();
    // The report carries an output no step.verified message carries.
    const forged = { jobId: 'job_a', revision: 5, record: succeededRecord('job_a', otherOutput) };
    expect(kindsOf({ ...history, finalRecords: [forged], observedRevisions: [] })).toContain('unverifiedResult');
    // The provenance names a miner other than the one whose task.result was verified.
    const misattributed = { jobId: 'job_a', revision: 5, record: succeededRecord('job_a', output, 3) };
    expect(kindsOf({ ...history, finalRecords: [misattributed], observedRevisions: [] })).toContain('unverifiedResult');
    // The attempt's task.result is missing.
    const noResult = history.messages.filter((m) => (m.body as { id: string }).id !== 'task.result:job_a:data:2');
    expect(kindsOf({ ...history, messages: noResult })).toEqual(['unverifiedResult']);
  });

  it('names every anomaly kind in its counts', () => {
    expect(Object.keys(checkHistory({ submitted: [], messages: [], finalRecords: [] }).counts)).toEqual([...ANOMALY_KINDS]);
  });
});
