import { z } from 'zod';
import { ApiProblem } from './problem';
import { Amounts, SpendCap, TenantQuotas, UNITS, ZERO, addAmounts } from './tenants';

/**
 * The spend ledgers behind quotas, as pure functions of (ledger, request, now): the KV
 * records in `orch_usage` change only through them, by compare-and-set, so concurrent
 * submissions on any number of API replicas cannot overshoot a cap together.
 *
 * A job reserves its whole budget when it is accepted; the reservation counts against
 * the day it was accepted until the job finishes, when it is settled: replaced by what the
 * job really spent. So the daily spend is "spent by finished jobs + budgets of running
 * ones", and N jobs accepted at once cannot together promise more than the day allows.
 */

const AmountsSchema = z.object({ tao: z.number().nonnegative() });
const DaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Days of usage kept in a ledger. */
export const DAYS_KEPT = 35;
/** The rate window, s. */
export const RATE_WINDOW_S = 60;
/** A reservation whose job never appeared (its submission died half-way) is released after this, ms. */
export const ORPHAN_AFTER_MS = 60_000;
/** Retry-After when only a running job's end can free room, s: when that happens is unknown. */
export const RETRY_WHEN_A_JOB_ENDS_S = 5;

export const TenantLedgerSchema = z.object({
  /** Budgets reserved by jobs not yet settled: jobId → the day it counts for, its budget, when it was reserved (ms). */
  active: z.record(z.string(), z.object({ day: DaySchema, reserved: AmountsSchema, at: z.number() })),
  /**
   * The rate window: submissions accepted per second (epoch second, count), the last
   * minute's only. Per-second counts keep the record small whatever jobsPerMinute allows.
   */
  recent: z.array(z.tuple([z.number().int(), z.number().int().positive()])).max(RATE_WINDOW_S),
  /** Per UTC day: jobs accepted and what settled jobs spent. */
  days: z.record(DaySchema, z.object({ jobs: z.number().int().nonnegative(), spent: AmountsSchema })),
});
export type TenantLedger = z.infer<typeof TenantLedgerSchema>;

export const DeploymentLedgerSchema = z.object({
  /** Per UTC day: budgets reserved by running jobs, and what settled jobs spent. */
  days: z.record(DaySchema, z.object({ reserved: AmountsSchema, spent: AmountsSchema })),
});
export type DeploymentLedger = z.infer<typeof DeploymentLedgerSchema>;

export const EMPTY_TENANT_LEDGER: TenantLedger = { active: {}, recent: [], days: {} };
export const EMPTY_DEPLOYMENT_LEDGER: DeploymentLedger = { days: {} };

export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

function secondsToMidnight(now: number): number {
  const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now) / 1000));
}

/** Only the last DAYS_KEPT days. */
function pruneDays<T>(days: Record<string, T>, now: number): Record<string, T> {
  const oldest = utcDay(now - DAYS_KEPT * 86_400_000);
  return Object.fromEntries(Object.entries(days).filter(([day]) => day > oldest));
}

/** A 429: which quota, for how long, in words. */
export function quotaProblem(kind: string, title: string, detail: string, retryAfterS: number): ApiProblem {
  return new ApiProblem(429, kind, title, detail, undefined, { 'retry-after': String(retryAfterS) });
}

/** The window's seconds still within the last minute at `second`, oldest first. */
function inWindow(recent: TenantLedger['recent'], second: number): TenantLedger['recent'] {
  return recent.filter(([at]) => at > second - RATE_WINDOW_S).sort((a, b) => a[0] - b[0]);
}

/** The window with `delta` more submissions at `second` (a count that reaches 0 is dropped). */
function countIn(recent: TenantLedger['recent'], second: number, delta: number): TenantLedger['recent'] {
  const counts = new Map(recent);
  const n = (counts.get(second) ?? 0) + delta;
  if (n > 0) counts.set(second, n);
  else counts.delete(second);
  return [...counts].sort((a, b) => a[0] - b[0]);
}

/** Whether `amount` more fits under `cap` given `used`: the first unit that does not, or undefined. */
function overCap(used: Amounts, amount: Amounts, cap: SpendCap): { unit: string; used: number; cap: number } | undefined {
  for (const unit of UNITS) {
    const limit = cap[unit];
    if (limit !== undefined && used[unit] + amount[unit] > limit + 1e-9) return { unit, used: used[unit], cap: limit };
  }
  return undefined;
}

