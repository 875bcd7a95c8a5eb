import { z } from 'zod';

/**
 * One neuron (UID) of a subnet as Orchestra sees it, decoded from the chain.
 * Fractions (incentive, trust, consensus, dividends, validatorTrust) are the chain's
 * u16 values divided by 65535, as the Bittensor SDK does. Stake and emission are in
 * rao (1 TAO = 1e9 rao) as decimal strings, because u64 values overflow a JS number.
 */
export const NeuronSchema = z.object({
  uid: z.number().int().nonnegative(),
  hotkey: z.string(),
  coldkey: z.string(),
  /** Alpha stake of the hotkey on this subnet, rao. */
  stakeRao: z.string().regex(/^\d+$/),
  emissionRao: z.string().regex(/^\d+$/),
  incentive: z.number().min(0).max(1),
  trust: z.number().min(0).max(1),
  consensus: z.number().min(0).max(1),
  dividends: z.number().min(0).max(1),
  validatorTrust: z.number().min(0).max(1),
  validatorPermit: z.boolean(),
  active: z.boolean(),
  /** Block number of the neuron's last weight/metadata update. */
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
 * A subnet's dTAO pool. price = taoReserve / alphaReserve (TAO per alpha), the SDK's
 * fallback when no swap-simulation quote is available. Reserves in rao.
 */
export const SubnetPoolSchema = z.object({
  netuid: z.number().int().nonnegative(),
  taoReserveRao: z.string().regex(/^\d+$/),
  alphaReserveRao: z.string().regex(/^\d+$/),
  /** TAO per 1 alpha. SN0 (root) is always 1. */
  price: z.number().nonnegative(),
});
export type SubnetPool = z.infer<typeof SubnetPoolSchema>;

/** A subnet's metagraph at one block: what metagraph-sync writes to KV and the dispatcher ranks from. */
export const MetagraphSchema = z.object({
  netuid: z.number().int().nonnegative(),
  block: z.number().int().nonnegative(),
  syncedAt: z.string(),
  pool: SubnetPoolSchema,
  neurons: z.array(NeuronSchema),
});
export type Metagraph = z.infer<typeof MetagraphSchema>;
