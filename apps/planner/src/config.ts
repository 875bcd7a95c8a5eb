import { workerSections } from '@orchestra/bus';
import { loadServiceConfig, type Env } from '@orchestra/service';

/** The planner's settings (README "Configuration"): its NATS connection, reputation half-life and runtime. */
export const plannerSections = workerSections;

/** Reads the planner's whole environment once; exits 1 naming every bad variable. */
export function plannerConfig(env: Env) {
  return loadServiceConfig('planner', plannerSections, env);
}