/** The tenant's spend counted against `day`: settled spend plus the budgets still reserved for it. */
export function dailyUse(ledger: TenantLedger, day: string): Amounts {
  const reserved = Object.values(ledger.active)
    .filter((r) => r.day === day)
    .reduce((sum, r) => addAmounts(sum, r.reserved), ZERO);
  return addAmounts(ledger.days[day]?.spent ?? ZERO, reserved);
}

/** The 429 of the submission rate (jobsPerMinute) when one more submission would break it. */
function rateRefusal(recent: TenantLedger['recent'], quotas: TenantQuotas, second: number): ApiProblem | undefined {
  const count = recent.reduce((sum, [, n]) => sum + n, 0);
  if (count >= quotas.jobsPerMinute) {
    // Room comes back when enough of the oldest seconds have left the window.
    let left = count;
    let frees = second + 1;
    for (const [at, n] of recent) {
      left -= n;
      if (left < quotas.jobsPerMinute) {
        frees = at + RATE_WINDOW_S;
        break;
      }
    }
    return quotaProblem(
      'rate-limited',
      'Too many submissions',
      `This tenant may submit ${quotas.jobsPerMinute} jobs per minute; wait for Retry-After seconds, or ask an admin to raise jobsPerMinute.`,
      Math.max(1, frees - second),
    );
  }
  return undefined;
}

/**
 * The tenant's ledger with a dry run counted, or the 429 of the submission rate: it counts in
 * the rate window and the day's jobs like any submission, but the planner hires nobody for
 * it, so it reserves no budget and holds no running slot (there is nothing to settle later).
 */
export function countDryRun(ledger: TenantLedger, quotas: TenantQuotas, now: number): TenantLedger | ApiProblem {
  const second = Math.floor(now / 1000);
  const recent = inWindow(ledger.recent, second);
  const rate = rateRefusal(recent, quotas, second);
  if (rate) return rate;
  const day = utcDay(now);
  const today = ledger.days[day] ?? { jobs: 0, spent: ZERO };
  return { active: ledger.active, recent: countIn(recent, second, 1), days: pruneDays({ ...ledger.days, [day]: { ...today, jobs: today.jobs + 1 } }, now) };
}

/**
 * The tenant's ledger with `jobId`'s budget reserved, or the 429 that refuses it: the rate
 * (jobsPerMinute), concurrency (concurrentJobs) or daily spend (spendPerDay).
 */
export function reserveForTenant(ledger: TenantLedger, jobId: string, budget: Amounts, quotas: TenantQuotas, now: number): TenantLedger | ApiProblem {
  const second = Math.floor(now / 1000);
  const recent = inWindow(ledger.recent, second);
  const rate = rateRefusal(recent, quotas, second);
  if (rate) return rate;
  const running = Object.keys(ledger.active).length;
  if (running >= quotas.concurrentJobs) {
    return quotaProblem(
      'too-many-concurrent-jobs',
      'Too many running jobs',
      `This tenant may have ${quotas.concurrentJobs} unfinished jobs at once and has ${running}; retry when one finishes, or cancel one.`,
      RETRY_WHEN_A_JOB_ENDS_S,
    );
  }
  const day = utcDay(now);
  const over = overCap(dailyUse(ledger, day), budget, quotas.spendPerDay);
  if (over) {
    const waiting = Object.values(ledger.active).some((r) => r.day === day);
    return quotaProblem(
      'daily-spend-exhausted',
      'Daily spend reached',
      `This tenant has spent or reserved ${over.used} of its ${over.cap} ${over.unit.toUpperCase()} for ${day} (UTC), which leaves too little for this job's budget of ${budget[over.unit as keyof Amounts]}; ${
        waiting ? 'budgets of running jobs are released as they finish' : 'the day resets at 00:00 UTC'
      }. Submit with a smaller budget, or ask an admin to raise spendPerDay.`,
      waiting ? RETRY_WHEN_A_JOB_ENDS_S : secondsToMidnight(now),
    );
  }
  const today = ledger.days[day] ?? { jobs: 0, spent: ZERO };
  return {
    active: { ...ledger.active, [jobId]: { day, reserved: budget, at: now } },
    recent: countIn(recent, second, 1),
    days: pruneDays({ ...ledger.days, [day]: { ...today, jobs: today.jobs + 1 } }, now),
  };
}

