import { BEHAVIOURS, BehaviourName, HOSTILE_BEHAVIOURS } from '@orchestra/devnet-miners';
import { seededRandom } from '@orchestra/fake-subtensor';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const behaviourNames = Object.keys(BEHAVIOURS) as [BehaviourName, ...BehaviourName[]];

/** The devnet's simulated network (apps/devnet/devnet.config.json documents the fields). */
export const DevnetConfigSchema = z.object({
  blockTimeMs: z.number().int().min(100).default(2_000),
  slowMs: z.number().int().positive().default(15_000),
  subnets: z
    .array(
      z.object({
        netuid: z.number().int().min(1).max(65535),
        name: z.string(),
        /** Pool reserves in TAO / alpha (not rao). */
        taoReserve: z.number().positive(),
        alphaReserve: z.number().positive(),
        /** SN13 / SN22: the stake (TAO) the miners' blacklist demands of a caller (default the subnet's: 10,000 / 20,000). */
        minValidatorStake: z.number().nonnegative().optional(),
        /** One behaviour per miner UID, best-ranked first. */
        miners: z
          .array(z.enum(behaviourNames))
          .min(1)
          .max(256)
          .refine((miners) => miners.filter((b) => b === 'colluding').length !== 1, {
            message: 'a colluding miner needs a partner: list "colluding" for at least two miners of the subnet, or none',
          }),
      }),
    )
    .min(1),
});
export type DevnetConfig = z.infer<typeof DevnetConfigSchema>;

/** Loads and validates a devnet config file, naming the bad field on error. */
export function loadDevnetConfig(path: string): DevnetConfig {
  const parsed = DevnetConfigSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid devnet config ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * The behaviours that misbehave in some way (everything but `good` and the hostile ones but
 * `huge`, which `--faulty` has always drawn): some fail every hire, some only now and then
 * (`intermittent`, `slow-tail`), some answer well-formed but wrong (`replay`, `colluding`).
 * Kept apart from the hostile set so a given `--faulty` seed still draws the same network.
 */
export const FAULTY_BEHAVIOURS = behaviourNames.filter((b) => b !== 'good' && (b === 'huge' || !HOSTILE_BEHAVIOURS.includes(b)));

/**
 * Colluding takes two: a lone colluder is paired with another faulty miner of its subnet, which
 * becomes `colluding` too, or, when it is the subnet's only faulty miner, becomes `replay`
 * (another well-formed but wrong answer).
 */
function pairColluders(miners: BehaviourName[]): BehaviourName[] {
  if (miners.filter((b) => b === 'colluding').length !== 1) return miners;
  const partner = miners.findIndex((b) => b !== 'good' && b !== 'colluding');
  return miners.map((b, i): BehaviourName => (i === partner ? 'colluding' : b === 'colluding' && partner < 0 ? 'replay' : b));
}

/**
 * Makes `share` of each subnet's miners faulty, drawn from every faulty behaviour, so a
 * bad day on the network can be rehearsed (`npm run devnet -- --faulty 0.3`). The
 * choice is seeded, so a given config, share and seed always give the same network.
 * Colluders always come at least in pairs (pairColluders).
 */
export function withFaultyShare(config: DevnetConfig, share: number, seed = 1): DevnetConfig {
  return withDrawnShare(config, share, seededRandom(seed), FAULTY_BEHAVIOURS, () => 'good');
}

/**
 * Makes `share` of each subnet's miners hostile (`npm run devnet -- --hostile 0.3`), drawn
 * from HOSTILE_BEHAVIOURS: deep JSON, huge error text, huge headers, invalid UTF-8, an
 * endless body, a trickle. The other miners keep their behaviour, so it composes with
 * `--faulty` (applied first). Seeded like withFaultyShare, from its own stream of the seed,
 * so the hostile miners are not simply the faulty ones again.
 */
export function withHostileShare(config: DevnetConfig, share: number, seed = 1): DevnetConfig {
  return withDrawnShare(config, share, seededRandom(seed * 7919 + 104729), HOSTILE_BEHAVIOURS, (kept) => kept);
}

/**
 * The one draw behind --faulty and --hostile: per subnet, round(share × miners) of them,
 * picked by a seeded shuffle, get a behaviour drawn from `pool`; the others get `others(their
 * behaviour)`. Colluders always come at least in pairs (pairColluders).
 */
function withDrawnShare(config: DevnetConfig, share: number, random: () => number, pool: readonly BehaviourName[], others: (kept: BehaviourName) => BehaviourName): DevnetConfig {
  return {
    ...config,
    subnets: config.subnets.map((subnet) => {
      const drawn = Math.round(subnet.miners.length * share);
      const order = subnet.miners.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const chosen = new Set(order.slice(0, drawn));
      return {
        ...subnet,
        miners: pairColluders(subnet.miners.map((kept, i) => (chosen.has(i) ? pool[Math.floor(random() * pool.length)] : others(kept)))),
      };
    }),
  };
}
