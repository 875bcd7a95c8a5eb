import { seededRandom } from './seeded-random';
import type { AxonState, ChainState, NeuronState, SubnetState } from './chain-state';
import { devAddress, initDevKeys } from './dev-keys';

/** Shape of a generated chain. */
export interface GenerateChainStateOptions {
  /** Subnets 0..subnets-1 (SN0 is root, priced at 1 by readers). */
  subnets: number;
  neuronsPerSubnet: number;
  /** Same seed, same state. Default 1. */
  seed?: number;
}

const RAO_PER_TAO = 1_000_000_000n;
/** Realistic share of UIDs holding a validator permit (64 of 256 on mainnet). */
const VALIDATOR_SHARE = 0.25;
/** MaxAllowedValidators' usual value: permits go to the top 64 by stake. */
const MAX_VALIDATORS = 64;
/** Miners that run on several subnets: keeps sr25519 derivation (~0.3 ms/key) off the bench's path. */
const MAX_DISTINCT_HOTKEYS = 2048;
const HOTKEYS_PER_COLDKEY = 4;

/**
 * A plausible finney-like chain (as of 2026): pools with a spread of prices; a quarter of
 * each subnet (at most 64 UIDs) are validators holding permits, large alpha and root stake,
 * all the dividends, recent LastUpdate, and about half of them serving an axon; the rest are
 * miners sharing the incentive (summing to 65535 over the subnet), inactive, with LastUpdate
 * left at their registration block, most serving public IPv4 axons.
 * Deterministic in `seed`; addresses are real sr25519 keys (ss58 format 42).
 */
export async function generateChainState(options: GenerateChainStateOptions): Promise<ChainState> {
  await initDevKeys();
  const random = seededRandom(options.seed ?? 1);
  const { neuronsPerSubnet } = options;
  const hotkeyPool = Math.max(neuronsPerSubnet, Math.min(MAX_DISTINCT_HOTKEYS, options.subnets * neuronsPerSubnet));
  const currentBlock = 5_000_000;

  const subnets: SubnetState[] = [];
  for (let netuid = 0; netuid < options.subnets; netuid += 1) {
    const taoReserveRao = BigInt(Math.floor(1_000 + random() * 200_000)) * RAO_PER_TAO;
    const pricePerAlpha = 0.002 + random() * 0.2;
    const alphaReserveRao = BigInt(Math.floor(Number(taoReserveRao) / pricePerAlpha));
    // The pool's price is the chain's own figure (here near, not equal to, the reserve ratio).
    const alphaPriceRao = netuid === 0 ? RAO_PER_TAO : BigInt(Math.floor(pricePerAlpha * (0.9 + random() * 0.2) * 1e9));
    const isValidator = Array.from({ length: neuronsPerSubnet }, () => random() < VALIDATOR_SHARE);
    let permits = 0;
    const roles = isValidator.map((v) => v && ++permits <= MAX_VALIDATORS);
    const minerCount = roles.filter((v) => !v).length;
    const incentives = u16Shares(minerCount, random);
    const consensus = u16Shares(minerCount, random);
    const dividends = u16Shares(neuronsPerSubnet - minerCount, random);
    const neurons: NeuronState[] = [];
    for (let uid = 0; uid < neuronsPerSubnet; uid += 1) {
      const hotkeyIndex = (netuid * neuronsPerSubnet + uid) % hotkeyPool;
      const identity = {
        uid,
        hotkey: devAddress('hotkey', hotkeyIndex),
        coldkey: devAddress('coldkey', Math.floor(hotkeyIndex / HOTKEYS_PER_COLDKEY)),
        emissionRao: BigInt(Math.floor(random() * 5e9)),
      };
      if (roles[uid]) {
        neurons.push({
          ...identity,
          alphaStakeRao: BigInt(Math.floor((10_000 + random() * 1_000_000) * 1e9)),
          taoStakeRao: random() < 0.5 ? BigInt(Math.floor(random() * 500_000 * 1e9)) : 0n,
          incentive: 0,
          consensus: 0,
          dividends: dividends.pop() ?? 0,
          validatorTrust: Math.floor((0.8 + random() * 0.2) * 0xffff),
          validatorPermit: true,
          active: true,
          lastUpdate: currentBlock - Math.floor(random() * 360),
          axon: random() < 0.5 ? randomPublicAxon(random, uid) : null,
        });
      } else {
        neurons.push({
          ...identity,
          alphaStakeRao: BigInt(Math.floor(random() * 500 * 1e9)),
          taoStakeRao: 0n,
          incentive: incentives.pop() ?? 0,
          consensus: consensus.pop() ?? 0,
          dividends: 0,
          validatorTrust: 0,
          validatorPermit: false,
          active: false,
          lastUpdate: currentBlock - Math.floor(random() * 500_000),
          axon: random() < 0.1 ? null : randomPublicAxon(random, uid),
        });
      }
    }
    subnets.push({ netuid, taoReserveRao, alphaReserveRao, alphaPriceRao, neurons });
  }
  return { subnets };
}

/**
 * `count` random u16 values summing to exactly 65535 (none when count is 0), skewed so a few
 * take most — the shape of a subnet's incentive or dividends.
 */
export function u16Shares(count: number, random: () => number): number[] {
  if (count === 0) return [];
  const weights = Array.from({ length: count }, () => random() ** 3);
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const shares = weights.map((w) => Math.floor((w / total) * 0xffff));
  // Floors lose a few units; the largest share takes them so the sum is exact.
  const largest = shares.indexOf(Math.max(...shares));
  shares[largest] += 0xffff - shares.reduce((a, b) => a + b, 0);
  return shares;
}

function randomPublicAxon(random: () => number, uid: number): AxonState {
  // First octet 11..222: clear of 0/8, 10/8 and multicast, as miners must be reachable.
  const octets = [11 + Math.floor(random() * 212), ...[0, 0, 0].map(() => Math.floor(random() * 256))];
  return { ip: octets.join('.'), port: 8091 + (uid % 100), ipType: 4, protocol: 4, version: 9_001_000 };
}
