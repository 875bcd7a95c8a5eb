import { z } from 'zod';

/**
 * One neuron (UID) of a subnet as Orchestra sees it, read from the chain's runtime APIs
 * (SubnetInfoRuntimeApi.get_metagraph).
 * Fractions (incentive, consensus, dividends) are the chain's u16 values
 * divided by 65535, as the Bittensor SDK does. Stake and emission are in rao (1e9 per unit)
 * as decimal strings, because u64 values overflow a JS number. Trust and rank are not here:
 * finney stopped computing them (spec 401+).
 *
 * Miners and validators (2026): validators hold a permit (top stake) and earn dividends;
 * miners earn incentive, which sums to 1 over a subnet. A miner is `active: false` and its
 * `lastUpdate` stays at its registration block (only weight setters update it), so neither
 * says anything about whether a miner is up.
 */
export const NeuronSchema = z.object({
  uid: z.number().int().nonnegative(),
  hotkey: z.string(),
  coldkey: z.string(),
  /** Alpha staked on this hotkey on this subnet, as the chain reports it (get_metagraph alpha_stake), rao. */
  alphaStakeRao: z.string().regex(/^\d+$/),
  /**
   * The hotkey's stake weight on the subnet as the chain computes it (get_metagraph
   * total_stake: alpha + TaoWeight x root stake), rao; the SDK's `metagraph.S`. On runtimes
   * without runtime APIs (before metadata V15) it is the alpha stake alone.
   */
  totalStakeRao: z.string().regex(/^\d+$/),
  emissionRao: z.string().regex(/^\d+$/),
  /** Share of the subnet's miner emission, 0..1; sums to 1 over the subnet. */
  incentive: z.number().min(0).max(1),
  consensus: z.number().min(0).max(1),
  /** Share of the subnet's validator emission, 0..1: non-zero only for validators. */
  dividends: z.number().min(0).max(1),
  /** Holds a validator permit: a validator, never a miner to hire. */
  validatorPermit: z.boolean(),
  active: z.boolean(),
  /** Block of the neuron's last weight update (a miner's registration block). */
  lastUpdate: z.number().int().nonnegative(),
  /** Served axon, or null when the neuron serves none (ip 0.0.0.0 on chain). */
  axon: z
    .object({
      ip: z.string(),
      port: z.number().int().min(0).max(65535),
      ipType: z.number().int(),
      protocol: z.number().int(),
      version: z.number().int(),
    })
    .nullable(),
});
export type Neuron = z.infer<typeof NeuronSchema>;

/**
 * A subnet's dTAO pool: reserves (rao) and the price the chain quotes for it,
 * SwapRuntimeApi.current_alpha_price / 1e9. Never recomputed from the reserves: the swap
 * curve is the runtime's and has changed between specs. (On runtimes without runtime APIs,
 * before metadata V15, the SDK's fallback taoReserve / alphaReserve.)
 */
export const SubnetPoolSchema = z.object({
  netuid: z.number().int().nonnegative(),
  taoReserveRao: z.string().regex(/^\d+$/),
  alphaReserveRao: z.string().regex(/^\d+$/),
  /** TAO per 1 alpha, as the chain quotes it (root, SN0, is 1). */
  price: z.number().nonnegative(),
});
export type SubnetPool = z.infer<typeof SubnetPoolSchema>;

/**
 * Reads a neuron as the previous version of metagraph-sync wrote it (a single `stakeRao`,
 * before the chain's alpha and total stake were read apart), so a dispatcher upgraded
 * before metagraph-sync still ranks from the metagraph in KV. Its extra fields (trust,
 * validatorTrust) are dropped by the schema.
 */
function upgradeNeuronRecord(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || 'alphaStakeRao' in value || !('stakeRao' in value)) return value;
  const { stakeRao, ...rest } = value as { stakeRao: unknown };
  return { ...rest, alphaStakeRao: stakeRao, totalStakeRao: stakeRao };
}

/**
 * Whether Orchestra's own hotkey may query this subnet's axons directly, as the subnet's
 * miners' blacklist decides it (metagraph-sync computes it; the dispatcher turns the subnet's
 * axon provider off when `eligible` is false, giving `reason`). Stakes are in the subnet's
 * stake units (alpha and TAO-weighted root stake count alike, as the chain's total_stake).
 */
export const SubnetAccessSchema = z.object({
  /** Our hotkey (ss58). */
  hotkey: z.string(),
  /** Our UID on the subnet, null when the hotkey is not registered there. */
  uid: z.number().int().nonnegative().nullable(),
  validatorPermit: z.boolean(),
  /** Our alpha stake on the subnet (get_metagraph alpha_stake), in alpha. */
  stakeAlpha: z.number().nonnegative(),
  /** The root stake's share of our stake on the subnet (total_stake - alpha_stake: TaoWeight x root), in TAO. */
  stakeTao: z.number().nonnegative(),
  /** Stake the subnet's blacklist demands of a caller (its total stake S = stakeAlpha + stakeTao). */
  requiredStake: z.number().nonnegative(),
  eligible: z.boolean(),
  /** 'ok', or why the axons would refuse us and what would change it. */
  reason: z.string(),
  /** Our alpha's value at the pool's current price (current_alpha_price), TAO. */
  alphaValueTao: z.number().nonnegative().optional(),
  /**
   * TAO it would take, fees and slippage included (sim_swap_tao_for_alpha), to buy the stake
   * still missing; absent when nothing is missing or no quote could be had.
   */
  taoToReach: z.number().nonnegative().optional(),
});
export type SubnetAccess = z.infer<typeof SubnetAccessSchema>;

/** A subnet's metagraph at one block: what metagraph-sync writes to KV and the dispatcher ranks from. */
export const MetagraphSchema = z.object({
  netuid: z.number().int().nonnegative(),
  block: z.number().int().nonnegative(),
  syncedAt: z.string(),
  pool: SubnetPoolSchema,
  neurons: z.array(z.preprocess(upgradeNeuronRecord, NeuronSchema)),
  /** Our hotkey's direct (axon) access to the subnet; absent in records of older metagraph-syncs. */
  access: SubnetAccessSchema.optional(),
});
export type Metagraph = z.infer<typeof MetagraphSchema>;
