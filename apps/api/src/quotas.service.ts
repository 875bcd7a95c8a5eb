import { Injectable } from '@nestjs/common';
import { Bus, compareAndSet, readJson } from '@orchestra/bus';
import { Buckets, JobSpecSchema, JobStateSchema, TERMINAL_JOB_STATUSES } from '@orchestra/contracts';
import {
  DeploymentLedgerSchema,
  EMPTY_DEPLOYMENT_LEDGER,
  EMPTY_TENANT_LEDGER,
  JobOutcome,
  ORPHAN_AFTER_MS,
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
import { Amounts, TenancySettings, TenantQuotas, ZERO, spentBy } from './tenants';

const tenantKey = (tenant: string) => `tenant.${tenant}`;
const DEPLOYMENT_KEY = 'deployment';
/** Tenants settled at once by settleAll. */
const SETTLE_ALL_PARALLEL = 8;

/** A reservation made by {@link QuotasService.admit}, to release if the submission does not go ahead. */
export interface Reservation {
  readonly tenant: string;
  readonly jobId: string;
  readonly at: number;
  readonly budget: Amounts;
}

/**
 * Applies the ledgers (ledger.ts) to `orch_usage`: admits a submission by reserving its
 * budget under the tenant's quotas and the deployment's ceiling, and settles the
 * reservations of jobs that have finished. Settlement is lazy, done when it can change an
 * answer: a submission the tenant's concurrency or daily spend would refuse first settles
 * that tenant's finished jobs and tries again; one the deployment ceiling would refuse
 * first settles every tenant's. Reading usage and deleting a job settle too. So the
 * common submission costs two compare-and-sets, and a finished job's budget is given back
 * by the first request it would otherwise hold up.
 */
@Injectable()
export class QuotasService {
  constructor(private readonly bus: Bus) {}

  /**
   * Reserves `budget` for a new job of `tenant`, or throws the 429 of the quota it would
   * break. Writes nothing when it refuses.
   */
  async admit(tenant: string, jobId: string, budget: Amounts, quotas: TenantQuotas, settings: TenancySettings): Promise<Reservation> {
    const now = Date.now();
    await this.reserveForTenantOrRefuse(tenant, jobId, budget, quotas, now);
    const reservation = { tenant, jobId, at: now, budget };
    let refusal = await this.reserveForDeployment(budget, settings, now);
    if (refusal) {
      await this.settleAll();
      refusal = await this.reserveForDeployment(budget, settings, now);
    }
    if (refusal) {
      await this.release(reservation, false);
      throw refusal;
    }
    return reservation;
  }

  /**
   * Admits a dry run (`dryRun: true`): it counts against the tenant's submission rate like any
   * job, but the planner hires nobody for it, so it reserves no budget (the tenant's or the
   * deployment's) and holds no running slot — as if settled, spending nothing, the moment it is
   * admitted. Throws the 429 of the rate.
   */
  async admitDryRun(tenant: string, jobId: string, quotas: TenantQuotas): Promise<Reservation> {
    const now = Date.now();
    let refusal: ApiProblem | undefined;
    await compareAndSet(await this.bus.kv(Buckets.usage, 'leader'), tenantKey(tenant), TenantLedgerSchema, (current) => {
      const next = countDryRun(current ?? EMPTY_TENANT_LEDGER, quotas, now);
      refusal = next instanceof ApiProblem ? next : undefined;
      return next instanceof ApiProblem ? undefined : next;
    });
    if (refusal) throw refusal;
    return { tenant, jobId, at: now, budget: ZERO };
  }

  /** Reserves in the tenant's ledger, settling its finished jobs first when only they could make room; throws the 429 otherwise. */
  private async reserveForTenantOrRefuse(tenant: string, jobId: string, budget: Amounts, quotas: TenantQuotas, now: number): Promise<void> {
    let refusal = await this.reserveForTenant(tenant, jobId, budget, quotas, now);
    // Only finished jobs' reservations can make room, and the rate window cannot be helped by them.
    if (refusal && refusal.kind !== 'rate-limited') {
      await this.settle(tenant);
      refusal = await this.reserveForTenant(tenant, jobId, budget, quotas, now);
    }
    if (refusal) throw refusal;
  }

  /** Reserves in the tenant's ledger; the 429 instead when it does not fit (nothing written then). */
  private async reserveForTenant(tenant: string, jobId: string, budget: Amounts, quotas: TenantQuotas, now: number): Promise<ApiProblem | undefined> {
    let refusal: ApiProblem | undefined;
    await compareAndSet(await this.bus.kv(Buckets.usage, 'leader'), tenantKey(tenant), TenantLedgerSchema, (current) => {
      const next = reserveForTenant(current ?? EMPTY_TENANT_LEDGER, jobId, budget, quotas, now);
      refusal = next instanceof ApiProblem ? next : undefined;
      return next instanceof ApiProblem ? undefined : next;
    });
    return refusal;
  }

  private async reserveForDeployment(budget: Amounts, settings: TenancySettings, now: number): Promise<ApiProblem | undefined> {
    let refusal: ApiProblem | undefined;
    await compareAndSet(await this.bus.kv(Buckets.usage, 'leader'), DEPLOYMENT_KEY, DeploymentLedgerSchema, (current) => {
      const next = reserveForDeployment(current ?? EMPTY_DEPLOYMENT_LEDGER, budget, settings.deploymentSpendPerDay, now);
      refusal = next instanceof ApiProblem ? next : undefined;
      return next instanceof ApiProblem ? undefined : next;
    });
    return refusal;
  }

  /** Settles every tenant with reservations (a few at a time): what the deployment ceiling needs before it refuses anyone. */
  async settleAll(): Promise<void> {
    const kv = await this.bus.kv(Buckets.usage, 'leader');
    const tenants: string[] = [];
    for await (const key of await kv.keys(tenantKey('>'))) tenants.push(key.slice(tenantKey('').length));
    for (let i = 0; i < tenants.length; i += SETTLE_ALL_PARALLEL) await Promise.all(tenants.slice(i, i + SETTLE_ALL_PARALLEL).map((t) => this.settle(t)));
  }

  /** Gives a reservation back (the job was not accepted after all, e.g. a concurrent duplicate won). */
  async release(reservation: Reservation, deploymentToo = true): Promise<void> {
    const kv = await this.bus.kv(Buckets.usage, 'leader');
    const { changed } = await compareAndSet(kv, tenantKey(reservation.tenant), TenantLedgerSchema, (current) =>
      current ? releaseTenant(current, reservation.jobId, reservation.at) : undefined,
    );
    if (changed && deploymentToo) {
      const day = new Date(reservation.at).toISOString().slice(0, 10);
      await compareAndSet(kv, DEPLOYMENT_KEY, DeploymentLedgerSchema, (current) =>
        current ? settleDeployment(current, [{ jobId: reservation.jobId, day, reserved: reservation.budget, spent: ZERO }], Date.now()) : undefined,
      );
    }
  }

  /** The tenant's usage per UTC day (after settling what has finished). */
  async usage(tenant: string) {
    const ledger = await this.settle(tenant);
    return { tenant, running: Object.keys(ledger.active).length, days: usageByDay(ledger) };
  }

  /**
   * Settles the tenant's finished jobs: each reservation becomes the job's real spend.
   * The deployment ledger is corrected by whoever's compare-and-set removed the
   * reservation, so a settlement counts once however many replicas race to make it.
   */
  async settle(tenant: string): Promise<TenantLedger> {
    const kv = await this.bus.kv(Buckets.usage, 'leader');
    const ledger = (await readJson(kv, tenantKey(tenant), TenantLedgerSchema)) ?? EMPTY_TENANT_LEDGER;
    const ids = Object.keys(ledger.active);
    if (ids.length === 0) return ledger;
    const now = Date.now();
    const outcomes = new Map(await Promise.all(ids.map(async (id) => [id, await this.outcome(id, ledger.active[id].at, now)] as const)));
    if (![...outcomes.values()].some((o) => o.kind !== 'running')) return ledger;
    let settled: ReturnType<typeof settleTenant>['settled'] = [];
    const { value } = await compareAndSet(kv, tenantKey(tenant), TenantLedgerSchema, (current) => {
      const result = settleTenant(current ?? EMPTY_TENANT_LEDGER, outcomes, now);
      settled = result.settled;
      return settled.length > 0 ? result.ledger : undefined;
    });
    if (settled.length > 0) {
      const done = settled;
      await compareAndSet(kv, DEPLOYMENT_KEY, DeploymentLedgerSchema, (current) => (current ? settleDeployment(current, done, now) : undefined));
    }
    return value ?? EMPTY_TENANT_LEDGER;
  }

  /** How a job with a reservation stands, from its record (or its absence). */
  private async outcome(jobId: string, reservedAt: number, now: number): Promise<JobOutcome> {
    const state = await readJson(await this.bus.kv(Buckets.jobs), jobId, JobStateSchema);
    if (state) return TERMINAL_JOB_STATUSES.includes(state.status) ? { kind: 'finished', spent: spentBy(state) } : { kind: 'running' };
    // Queued (the planner has not written its record yet), or its submission is still being made.
    if (now - reservedAt < ORPHAN_AFTER_MS) return { kind: 'running' };
    const spec = await readJson(await this.bus.kv(Buckets.submissions), jobId, JobSpecSchema);
    return spec ? { kind: 'running' } : { kind: 'gone' };
  }
}
