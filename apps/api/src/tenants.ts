import { Injectable } from '@nestjs/common';
import { Bus, compareAndSet, readJson } from '@orchestra/bus';
import { Buckets, JobLimitsSchema, type JobLimits, type JobState } from '@orchestra/contracts';
import { z } from 'zod';
import { ApiProblem, FieldError } from './problem';

/**
 * Tenants' quotas: how fast and how much a tenant may submit, and what its jobs may spend.
 *
 * Spend is capped per unit. Today the one unit is TAO; a cap in USD slots in beside it by
 * adding `usd` to {@link SPEND_UNITS} (the job's USD budget and USD spend) and to
 * {@link SpendSchema}: every check and ledger below works on whatever units are listed.
 */

/** Tenant names: also KV key tokens. */
export const TENANT_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const TenantSchema = z.string().regex(TENANT_PATTERN, 'tenants are 1-64 characters of a-z, 0-9, _ and -');

/** Each unit spend is capped in: where a job's budget in it is, and what a finished job spent in it. */
export const SPEND_UNITS = {
  tao: {
    budget: (limits: JobLimits) => limits.maxTao,
    spent: (state: JobState) => state.spend.totalTao,
    /** The job field a budget in this unit is set by (named in 422s). */
    field: '/limits/maxTao',
  },
} as const;
export type SpendUnit = keyof typeof SPEND_UNITS;
export const UNITS = Object.keys(SPEND_UNITS) as SpendUnit[];

/** An amount per unit. */
export type Amounts = Record<SpendUnit, number>;
/** A cap per unit: a unit left out is not capped. */
export const SpendSchema = z.object({ tao: z.number().positive().max(1_000_000).optional() }).strict();
export type SpendCap = z.infer<typeof SpendSchema>;

export const ZERO: Amounts = { tao: 0 };
export const addAmounts = (a: Amounts, b: Amounts, sign = 1): Amounts => Object.fromEntries(UNITS.map((u) => [u, round(a[u] + sign * b[u])])) as Amounts;
/** Sums keep 12 decimals: repeated additions of binary fractions would otherwise drift past a cap they meet exactly. */
const round = (n: number) => Math.round(n * 1e12) / 1e12;

/**
 * The providers a tenant may exclude. (Provider ids as the wave's design names them: the
 * gateways and `axon`, direct calls to miners.)
 */
export const PROVIDER_IDS = ['chutes', 'desearch', 'constellation', 'axon'] as const;

/** A tenant's quotas. */
export const TenantQuotasSchema = z
  .object({
    /** Submissions in any 60 s; 429 beyond. */
    jobsPerMinute: z.number().int().min(1).max(100_000),
    /** Jobs not yet finished; 429 beyond. */
    // At most 1,000: each running job is an entry of the tenant's ledger, rewritten on every submission.
    concurrentJobs: z.number().int().min(1).max(1_000),
    /** Largest budget one job may ask for; 422 beyond. It is also the default budget's ceiling. */
    maxSpendPerJob: SpendSchema,
    /** Spend per UTC day, counting the budgets of the tenant's running jobs; 429 beyond. */
    spendPerDay: SpendSchema,
    /** Providers this tenant's jobs must not buy from. */
    excludedProviders: z.array(z.enum(PROVIDER_IDS)).max(PROVIDER_IDS.length),
  })
  .strict();
export type TenantQuotas = z.infer<typeof TenantQuotasSchema>;

/** The body of `PUT /v1/tenants/:tenant` (and ORCH_TENANT_DEFAULTS): any of the quotas, merged over what is set. */
export const TenantQuotasPatchSchema = TenantQuotasSchema.partial();
export type TenantQuotasPatch = z.infer<typeof TenantQuotasPatchSchema>;

/**
 * Quotas of a tenant nobody configured: small enough that a leaked key or a runaway
 * client costs little (a job cannot ask for a million TAO), large enough for real use.
 * ORCH_TENANT_DEFAULTS overrides them per deployment.
 */
