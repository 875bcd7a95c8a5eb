import { JobSpec, StepRejected, StepVerified, minerCallsOf } from '@orchestra/contracts';
import { applyRejected, applyVerified, outstandingTasks, startJob } from './job-machine';
import { z } from 'zod';

/** The job machine with gateway sources: attempts name provider and source, cost in USD and TAO, exclusions by source key. */
const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

const code = { language: 'python', code: 'print(1)', dependencies: [], entrypoint: 'main.py' };
const job = (limits: Partial<JobSpec['limits']> = {}, reask?: 'same'): JobSpec => ({
  jobId: 'job_s',
  tenant: 'default',
  goal: 'write code',
  inputs: {},
  plan: [
    {
      id: 'code',
      capability: 'code.python',
      input: { task: 'plot revenue', rows: [{ entity: 'ACME', period: 'FY2023', metric: 'revenue', value: 120, unit: 'USD_millions', source: 'ACME 10-K FY2023' }] },
      deps: [],
      ...(reask ? { reask } : {}),
    },
  ],
  limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 60_000, maxMinerCalls: 32, ...limits },
  submittedAt: t0.toISOString(),
});

type Verified = z.infer<typeof StepVerified.payload>;
type Rejected = z.infer<typeof StepRejected.payload>;
const fromChutes = { provider: 'chutes' as const, uid: null, hotkey: null, netuid: 64, latencyMs: 40, hedgedUids: [] };

const rejectedBy = (attempt: number, source: string, kind: Rejected['kind'], hedgedSources: string[] = []): Rejected => ({
  ...fromChutes,
  stepId: 'code',
  attempt,
  source,
  kind,
  reason: `chutes model ${source} returned no JSON`,
  errors: kind === 'miner_error' ? [] : ['(root): not JSON'],
  costTao: 0.0001,
  costUsd: 0.04,
  hedgedSources,
});

describe('job machine with gateway sources', () => {
  it('records provider, source, subnet and both costs, and excludes tried sources (hedges included) by key', () => {
    const start = startJob(job(), t0);
    const after = applyRejected(start.state, rejectedBy(1, 'devnet/garbage-llm', 'not_json', ['chutes:devnet/slow-llm']), at(10))!;
    const attempt = after.state.steps[0].attempts[0];
    expect(attempt).toMatchObject({ provider: 'chutes', source: 'devnet/garbage-llm', netuid: 64, costUsd: 0.04, costTao: 0.0001, hedgedSources: ['chutes:devnet/slow-llm'] });
    expect(attempt.uid).toBeUndefined();
    expect(after.state.spend).toEqual({ totalTao: 0.0001, totalUsd: 0.04 });
    // The primary and its hedge are two calls.
    expect(minerCallsOf(after.state.steps)).toBe(2);
    const [task] = outstandingTasks(after.state);
    expect(task.payload.excludeSources).toEqual(['chutes:devnet/garbage-llm', 'chutes:devnet/slow-llm']);
    expect(task.payload.excludeUids).toEqual([]);
    expect(task.payload.feedback).toEqual(['(root): not JSON']);
  });

  it('re-asks the same model once with `reask: same`, by source key', () => {
    const start = startJob(job({}, 'same'), t0);
    const first = applyRejected(start.state, rejectedBy(1, 'devnet/good-llm', 'schema'), at(10))!;
    expect(outstandingTasks(first.state)[0].payload).toMatchObject({ preferSource: 'chutes:devnet/good-llm', excludeSources: [] });
    const second = applyRejected(first.state, rejectedBy(2, 'devnet/good-llm', 'schema'), at(20))!;
    const third = outstandingTasks(second.state)[0].payload;
    expect(third.preferSource).toBeUndefined();
    expect(third.excludeSources).toEqual(['chutes:devnet/good-llm']);
  });

  it('names each gateway attempt by provider and source when the step fails', () => {
    let state = startJob(job({ maxAttemptsPerStep: 2 }), t0).state;
    state = applyRejected(state, rejectedBy(1, 'devnet/garbage-llm', 'miner_error'), at(10))!.state;
    state = applyRejected(state, rejectedBy(2, 'devnet/good-llm', 'schema'), at(20))!.state;
    expect(state.status).toBe('failed');
    expect(state.error?.message).toContain('#1 chutes devnet/garbage-llm: chutes model devnet/garbage-llm returned no JSON; #2 chutes devnet/good-llm: ');
  });

  it('fails the job when the USD budget is exceeded, naming it', () => {
    const start = startJob(job({ maxUsd: 0.05 }), t0);
    const first = applyRejected(start.state, rejectedBy(1, 'a/b', 'not_json'), at(10))!;
    expect(first.state.status).toBe('running');
    const second = applyRejected(first.state, rejectedBy(2, 'c/d', 'not_json'), at(20))!;
    expect(second.state.status).toBe('failed');
    expect(second.state.error).toMatchObject({ code: 'budget_exceeded', message: expect.stringContaining("over the job's budget of $0.05") });
  });

  it('puts provider, source and USD in the report', () => {
    const start = startJob(job(), t0);
    const ok: Verified = { ...fromChutes, stepId: 'code', attempt: 1, source: 'devnet/good-llm', coldkey: null, output: code, costTao: 0.0002, costUsd: 0.08 };
    const done = applyVerified(start.state, ok, at(10))!;
    expect(done.state.status).toBe('succeeded');
    const report = done.state.result as { provenance: unknown[]; spend: unknown };
    expect(report.provenance[0]).toMatchObject({ stepId: 'code', provider: 'chutes', source: 'devnet/good-llm', netuid: 64, costUsd: 0.08, costTao: 0.0002 });
    expect(report.spend).toEqual({ totalTao: 0.0002, budgetTao: 1, totalUsd: 0.08 });
  });

  it('counts gateway sources as distinct voters by source in a quorum', () => {
    const spec = job();
    const quorum = { ...spec, plan: [{ ...spec.plan![0], quorum: { agree: 2, checker: 'same-json' as const }, maxAttempts: 4 }] };
    const vote = (attempt: number, source: string): Verified => ({ ...fromChutes, stepId: 'code', attempt, source, coldkey: null, output: code, costTao: 0, costUsd: 0.01 });
    const start = startJob(quorum, t0);
    expect(outstandingTasks(start.state).map((t) => t.payload.rankOffset)).toEqual([0, 1]);
    // Two models agreeing: verified.
    const first = applyVerified(start.state, vote(1, 'm/a'), at(10))!;
    const agreed = applyVerified(first.state, vote(2, 'm/b'), at(20))!;
    expect(agreed.state.steps[0].status).toBe('verified');
    // The same model twice is one voice: another source is hired instead.
    const again = applyVerified(first.state, vote(2, 'm/a'), at(20))!;
    expect(again.state.steps[0].status).toBe('running');
    expect(outstandingTasks(again.state)[0].payload.excludeSources).toEqual(['chutes:m/a']);
  });

  it('pins providers to the subnet a plan names', () => {
    const spec = job();
    const pinned = startJob({ ...spec, plan: [{ ...spec.plan![0], netuid: 64 }] }, t0);
    expect(outstandingTasks(pinned.state)[0].payload.netuidPinned).toBe(true);
    expect(outstandingTasks(startJob(spec, t0).state)[0].payload.netuidPinned).toBeUndefined();
  });
});
