import { axonAccessSettings, netuidsSetting, subtensorUrlSetting, type AxonAccessSettings } from '@orchestra/bittensor';
import { workerSections } from '@orchestra/bus';
import { loadServiceConfig, type Env } from '@orchestra/service';
import { z } from 'zod';

/** What metagraph-sync reads, which subnets, and how often. */
export interface SyncSettings {
  /** `ORCH_SUBTENSOR_URL`: the subtensor node's WebSocket URL. */
  readonly url: string;
  /** `ORCH_NETUIDS`: the subnets kept in KV; undefined = every subnet. */
  readonly netuids?: readonly number[];
  /** `ORCH_SYNC_MIN_INTERVAL_MS`: pause between two rounds. */
  readonly minIntervalMs: number;
}

/** Nest token of the {@link SyncSettings} in force. */
export const SYNC_SETTINGS = Symbol('SyncSettings');

/** Nest token of the {@link AxonAccessSettings} in force: whose access to the subnets' axons is computed. */
export const ACCESS_SETTINGS = Symbol('AxonAccessSettings');

/** Access settings when none are given: //Alice (the devnet's hotkey), the subnets' own thresholds. */
export const DEFAULT_ACCESS_SETTINGS: AxonAccessSettings = axonAccessSettings({});

const blankToUndefined = (raw: unknown) => (typeof raw === 'string' && raw.trim() === '' ? undefined : raw);

/** The metagraph-sync section: `ORCH_SUBTENSOR_URL`, `ORCH_NETUIDS`, `ORCH_SYNC_MIN_INTERVAL_MS`. */
export const syncSettings = z
  .object({
    ORCH_SUBTENSOR_URL: subtensorUrlSetting,
    ORCH_NETUIDS: netuidsSetting,
    ORCH_SYNC_MIN_INTERVAL_MS: z.preprocess(blankToUndefined, z.coerce.number().int('must be an integer number of milliseconds').min(0, 'must be at least 0').default(5_000)),
  })
  .transform((env): SyncSettings => ({ url: env.ORCH_SUBTENSOR_URL, netuids: env.ORCH_NETUIDS, minIntervalMs: env.ORCH_SYNC_MIN_INTERVAL_MS }));

/** The settings when none are given: every default. */
export const DEFAULT_SYNC_SETTINGS: SyncSettings = syncSettings.parse({});

/**
 * metagraph-sync's settings (README "Configuration"): its NATS connection and runtime, the chain
 * it reads, and our hotkey whose access to each subnet's axons it reports.
 */
export const metagraphSyncSections = { ...workerSections, sync: syncSettings, access: axonAccessSettings };

/** Reads metagraph-sync's whole environment once; exits 1 naming every bad variable. */
export function metagraphSyncConfig(env: Env) {
  return loadServiceConfig('metagraph-sync', metagraphSyncSections, env);
}
