import {
  EMPTY_DEPLOYMENT_LEDGER,
  EMPTY_TENANT_LEDGER,
  JobOutcome,
  TenantLedger,
  TenantLedgerSchema,
  countDryRun,
  releaseTenant,
  reserveForDeployment,
  reserveForTenant,
  settleDeployment,
  settleTenant,
  usageByDay,
} from './ledger';
import { ApiProblem } from './problem';
import { BUILT_IN_QUOTAS, TenantQuotas } from './tenants';

/** The quota ledgers as pure functions: what is admitted, refused and settled, and when room comes back. */

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const quotas = (patch: Partial<TenantQuotas>): TenantQuotas => ({ ...BUILT_IN_QUOTAS, ...patch });
const tao = (n: number) => ({ tao: n });

/** Reserves jobs j0, j1… at the given times, expecting each to be admitted. */
function admitted(times: number[], q: TenantQuotas, budget = 0.1): TenantLedger {
  return times.reduce<TenantLedger>((ledger, at, i) => {
    const next = reserveForTenant(ledger, `j${i}`, tao(budget), q, at);
    if (next instanceof ApiProblem) throw new Error(`j${i} refused: ${next.detail}`);
    return next;
  }, EMPTY_TENANT_LEDGER);
}

describe('tenant ledger', () => {
  it('refuses past jobsPerMinute, with Retry-After when the oldest submissions leave the window', () => {
    const q = quotas({ jobsPerMinute: 3, concurrentJobs: 100 });
    const ledger = admitted([T0, T0 + 10_000, T0 + 10_500], q);
    const refused = reserveForTenant(ledger, 'late', tao(0.1), q, T0 + 20_000);
    expect(refused).toBeInstanceOf(ApiProblem);
    expect(refused).toMatchObject({ status: 429, kind: 'rate-limited', headers: { 'retry-after': '40' } });
    // One second after the first left the window there is room again.
    expect(reserveForTenant(ledger, 'later', tao(0.1), q, T0 + 60_000)).not.toBeInstanceOf(ApiProblem);
  });

  it('keeps the rate window to one entry per second, however many submissions', () => {
    const q = quotas({ jobsPerMinute: 100_000, concurrentJobs: 1_000 });
    const ledger = admitted(
      Array.from({ length: 500 }, (_, i) => T0 + i * 200),
      q,
      0.001,
    );
    expect(ledger.recent).toHaveLength(60);
    expect(ledger.recent.reduce((n, [, c]) => n + c, 0)).toBe(300);
    expect(() => TenantLedgerSchema.parse(ledger)).not.toThrow();
  });

  it('refuses past concurrentJobs until a reservation is settled', () => {
    const q = quotas({ concurrentJobs: 2 });
    const ledger = admitted([T0, T0 + 1], q);
    expect(reserveForTenant(ledger, 'third', tao(0.1), q, T0 + 2)).toMatchObject({ kind: 'too-many-concurrent-jobs', headers: { 'retry-after': '5' } });
    const outcomes = new Map<string, JobOutcome>([['j0', { kind: 'finished', spent: tao(0.05) }]]);
    const { ledger: settled, settled: done } = settleTenant(ledger, outcomes, T0 + 3);
    expect(done).toEqual([{ jobId: 'j0', day: '2026-12-01', reserved: tao(0.1), spent: tao(0.05) }]);
    expect(reserveForTenant(settled, 'third', tao(0.1), q, T0 + 4)).not.toBeInstanceOf(ApiProblem);
  });

  it("counts a dry run in the rate and the day's jobs only: no budget, no running slot, even at the caps", () => {
    const q = quotas({ jobsPerMinute: 3, concurrentJobs: 1, spendPerDay: tao(0.1) });
    const full = admitted([T0], q);
    const dry = countDryRun(full, q, T0 + 1_000) as TenantLedger;
    expect(dry).not.toBeInstanceOf(ApiProblem);
    expect(dry.active).toEqual(full.active);
    expect(usageByDay(dry)).toEqual([{ day: '2026-12-01', jobs: 2, spent: tao(0), reserved: tao(0.1) }]);
    const third = countDryRun(dry, q, T0 + 2_000) as TenantLedger;
    expect(countDryRun(third, q, T0 + 3_000)).toMatchObject({ status: 429, kind: 'rate-limited' });
  });

  it("counts running jobs' budgets in the day's spend, and the day's end resets it", () => {
    const q = quotas({ spendPerDay: tao(2), concurrentJobs: 10 });
    const ledger = admitted([T0, T0 + 1], q, 1);
    const refused = reserveForTenant(ledger, 'more', tao(0.5), q, T0 + 2);
    expect(refused).toMatchObject({ kind: 'daily-spend-exhausted', headers: { 'retry-after': '5' } });
    // Both ran and spent their whole budget: nothing is running, so only tomorrow helps (12 hours away).
    const spent = settleTenant(
      ledger,
      new Map<string, JobOutcome>([
        ['j0', { kind: 'finished', spent: tao(1) }],
        ['j1', { kind: 'finished', spent: tao(1) }],
      ]),
      T0 + 3,
    ).ledger;
    expect(reserveForTenant(spent, 'more', tao(0.5), q, T0 + 4)).toMatchObject({ kind: 'daily-spend-exhausted', headers: { 'retry-after': String(12 * 3600) } });
    expect(reserveForTenant(spent, 'tomorrow', tao(0.5), q, T0 + 12 * 3_600_000)).not.toBeInstanceOf(ApiProblem);
    expect(usageByDay(spent)).toEqual([{ day: '2026-12-01', jobs: 2, spent: tao(2), reserved: tao(0) }]);
  });

  it('releases a reservation whose submission did not go ahead, and a job that is gone settles at zero', () => {
    const q = quotas({});
    const ledger = admitted([T0, T0 + 1_500], q);
    const released = releaseTenant(ledger, 'j1', T0 + 1_500) as TenantLedger;
    expect(Object.keys(released.active)).toEqual(['j0']);
    expect(released.recent).toEqual([[T0 / 1000, 1]]);
    expect(released.days['2026-12-01'].jobs).toBe(1);
    expect(releaseTenant(released, 'j1', T0 + 1_500)).toBeUndefined();
    const { settled } = settleTenant(released, new Map<string, JobOutcome>([['j0', { kind: 'gone' }]]), T0 + 120_000);
    expect(settled).toEqual([expect.objectContaining({ jobId: 'j0', spent: tao(0) })]);
  });
});

describe('deployment ledger', () => {
  it('caps every tenant together per day and gives back what settled jobs did not spend', () => {
    const one = reserveForDeployment(EMPTY_DEPLOYMENT_LEDGER, tao(1), tao(1.5), T0);
    if (one instanceof ApiProblem) throw one;
    expect(reserveForDeployment(one, tao(1), tao(1.5), T0)).toMatchObject({ kind: 'deployment-spend-exhausted', status: 429 });
    const settled = settleDeployment(one, [{ jobId: 'j', day: '2026-12-01', reserved: tao(1), spent: tao(0.2) }], T0);
    expect(settled.days['2026-12-01']).toEqual({ reserved: tao(0), spent: tao(0.2) });
    expect(reserveForDeployment(settled, tao(1), tao(1.5), T0)).not.toBeInstanceOf(ApiProblem);
  });

  it('keeps 35 days', () => {
    let ledger = EMPTY_DEPLOYMENT_LEDGER;
    for (let day = 0; day < 50; day++) {
      const next = reserveForDeployment(ledger, tao(1), tao(10), T0 + day * 86_400_000);
      if (next instanceof ApiProblem) throw next;
      ledger = next;
    }
    expect(Object.keys(ledger.days)).toHaveLength(35);
  });
});