/** The deployment's ledger with `budget` reserved for today, or the 429 of the deployment's daily ceiling. */
export function reserveForDeployment(ledger: DeploymentLedger, budget: Amounts, ceiling: SpendCap, now: number): DeploymentLedger | ApiProblem {
  const day = utcDay(now);
  const today = ledger.days[day] ?? { reserved: ZERO, spent: ZERO };
  const over = overCap(addAmounts(today.spent, today.reserved), budget, ceiling);
  if (over) {
    const waiting = UNITS.some((u) => today.reserved[u] > 0);
    return quotaProblem(
      'deployment-spend-exhausted',
      'Deployment spend ceiling reached',
      `This deployment has spent or reserved ${over.used} of its ${over.cap} ${over.unit.toUpperCase()} for ${day} (UTC); ${
        waiting ? 'budgets of running jobs are released as they finish' : 'the day resets at 00:00 UTC'
      }. Submit with a smaller budget, or ask the operators to raise ORCH_SPEND_PER_DAY_TAO.`,
      waiting ? RETRY_WHEN_A_JOB_ENDS_S : secondsToMidnight(now),
    );
  }
  return { days: pruneDays({ ...ledger.days, [day]: { ...today, reserved: addAmounts(today.reserved, budget) } }, now) };
}

/** How a reserved job stands: still running, finished having spent this much, or gone (never accepted, or deleted). */
export type JobOutcome = { kind: 'running' } | { kind: 'finished'; spent: Amounts } | { kind: 'gone' };

/** A reservation that was settled: the day it counted for, what it reserved and what was spent. */
export interface Settlement {
  readonly jobId: string;
  readonly day: string;
  readonly reserved: Amounts;
  readonly spent: Amounts;
}

/** The tenant's ledger with the finished jobs' reservations replaced by their spend (and released ones dropped). */
export function settleTenant(ledger: TenantLedger, outcomes: ReadonlyMap<string, JobOutcome>, now: number): { ledger: TenantLedger; settled: Settlement[] } {
  const active = { ...ledger.active };
  const days = { ...ledger.days };
  const settled: Settlement[] = [];
  for (const [jobId, outcome] of outcomes) {
    const reservation = active[jobId];
    if (!reservation || outcome.kind === 'running') continue;
    const spent = outcome.kind === 'finished' ? outcome.spent : ZERO;
    delete active[jobId];
    const day = days[reservation.day] ?? { jobs: 0, spent: ZERO };
    days[reservation.day] = { ...day, spent: addAmounts(day.spent, spent) };
    settled.push({ jobId, day: reservation.day, reserved: reservation.reserved, spent });
  }
  return { ledger: { active, recent: inWindow(ledger.recent, Math.floor(now / 1000)), days: pruneDays(days, now) }, settled };
}

/** The deployment's ledger with these settlements applied (reserved budgets out, spend in). */
export function settleDeployment(ledger: DeploymentLedger, settled: readonly Settlement[], now: number): DeploymentLedger {
  const days = { ...ledger.days };
  for (const s of settled) {
    const day = days[s.day];
    // A day already pruned has nothing left to correct.
    if (!day) continue;
    const reserved = addAmounts(day.reserved, s.reserved, -1);
    days[s.day] = {
      reserved: Object.fromEntries(UNITS.map((u) => [u, Math.max(0, reserved[u])])) as Amounts,
      spent: addAmounts(day.spent, s.spent),
    };
  }
  return { days: pruneDays(days, now) };
}

/** The tenant's ledger without `jobId`'s reservation (a submission that did not go ahead after all). */
export function releaseTenant(ledger: TenantLedger, jobId: string, at: number): TenantLedger | undefined {
  const reservation = ledger.active[jobId];
  if (!reservation) return undefined;
  const { [jobId]: _released, ...active } = ledger.active;
  const day = ledger.days[reservation.day];
  const days = day ? { ...ledger.days, [reservation.day]: { ...day, jobs: Math.max(0, day.jobs - 1) } } : ledger.days;
  return { active, recent: countIn(ledger.recent, Math.floor(at / 1000), -1), days };
}

/** A tenant's usage per day, newest first, as `GET /v1/usage` shows it. */
export function usageByDay(ledger: TenantLedger): Array<{ day: string; jobs: number; spent: Amounts; reserved: Amounts }> {
  const days = new Set([...Object.keys(ledger.days), ...Object.values(ledger.active).map((r) => r.day)]);
  return [...days]
    .sort()
    .reverse()
    .map((day) => {
      const reserved = Object.values(ledger.active)
        .filter((r) => r.day === day)
        .reduce((sum, r) => addAmounts(sum, r.reserved), ZERO);
      return { day, jobs: ledger.days[day]?.jobs ?? 0, spent: ledger.days[day]?.spent ?? ZERO, reserved };
    });
}
