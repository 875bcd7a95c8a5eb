import { busSections, reputationSettings } from '@orchestra/bus';
import { loadServiceConfig, serviceSettings, type Env } from '@orchestra/service';
import { apiListener, authSettings, httpOverrides } from './settings';

/**
 * The API's settings (README "Configuration" and "Limits"): its NATS connection, its
 * listener, the HTTP limits, the reputation half-life (GET /v1/subnets) and the service runtime's own settings.
 */
export const apiSections = { ...busSections, listener: apiListener, http: httpOverrides, auth: authSettings, reputation: reputationSettings, service: serviceSettings };

/** Reads the API's whole environment once; exits 1 naming every bad variable. */
export function apiConfig(env: Env) {
  return loadServiceConfig('api', apiSections, env);
}
