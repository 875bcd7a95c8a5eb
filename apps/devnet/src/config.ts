import { listingProblems } from '@orchestra/contracts';
import { parseShare } from '@orchestra/devnet-miners';
import { ServiceConfigError, loadServiceConfig, type Env } from '@orchestra/service';

/** How the devnet is run; each has a switch that wins over its variable (main.ts). */
export interface DevnetSettings {
  /** `--seed` / `ORCH_DEVNET_SEED`: seed of the faulty and hostile draws. */
  readonly seed: number;
  /** `--faulty` / `ORCH_DEVNET_FAULTY`: share of each subnet's miners made faulty. */
  readonly faulty?: number;
  /** `--hostile` / `ORCH_DEVNET_HOSTILE`: share made hostile, after the faulty draw. */
  readonly hostile?: number;
  /** `ORCH_SUBTENSOR_PORT`: the fake subtensor's port. */
  readonly chainPort: number;
  /**
   * `--gateway-only` / `ORCH_DEVNET_GATEWAY_ONLY`: //Alice is registered but unstaked, without a
   * permit, so no subnet's axons answer Orchestra and only gateways can serve.
   */
  readonly gatewayOnly: boolean;
}

/** The devnet's switches as parsed (strings), each replacing its variable. */
export interface DevnetSwitches {
  readonly seed?: string;
  readonly faulty?: string;
  readonly hostile?: string;
  readonly 'gateway-only'?: boolean;
}

/**
 * The devnet's settings from its switches over the environment: `--seed`/`ORCH_DEVNET_SEED`
 * (default 1), `--faulty`/`ORCH_DEVNET_FAULTY`, `--hostile`/`ORCH_DEVNET_HOSTILE`,
 * `--gateway-only`/`ORCH_DEVNET_GATEWAY_ONLY` (`1`, `true`, `0`, `false`; default off),
 * `ORCH_SUBTENSOR_PORT` (default 9944). Throws ServiceConfigError naming every bad one.
 */
export function devnetSettings(env: Env, switches: DevnetSwitches = {}): DevnetSettings {
  const problems: string[] = [];
  const pick = (flag: 'seed' | 'faulty' | 'hostile', variable: string): [string, string] | undefined => {
    if (switches[flag] !== undefined) return [`--${flag}`, switches[flag]];
    const raw = env[variable];
    return raw === undefined || raw.trim() === '' ? undefined : [variable, raw];
  };
  const integer = (source: [string, string] | undefined, fallback: number, min: number, max: number): number => {
    if (!source) return fallback;
    const value = Number(source[1]);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    problems.push(`${source[0]} must be an integer from ${min} to ${max}; got ${JSON.stringify(source[1])}`);
    return fallback;
  };
  const share = (source: [string, string] | undefined): number | undefined => {
    if (!source) return undefined;
    try {
      return parseShare(...source);
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };
  const flag = (variable: string): boolean => {
    const raw = env[variable]?.trim().toLowerCase();
    if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
    if (raw === '1' || raw === 'true') return true;
    problems.push(`${variable} must be 1, true, 0 or false; got ${JSON.stringify(env[variable])}`);
    return false;
  };
  const settings: DevnetSettings = {
    seed: integer(pick('seed', 'ORCH_DEVNET_SEED'), 1, 0, 2 ** 32 - 1),
    faulty: share(pick('faulty', 'ORCH_DEVNET_FAULTY')),
    hostile: share(pick('hostile', 'ORCH_DEVNET_HOSTILE')),
    chainPort: integer(env.ORCH_SUBTENSOR_PORT?.trim() ? ['ORCH_SUBTENSOR_PORT', env.ORCH_SUBTENSOR_PORT] : undefined, 9944, 0, 65_535),
    gatewayOnly: switches['gateway-only'] ?? flag('ORCH_DEVNET_GATEWAY_ONLY'),
  };
  if (problems.length > 0) throw listingProblems(new ServiceConfigError(`invalid devnet settings: ${problems.join('; ')}`), problems);
  return settings;
}

/** Reads the devnet's switches and environment once; exits 1 naming every bad one. */
export function devnetConfig(env: Env, switches: DevnetSwitches) {
  return loadServiceConfig('devnet', { devnet: (e: Env) => devnetSettings(e, switches) }, env);
}
