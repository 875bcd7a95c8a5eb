import type { Metagraph, Neuron } from '@orchestra/contracts';
import {
  DATA_UNIVERSE_MIN_STAKE,
  DATA_UNIVERSE_PERIOD_MS,
  DATA_UNIVERSE_REQUEST_LIMITS,
  DESEARCH_MIN_ALPHA_STAKE,
  DESEARCH_MIN_TOTAL_STAKE,
  DESEARCH_RATE_LIMIT,
  floatRepr,
  GET_CONTENTS_BY_BUCKETS,
  GET_DATA_ENTITY_BUCKET,
  GET_MINER_INDEX,
} from '@orchestra/bittensor';

/**
 * The real subnets' blacklists (the SDK's blacklist_fn, run before the signature check), with
 * their reasons word for word: the axon answers 403 "Forbidden. Key is blacklisted: <reason>."
 * They judge callers by the chain the miner sees (a metagraph view), as real miners judge by
 * their synced `self.metagraph`.
 */

/** What a blacklist reads of a neuron. Stakes as the chain reports them (rao). */
export type NeuronStake = Pick<Neuron, 'hotkey' | 'validatorPermit' | 'alphaStakeRao' | 'totalStakeRao'>;

/** The miner's current view of its subnet's neurons. */
export type MetagraphView = () => readonly NeuronStake[];

/** A blacklist: a reason to refuse, or undefined. */
export type Blacklist = (hotkey: string | undefined, synapse?: string, ip?: string) => string | undefined;

const tao = (rao: string): number => Number(BigInt(rao)) / 1e9;

/** Options of {@link dataUniverseBlacklist}. */
export interface DataUniverseBlacklistOptions {
  readonly metagraph: MetagraphView;
  /** `--vpermit_rao_limit`: stake (metagraph.S, TAO) a validator needs (default 10,000). */
  readonly minStake?: number;
  /** Requests per hotkey per period, per synapse (default REQUEST_LIMIT_BY_TYPE_PER_PERIOD: 1 / 1 / 5). */
  readonly limits?: Readonly<Record<string, number>>;
  /** MIN_EVALUATION_PERIOD (default one hour). */
  readonly periodMs?: number;
  readonly now?: () => number;
}

/**
 * SN13's `default_blacklist` (data-universe neurons/miner.py): the caller must be in the
 * metagraph, hold a validator permit and stake >= minStake (utils.is_validator); then each
 * request of the three synapses counts, and past twice the limit per period the caller is
 * refused. All counters are cleared together once a period has passed since the last clearing.
 * Synapses outside the table (the devnet's legacy OnDemandRequest) pass uncounted: the
 * devnet still serves them to the e2e suites.
 */
export function dataUniverseBlacklist(options: DataUniverseBlacklistOptions): Blacklist {
  const minStake = options.minStake ?? DATA_UNIVERSE_MIN_STAKE;
  const limits = options.limits ?? DATA_UNIVERSE_REQUEST_LIMITS;
  const periodMs = options.periodMs ?? DATA_UNIVERSE_PERIOD_MS;
  const now = options.now ?? Date.now;
  const counted = new Set([GET_MINER_INDEX.name, GET_DATA_ENTITY_BUCKET.name, GET_CONTENTS_BY_BUCKETS.name]);
  let lastCleared = now();
  let counts = new Map<string, number>();
  return (hotkey, synapse = '', ip) => {
    const neuron = options.metagraph().find((n) => n.hotkey === hotkey);
    if (!neuron) return `Unrecognized hotkey ${hotkey} at ${ip}`;
    if (!neuron.validatorPermit || tao(neuron.totalStakeRao) < minStake) return `Hotkey ${hotkey} at ${ip} is not a validator`;
    if (!counted.has(synapse)) return undefined;
    if (now() - lastCleared >= periodMs) {
      counts = new Map();
      lastCleared = now();
    }
    const key = `${synapse}\u0000${hotkey}`;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    // "Allow 2x the limit per period to account for restarts."
    if (count > 2 * (limits[synapse] ?? 0)) return `Hotkey ${hotkey} at ${ip} over eval period request limit for ${synapse}.`;
    return undefined;
  };
}

/** Options of {@link desearchBlacklist}. */
export interface DesearchBlacklistOptions {
  readonly metagraph: MetagraphView;
  /** MIN_ALPHA_STAKE, MIN_TOTAL_STAKE (default 20 and 20,000). */
  readonly minAlphaStake?: number;
  readonly minTotalStake?: number;
  /** Real miners check stake on finney only; the devnet is finney's twin (default true). */
  readonly checkStake?: boolean;
  /** RATE_LIMIT_MAX_REQUESTS per RATE_LIMIT_WINDOW_MINUTES (default 500 a minute). */
  readonly rateLimit?: { readonly maxRequests: number; readonly windowMs: number };
  readonly now?: () => number;
}

/**
 * SN22's `base_blacklist` (Desearch neurons/miners/miner.py): the caller must be registered
 * (own an axon entry of the metagraph), on finney hold alpha >= 20 and total stake >= 20,000,
 * and stay within 500 requests a minute (a sliding window per hotkey; refused requests do not count).
 */
export function desearchBlacklist(options: DesearchBlacklistOptions): Blacklist {
  const minAlpha = options.minAlphaStake ?? DESEARCH_MIN_ALPHA_STAKE;
  const minTotal = options.minTotalStake ?? DESEARCH_MIN_TOTAL_STAKE;
  const { maxRequests, windowMs } = options.rateLimit ?? DESEARCH_RATE_LIMIT;
  const now = options.now ?? Date.now;
  const requests = new Map<string, number[]>();
  return (hotkey, synapse = '') => {
    const neuron = options.metagraph().find((n) => n.hotkey === hotkey);
    if (!neuron || hotkey === undefined) return `Blacklisted a non registered hotkey's ${synapse} request from ${hotkey}`;
    if (options.checkStake ?? true) {
      const [alpha, total] = [tao(neuron.alphaStakeRao), tao(neuron.totalStakeRao)];
      if (alpha < minAlpha || total < minTotal) {
        return `Blacklisted a low stake ${synapse} request: alpha_stake=${floatRepr(alpha)} < ${minAlpha} or total_stake=${floatRepr(total)} < ${minTotal} from ${hotkey}`;
      }
    }
    const t = now();
    const recent = (requests.get(hotkey) ?? []).filter((at) => t - at <= windowMs);
    requests.set(hotkey, recent);
    if (recent.length >= maxRequests) {
      return `Request frequency for ${hotkey} exceeded: ${recent.length} requests in ${Math.round(windowMs / 60_000)} minute(s). Limit is ${maxRequests} requests.`;
    }
    recent.push(t);
    return undefined;
  };
}

/** A metagraph view kept in sync with the chain, as a miner's `sync_metagraph` loop keeps its own. */
export interface SyncedMetagraph {
  readonly view: MetagraphView;
  /** Reads the chain now. */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * Reads the subnet's metagraph (e.g. `() => chainReader.readMetagraph(13)`) once, then every
 * `intervalMs`; a failed read keeps the last view (the miner goes on judging by what it knew).
 */
export async function syncedMetagraph(read: () => Promise<Metagraph>, intervalMs = 12_000): Promise<SyncedMetagraph> {
  let neurons: readonly NeuronStake[] = (await read()).neurons;
  const refresh = async () => {
    neurons = (await read()).neurons;
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), intervalMs);
  timer.unref();
  return { view: () => neurons, refresh, stop: () => clearInterval(timer) };
}
