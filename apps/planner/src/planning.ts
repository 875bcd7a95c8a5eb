import { JobSpec, PlanEstimate, PlanSource, PlanStepSpec, RejectedPlan } from '@orchestra/contracts';
import { checkPlan } from './plan-checks';
import { PLAYBOOKS, Playbook, rankPlaybooks } from './playbooks';

/**
 * Where a job's plan comes from, in order: the client's own plan (checked; never replaced);
 * else a planning model's (model-planner.ts, when one is configured), re-asked with the errors,
 * then another model; else the best-fitting playbook whose plan passes the checks. The outcome
 * records which, and every plan rejected on the way with its reasons.
 */
export type PlanOutcome =
  | { readonly ok: true; readonly plan: PlanStepSpec[]; readonly source: PlanSource; readonly estimate: PlanEstimate; readonly rejected: RejectedPlan[] }
  | { readonly ok: false; readonly reason: string; readonly rejected: RejectedPlan[] };

/** At most this many rejected plans are kept on the record (each with at most MAX_REASONS reasons). */
export const MAX_REJECTED_PLANS = 8;
const MAX_REASONS = 20;

/** A rejected plan as the record keeps it: bounded. */
export function rejectedPlan(by: string, reasons: readonly string[]): RejectedPlan {
  return { by: by.slice(0, 200), reasons: reasons.slice(0, MAX_REASONS).map((r) => r.slice(0, 1000)) };
}

/** The client's plan, checked: it is used as given or the job fails with every reason. */
export function clientPlan(job: Pick<JobSpec, 'inputs' | 'limits'>, plan: PlanStepSpec[], by = 'client'): PlanOutcome {
  const checked = checkPlan(plan, job);
  if (checked.ok) return { ok: true, plan, source: 'client', estimate: checked.estimate, rejected: [] };
  return { ok: false, reason: `the ${by === 'client' ? "client's" : by} plan is invalid: ${checked.reasons.join('; ')}`, rejected: [rejectedPlan(by, checked.reasons)] };
}

/**
 * The best-fitting playbook whose plan passes the checks (a playbook needing a capability this
 * deployment lacks is passed over, its reasons kept). `earlier`: plans already rejected (the models').
 */
export function playbookPlan(job: Pick<JobSpec, 'goal' | 'inputs' | 'limits'>, earlier: RejectedPlan[] = [], playbooks: readonly Playbook[] = PLAYBOOKS): PlanOutcome {
  const rejected = [...earlier];
  for (const playbook of rankPlaybooks(job.goal, job.inputs, playbooks)) {
    const plan = playbook.plan(job.goal, job.inputs);
    const checked = checkPlan(plan, job);
    if (checked.ok) return { ok: true, plan, source: 'playbook', estimate: checked.estimate, rejected: rejected.slice(-MAX_REJECTED_PLANS) };
    rejected.push(rejectedPlan(`playbook:${playbook.name}`, checked.reasons));
  }
  const tried = rejected.length ? ` (rejected: ${rejected.map((r) => `${r.by}: ${r.reasons[0]}`).join(' | ')})` : '';
  return {
    ok: false,
    reason: `no valid plan for this goal: no planning model gave one and no playbook fits (playbooks: ${playbooks.map((p) => p.name).join(', ')})${tried}; submit an explicit "plan"`,
    rejected: rejected.slice(-MAX_REJECTED_PLANS),
  };
}

/** The plan without asking a model: the client's, else a playbook's. */
export function planWithoutModel(job: Pick<JobSpec, 'goal' | 'inputs' | 'limits' | 'plan'>): PlanOutcome {
  return job.plan ? clientPlan(job, job.plan) : playbookPlan(job);
}
