import { JobSpec, MAX_FAN_OUT, OrchestraError, PLAN_SCHEMA_ID, Plan, PlanStepSpec, RejectedPlan, truncateText } from '@orchestra/contracts';
import { ChatMessage, PlanningRequest, capabilityCatalog, planningMessages, shapeSummary, standardize } from '@orchestra/schemas';
import type { Provider } from '@orchestra/providers';
import { ESTIMATED_TAO_PER_CALL } from './estimate';
import { checkPlan } from './plan-checks';
import { MAX_REJECTED_PLANS, PlanOutcome, playbookPlan, rejectedPlan } from './planning';
import { PLAYBOOKS, Playbook, rankPlaybooks } from './playbooks';

/** The capability name the planner's LLM client is configured for: asking for a plan. */
export const PLANNING_CAPABILITY = 'plan';

/** Playbooks shown to a planning model as worked examples. */
const EXAMPLES = 2;

export interface ModelPlannerOptions {
  /** The LLM gateway (Chutes), configured for PLANNING_CAPABILITY. */
  readonly provider: Provider;
  /** Models to ask, in order: the next is asked when one gives no valid plan after its re-asks. */
  readonly models: readonly string[];
  /** Budget of one model call, ms. */
  readonly timeoutMs: number;
  /** Re-asks of a model whose plan was invalid, with the reasons, before the next model (default 1). */
  readonly reasks?: number;
  readonly playbooks?: readonly Playbook[];
}

/**
 * Plans a goal by asking an LLM: the prompt (libs/schemas planningMessages) carries the
 * capability catalog, the goal, the client's inputs as shapes, the limits and vetted playbooks
 * as examples. Its answer is untrusted JSON: extracted and depth-bounded, validated as plan@1,
 * then held to the same structural checks as any plan (plan-checks.ts). An invalid plan is
 * re-asked with its reasons, then the next model is asked; when no model gives a valid plan
 * (or none can be reached) the best-fitting playbook is used. Nothing a model answers, and no
 * gateway failure, is thrown: each becomes a rejected plan with its reason.
 */
export class ModelPlanner {
  constructor(private readonly options: ModelPlannerOptions) {}

  async plan(job: JobSpec, signal?: AbortSignal): Promise<PlanOutcome> {
    const rejected: RejectedPlan[] = [];
    const reasks = this.options.reasks ?? 1;
    for (const model of this.options.models) {
      let feedback: string[] = [];
      for (let ask = 0; ask <= reasks; ask++) {
        const answer = await this.ask(model, job, feedback, signal);
        if (answer.kind === 'plan') {
          const checked = checkPlan(answer.plan, job);
          if (checked.ok) return { ok: true, plan: answer.plan, source: 'model', estimate: checked.estimate, rejected: rejected.slice(-MAX_REJECTED_PLANS) };
          feedback = checked.reasons;
        } else feedback = answer.reasons;
        rejected.push(rejectedPlan(`model:${model}`, feedback));
        // What is fed back is bounded like what is kept: a plan of 64 wrong steps must not outgrow the prompt.
        feedback = rejected[rejected.length - 1].reasons;
        // A model that could not be reached cannot fix anything when re-asked: the next one is asked.
        if (answer.kind === 'unreachable') break;
      }
    }
    return playbookPlan(job, rejected, this.options.playbooks ?? PLAYBOOKS);
  }

  /** One call: a plan@1, or why the answer is none (not JSON, not a plan), or why there was no answer. */
  private async ask(
    model: string,
    job: JobSpec,
    feedback: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ kind: 'plan'; plan: PlanStepSpec[] } | { kind: 'invalid' | 'unreachable'; reasons: string[] }> {
    let raw: string;
    try {
      const answer = await this.options.provider.call({
        capability: PLANNING_CAPABILITY,
        source: model,
        input: { messages: planningPrompt(job, feedback, this.options.playbooks ?? PLAYBOOKS), json: true, temperature: 0 },
        timeoutMs: this.options.timeoutMs,
        signal,
      });
      raw = answer.raw;
    } catch (error) {
      // Only the gateway's and the caller's failures are expected here; a bug is not a rejected plan.
      if (!(error instanceof OrchestraError)) throw error;
      return { kind: 'unreachable', reasons: [`the model could not be asked: ${truncateText(error.message, 500)}`] };
    }
    // The JSON Standardization Layer, as for any answer: found in prose or fences, depth-bounded, validated as plan@1.
    const standardized = standardize<Plan>(PLAN_SCHEMA_ID, raw);
    if (standardized.ok) return { kind: 'plan', plan: standardized.value.steps };
    if (standardized.kind === 'schema') return { kind: 'invalid', reasons: standardized.errors.map((e) => `not a ${PLAN_SCHEMA_ID}: ${e}`) };
    return { kind: 'invalid', reasons: standardized.errors.map((e) => `the answer holds no JSON plan: ${e}`) };
  }
}

/** The planning prompt for a job: the catalog, the goal, its inputs' shapes, its limits, the best-fitting playbooks as examples. */
export function planningPrompt(job: Pick<JobSpec, 'goal' | 'inputs' | 'limits'>, feedback: readonly string[] = [], playbooks: readonly Playbook[] = PLAYBOOKS): ChatMessage[] {
  const request: PlanningRequest = {
    goal: job.goal,
    catalog: capabilityCatalog(),
    inputs: Object.fromEntries(Object.entries(job.inputs).map(([k, v]) => [k, shapeSummary(v)])),
    limits: { maxTao: job.limits.maxTao, maxMinerCalls: job.limits.maxMinerCalls, maxFanOut: MAX_FAN_OUT, estimatedTaoPerCall: ESTIMATED_TAO_PER_CALL },
    // The playbooks that fit the goal best first: the closest worked examples.
    examples: [...new Set([...rankPlaybooks(job.goal, job.inputs, playbooks), ...playbooks])]
      .flatMap((p) => {
        const plan = p.plan(p.exampleGoal, p.exampleInputs);
        // Only examples this deployment can run: a model copies what it is shown.
        return checkPlan(plan, { inputs: p.exampleInputs, limits: job.limits }).ok ? [{ goal: p.exampleGoal, inputs: p.exampleInputs, plan }] : [];
      })
      .slice(0, EXAMPLES),
    ...(feedback.length ? { feedback } : {}),
  };
  return planningMessages(request);
}
