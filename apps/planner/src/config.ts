import { workerSections } from '@orchestra/bus';
import { OrchestraError, SettingError, listingProblems } from '@orchestra/contracts';
import { ChutesProvider, ProvidersConfig, providersConfig } from '@orchestra/providers';
import { loadServiceConfig, type Env } from '@orchestra/service';
import { ModelPlanner, PLANNING_CAPABILITY } from './model-planner';

/** How the planner plans goals without an explicit plan (README "Configuration": ORCH_PLANNER_*). */
export interface PlanningSettings {
  /** The LLM gateway, when its key is set (ORCH_CHUTES_*, as the dispatcher reads them). */
  readonly chutes?: ProvidersConfig['chutes'];
  /** Chutes models asked for a plan, in order (ORCH_PLANNER_MODELS); none: playbooks only. */
  readonly models: readonly string[];
  /** Budget of one planning call, ms (ORCH_PLANNER_TIMEOUT_MS). */
  readonly timeoutMs: number;
}

const MODEL_ID = /^[\w.:/@-]{1,200}$/;

/** Reads the planning settings; throws naming every bad variable. */
export function planningSettings(env: Env): PlanningSettings {
  const problems: string[] = [];
  const models = (env.ORCH_PLANNER_MODELS ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of models) if (!MODEL_ID.test(m)) problems.push(`ORCH_PLANNER_MODELS: ${JSON.stringify(m.slice(0, 80))} is not a model id (letters, digits and . _ : / @ -)`);
  const rawTimeout = env.ORCH_PLANNER_TIMEOUT_MS?.trim();
  const timeoutMs = rawTimeout ? Number(rawTimeout) : 30_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1_000 || timeoutMs > 600_000)
    problems.push(`ORCH_PLANNER_TIMEOUT_MS must be an integer from 1000 to 600000 (ms); got ${JSON.stringify(rawTimeout)}`);
  let chutes: ProvidersConfig['chutes'];
  try {
    chutes = providersConfig(env).chutes;
  } catch (error) {
    if (!(error instanceof OrchestraError) || error.retryable) throw error;
    problems.push(error.message);
  }
  if (models.length > 0 && !chutes)
    problems.push('ORCH_PLANNER_MODELS names models but ORCH_CHUTES_API_KEY is unset: set the key, or unset ORCH_PLANNER_MODELS to plan from playbooks only');
  if (problems.length > 0) throw listingProblems(new SettingError(problems.join('; ')), problems);
  return { ...(chutes ? { chutes } : {}), models, timeoutMs };
}

/** The model planner the settings call for, or undefined (playbooks only). Its client serves only planning. */
export function modelPlannerFor(settings: PlanningSettings): ModelPlanner | undefined {
  if (!settings.chutes || settings.models.length === 0) return undefined;
  const provider = new ChutesProvider({ ...settings.chutes, capabilities: [PLANNING_CAPABILITY] });
  return new ModelPlanner({ provider, models: settings.models, timeoutMs: settings.timeoutMs });
}

/** The planner's settings (README "Configuration"): its NATS connection, reputation half-life, runtime and planning. */
export const plannerSections = { ...workerSections, planning: planningSettings };

/** Reads the planner's whole environment once; exits 1 naming every bad variable. */
export function plannerConfig(env: Env) {
  return loadServiceConfig('planner', plannerSections, env);
}
