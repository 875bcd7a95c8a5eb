import { workerSections } from '@orchestra/bus';
import { pythonSettings } from '@orchestra/schemas';
import { loadServiceConfig, type Env } from '@orchestra/service';
import { dispatcherSettings } from './dispatcher.config';

/**
 * The dispatcher's settings (README "Configuration"): its NATS connection and runtime, the
 * Python parsers of its hedge checks, and its own (hotkey, hedging, reputation, miners).
 */
export const dispatcherSections = { ...workerSections, python: pythonSettings, dispatcher: dispatcherSettings };

/** Reads the dispatcher's whole environment once; exits 1 naming every bad variable (never the hotkey). */
export function loadDispatcherConfig(env: Env) {
  return loadServiceConfig('dispatcher', dispatcherSections, env);
}