export const BUILT_IN_QUOTAS: TenantQuotas = {
  jobsPerMinute: 60,
  concurrentJobs: 16,
  maxSpendPerJob: { tao: 10 },
  spendPerDay: { tao: 100 },
  excludedProviders: [],
};

/** `patch` merged over `base`: spend caps merge per unit, the rest replace. */
export function mergeQuotas<T extends TenantQuotasPatch>(base: T, patch: TenantQuotasPatch): T {
  return {
    ...base,
    ...patch,
    ...(patch.maxSpendPerJob ? { maxSpendPerJob: { ...base.maxSpendPerJob, ...patch.maxSpendPerJob } } : {}),
    ...(patch.spendPerDay ? { spendPerDay: { ...base.spendPerDay, ...patch.spendPerDay } } : {}),
  };
}

/** A tenant's record in `orch_tenants`: what an admin set, over the defaults. */
export const TenantRecordSchema = z
  .object({
    tenant: TenantSchema,
    quotas: TenantQuotasPatchSchema,
    updatedAt: z.iso.datetime(),
    updatedBy: z.string(),
  })
  .strict();
export type TenantRecord = z.infer<typeof TenantRecordSchema>;

/** What `GET /v1/tenants/:tenant` shows: the quotas in force, and which of them an admin set. */
export interface TenantView {
  readonly tenant: string;
  readonly quotas: TenantQuotas;
  readonly overrides: TenantQuotasPatch;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/** Deployment-wide tenancy settings (README: ORCH_TENANT_DEFAULTS, ORCH_SPEND_PER_DAY_TAO). */
export interface TenancySettings {
  /** Quotas of a tenant before an admin sets any. */
  readonly defaults: TenantQuotas;
  /** Spend of all tenants together per UTC day, reserved budgets of running jobs included. */
  readonly deploymentSpendPerDay: SpendCap;
}

export const DEFAULT_TENANCY: TenancySettings = { defaults: BUILT_IN_QUOTAS, deploymentSpendPerDay: { tao: 1_000 } };

/** Tenants' quota settings, kept in `orch_tenants`. */
@Injectable()
export class TenantStore {
  constructor(private readonly bus: Bus) {}

  async view(tenant: string, settings: TenancySettings): Promise<TenantView> {
    const record = await readJson(await this.bus.kv(Buckets.tenants), tenant, TenantRecordSchema);
    return toView(tenant, record, settings);
  }

