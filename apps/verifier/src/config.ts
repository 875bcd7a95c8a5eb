import { workerSections } from '@orchestra/bus';
import { pythonSettings } from '@orchestra/schemas';
import { loadServiceConfig, type Env } from '@orchestra/service';

/** The verifier's settings (README "Configuration"): its NATS connection and runtime, and the Python parsers. */
export const verifierSections = { ...workerSections, python: pythonSettings };

/** Reads the verifier's whole environment once; exits 1 naming every bad variable. */
export function verifierConfig(env: Env) {
  return loadServiceConfig('verifier', verifierSections, env);
}
