import { JobState } from '@orchestra/contracts';
import { jobMetricDeltas } from './job-metrics';

const at = '2026-01-01T00:00:00.000Z';

function job(status: JobState['status'], attempts: JobState['steps'][number]['attempts'], stepStatus: JobState['steps'][number]['status'] = 'running'): JobState {
  return {
    jobId: 'job_1',
    tenant: 't',
    goal: 'g',
    inputs: {},
    limits: { maxTao: 1, maxAttemptsPerStep: 4, maxMinerCalls: 32, deadlineMs: 300_000 },
    status,
    submittedAt: at,
    updatedAt: '2026-01-01T00:00:12.500Z',
    deadlineAt: '2026-01-01T00:05:00.000Z',
    steps: [{ id: 'data', capability: 'data.financials', netuid: 13, schemaId: 'data.financials@1', input: {}, deps: [], maxAttempts: 4, status: stepStatus, attempts }],
    spend: { totalTao: 0 },
  };
}

const dispatched = { attempt: 1, status: 'dispatched' as const, rankOffset: 0, dispatchedAt: at, hedgedUids: [] };

describe('jobMetricDeltas', () => {
  it('counts what a transition committed: a rejection with its kind and its spend', () => {
    const before = job('running', [dispatched]);
    const after = job('running', [
      { ...dispatched, status: 'rejected', rejectedAs: 'schema', costTao: 0.002 },
      { ...dispatched, attempt: 2 },
    ]);
    const deltas = jobMetricDeltas(before, after);
    expect(deltas).toEqual({
      steps: [],
      attempts: [{ capability: 'data.financials', netuid: 13, outcome: 'rejected', kind: 'schema' }],
      spendTao: new Map([[13, 0.002]]),
    });
  });

  it('counts the end of a step and of the job once, with the job duration', () => {
    const before = job('running', [
      { ...dispatched, status: 'rejected', rejectedAs: 'schema', costTao: 0.002 },
      { ...dispatched, attempt: 2 },
    ]);
    const after = job('succeeded', [before.steps[0].attempts[0], { ...dispatched, attempt: 2, status: 'verified', costTao: 0.004 }], 'verified');
    expect(jobMetricDeltas(before, after)).toEqual({
      finished: { status: 'succeeded', reason: 'none', seconds: 12.5 },
      steps: [{ capability: 'data.financials', outcome: 'verified' }],
      attempts: [{ capability: 'data.financials', netuid: 13, outcome: 'verified', kind: undefined }],
      spendTao: new Map([[13, 0.004]]),
    });
    // The same record again (a redelivery that changed nothing) counts nothing.
    expect(jobMetricDeltas(after, after)).toEqual({ steps: [], attempts: [], spendTao: new Map() });
  });

  it('does not count a job waiting for approval as finished; a dry run ends `planned`', () => {
    const waiting = job('awaiting_approval', [], 'pending');
    expect(jobMetricDeltas(undefined, waiting).finished).toBeUndefined();
    expect(jobMetricDeltas(undefined, job('planned', [], 'pending')).finished).toMatchObject({ status: 'planned', reason: 'none' });
  });
});
