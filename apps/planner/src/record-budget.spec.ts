import { JobSpec, ObjectRef, jsonBytes } from '@orchestra/contracts';
import { applyRejected, applyVerified, outstandingTasks, startJob } from './job-machine';
import { resolveInput } from './plan';
import { fitRecord } from './record-budget';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

const job = (overrides: Partial<JobSpec> = {}): JobSpec => ({
  jobId: 'job_b',
  tenant: 'default',
  goal: 'Analyze these financial filings and write a Python script to graph the trends',
  inputs: {},
  limits: { maxTao: 1, maxAttemptsPerStep: 6, deadlineMs: 60_000, maxMinerCalls: 32 },
  submittedAt: t0.toISOString(),
  ...overrides,
});

const rejection = (attempt: number, reason: string) => ({
  stepId: 'data',
  attempt,
  uid: attempt,
  hotkey: `hk${attempt}`,
  kind: 'schema' as const,
  reason,
  errors: Array.from({ length: 20 }, (_, i) => `rows.${i}.value: ${reason}`),
  latencyMs: 1,
  costTao: 0,
  hedgedUids: [],
});

describe('the record budget', () => {
  it("references the client's inputs from the playbook instead of copying them into the step", () => {
    // As many as a data.financials step takes (the plan checks refuse more before anything is hired).
    const entities = Array.from({ length: 10 }, (_, i) => `TICKER${i}`);
    const { state } = startJob(job({ inputs: { entities } }), t0);
    const data = state.steps.find((s) => s.id === 'data');
    expect(data?.input).toMatchObject({ entities: { $ref: '/inputs/entities' }, metrics: ['revenue', 'net_income'] });
    expect(JSON.stringify(state.steps)).not.toContain('TICKER0');
    // The task still carries the values.
    expect((outstandingTasks(state)[0].payload.input as { entities: string[] }).entities).toEqual(entities);
  });

  it('leaves a record within budget unchanged', () => {
    const started = startJob(job(), t0);
    expect(fitRecord(started, { recordBudgetBytes: 1_000_000 }, t0)).toBe(started);
  });

  it('compacts the long reasons of attempts that are over before it fails anything', () => {
    let state = startJob(job(), t0).state;
    for (let attempt = 1; attempt <= 4; attempt++) state = applyRejected(state, rejection(attempt, 'y'.repeat(3_000)), at(attempt))!.state;
    const transition = { state, events: [] };
    const budget = { recordBudgetBytes: jsonBytes(state) - 10_000 };
    const fitted = fitRecord(transition, budget, at(10));
    expect(fitted.state.status).toBe('running');
    expect(jsonBytes(fitted.state)).toBeLessThanOrEqual(budget.recordBudgetBytes);
    const attempts = fitted.state.steps.find((s) => s.id === 'data')!.attempts;
    expect(attempts[0].reason!.length).toBeLessThan(300);
    expect(attempts[0].errors).toHaveLength(3);
    // The latest attempt keeps its own (it is still dispatched; the re-ask's feedback comes from the ones before).
    expect(attempts.at(-1)?.status).toBe('dispatched');
  });

  it('fails a job whose record cannot fit with too_large, keeping the failure itself small', () => {
    // Inputs the plan does not read still live in the record.
    const huge = { notes: Array.from({ length: 50_000 }, (_, i) => `ENTITY-${i}`) };
    const started = startJob(job({ inputs: huge }), t0);
    const fitted = fitRecord(started, { recordBudgetBytes: 100_000 }, t0);
    expect(fitted.state).toMatchObject({ status: 'failed', inputs: {}, error: { code: 'too_large' } });
    expect(fitted.state.error?.message).toMatch(/record would be \d+ bytes, over its budget of 100000 bytes \(ORCH_RECORD_BUDGET_BYTES\)/);
    expect(jsonBytes(fitted.state)).toBeLessThan(100_000);
    expect(fitted.events.map((e) => e.event)).toEqual(['job.planned', 'step.dispatched', 'job.failed']);
    expect(outstandingTasks(fitted.state)).toEqual([]);
  });

  it('records a stored output by reference, and dependants reference the part they read', () => {
    let state = startJob(job(), t0).state;
    const ref: ObjectRef = { $object: { bucket: 'orch_outputs', name: 'job_b/steps/data/1/output', bytes: 900_000, digest: 'SHA-256=abc' } };
    const output = { rows: [{ entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 1, unit: 'USD_millions', source: 's' }] };
    state = applyVerified(
      state,
      { stepId: 'data', attempt: 1, uid: 1, hotkey: 'hk', coldkey: null, netuid: 13, output, latencyMs: 1, costTao: 0, hedgedUids: [] },
      at(1),
      ref,
    )!.state;
    expect(state.steps.find((s) => s.id === 'data')?.output).toEqual(ref);
    const analysis = outstandingTasks(state).find((t) => t.payload.stepId === 'analysis');
    expect((analysis?.payload.input as { rows: unknown }).rows).toEqual({ $object: { ...ref.$object, pointer: '/rows' } });
    expect(resolveInput({ $ref: '/steps/data/output' }, { inputs: {}, steps: { data: { output: ref } } })).toEqual(ref);
  });
});