  /** Merges `patch` over the tenant's settings (compare-and-set, so two admins' changes both land). */
  async update(tenant: string, patch: TenantQuotasPatch, by: string, settings: TenancySettings): Promise<TenantView> {
    const kv = await this.bus.kv(Buckets.tenants);
    const updatedAt = new Date().toISOString();
    const { value } = await compareAndSet(kv, tenant, TenantRecordSchema, (current) => ({
      tenant,
      quotas: mergeQuotas(current?.quotas ?? {}, patch),
      updatedAt,
      updatedBy: by,
    }));
    return toView(tenant, value, settings);
  }
}

function toView(tenant: string, record: TenantRecord | undefined, settings: TenancySettings): TenantView {
  const overrides = record?.quotas ?? {};
  return {
    tenant,
    quotas: mergeQuotas(settings.defaults, overrides),
    overrides,
    ...(record ? { updatedAt: record.updatedAt, updatedBy: record.updatedBy } : {}),
  };
}

/**
 * The job's limits with the tenant's caps applied: a budget the client did not set
 * defaults to the smaller of the job default and the tenant's per-job cap, and the providers
 * the tenant excludes join those the client excluded.
 */
export function limitsWithinCaps(requested: Partial<JobLimits> | undefined, quotas: TenantQuotas): Partial<JobLimits> {
  const { excludedProviders: asked, ...limits } = { ...requested };
  const cap = quotas.maxSpendPerJob.tao;
  if (limits.maxTao === undefined && cap !== undefined) limits.maxTao = Math.min(JobLimitsSchema.shape.maxTao.parse(undefined), cap);
  // The tenant's exclusions travel with each job (the dispatcher reads them from its record); a
  // client may exclude more for one job, never fewer.
  const excluded = [...new Set([...quotas.excludedProviders, ...(asked ?? [])])].sort();
  return excluded.length > 0 ? { ...limits, excludedProviders: excluded } : limits;
}

/** The budget of a job with these limits, per unit. */
export function budgetOf(limits: JobLimits): Amounts {
  return Object.fromEntries(UNITS.map((u) => [u, SPEND_UNITS[u].budget(limits)])) as Amounts;
}

/** What a finished job spent, per unit. */
export function spentBy(state: JobState): Amounts {
  return Object.fromEntries(UNITS.map((u) => [u, SPEND_UNITS[u].spent(state)])) as Amounts;
}

/**
 * 422 when a job's budget exceeds a cap it can never fit under: the tenant's per-job cap,
 * its daily cap, or the deployment's daily ceiling. Names the limit and the cap.
 */
export function assertWithinCaps(budget: Amounts, quotas: TenantQuotas, settings: TenancySettings): void {
  const errors: FieldError[] = [];
  for (const unit of UNITS) {
    const caps: Array<[string, number | undefined]> = [
      [`the tenant's maxSpendPerJob.${unit}`, quotas.maxSpendPerJob[unit]],
      [`the tenant's spendPerDay.${unit}`, quotas.spendPerDay[unit]],
      [`the deployment's daily spend ceiling (${unit})`, settings.deploymentSpendPerDay[unit]],
    ];
    for (const [name, cap] of caps) {
      if (cap !== undefined && budget[unit] > cap) {
        errors.push({ pointer: SPEND_UNITS[unit].field, detail: `${budget[unit]} exceeds ${name} of ${cap}` });
        break;
      }
    }
  }
  if (errors.length > 0) {
    throw new ApiProblem(
      422,
      'limit-exceeds-cap',
      'Job limit exceeds a cap',
      `The job's ${errors.map((e) => `${e.pointer} (${e.detail})`).join('; ')}; lower the limit, or ask an admin to raise the cap.`,
      errors,
    );
  }
}

/** Parses ORCH_TENANT_DEFAULTS and ORCH_SPEND_PER_DAY_TAO; returns the problems instead of throwing. */
export function readTenancy(env: Readonly<Record<string, string | undefined>>, errors: string[]): TenancySettings {
  let defaults = BUILT_IN_QUOTAS;
  const rawDefaults = env.ORCH_TENANT_DEFAULTS;
  if (rawDefaults !== undefined && rawDefaults.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawDefaults);
    } catch {
      parsed = undefined;
    }
    const patch = TenantQuotasPatchSchema.safeParse(parsed);
    if (patch.success) defaults = mergeQuotas(BUILT_IN_QUOTAS, patch.data);
    else errors.push(`ORCH_TENANT_DEFAULTS must be JSON like {"jobsPerMinute":60,"maxSpendPerJob":{"tao":10}} with the fields of PUT /v1/tenants/:tenant`);
  }
  let deploymentSpendPerDay = DEFAULT_TENANCY.deploymentSpendPerDay;
  const rawCeiling = env.ORCH_SPEND_PER_DAY_TAO;
  if (rawCeiling !== undefined && rawCeiling.trim() !== '') {
    const tao = Number(rawCeiling);
    if (!Number.isFinite(tao) || tao <= 0) errors.push(`ORCH_SPEND_PER_DAY_TAO must be a positive number of TAO; got ${JSON.stringify(rawCeiling)}`);
    else deploymentSpendPerDay = { tao };
  }
  return { defaults, deploymentSpendPerDay };
}
