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
/** Miners that run on several subnets: keeps sr25519 derivation (~0.3 ms/key) off the bench's path. */
const MAX_DISTINCT_HOTKEYS = 2048;
const HOTKEYS_PER_COLDKEY = 4;

/**
 * A plausible mainnet-like chain: pools with a spread of prices, a quarter of each subnet
 * as permitted validators with large stake, most miners serving public IPv4 axons.
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
    const neurons: NeuronState[] = [];
    for (let uid = 0; uid < neuronsPerSubnet; uid += 1) {
      const hotkeyIndex = (netuid * neuronsPerSubnet + uid) % hotkeyPool;
      const isValidator = random() < VALIDATOR_SHARE;
      const u16 = (max: number) => Math.floor(random() * max * 0xffff);
      neurons.push({
        uid,
        hotkey: devAddress('hotkey', hotkeyIndex),
        coldkey: devAddress('coldkey', Math.floor(hotkeyIndex / HOTKEYS_PER_COLDKEY)),
        stakeRao: BigInt(Math.floor((isValidator ? 10_000 + random() * 1_000_000 : random() * 500) * 1e9)),
        emissionRao: BigInt(Math.floor(random() * 5e9)),
        incentive: isValidator ? 0 : u16(0.02),
        trust: isValidator ? 0 : u16(1),
        consensus: isValidator ? 0 : u16(0.02),
        dividends: isValidator ? u16(0.2) : 0,
        validatorTrust: isValidator ? u16(1) : 0,
        validatorPermit: isValidator,
        active: random() < 0.95,
        lastUpdate: currentBlock - Math.floor(random() * 7_200),
        axon: isValidator || random() < 0.1 ? null : randomPublicAxon(random, uid),
      });
    }
    subnets.push({ netuid, taoReserveRao, alphaReserveRao, neurons });
  }
  return { subnets };
}

function randomPublicAxon(random: () => number, uid: number): AxonState {
  // First octet 11..222: clear of 0/8, 10/8 and multicast, as miners must be reachable.
  const octets = [11 + Math.floor(random() * 212), ...[0, 0, 0].map(() => Math.floor(random() * 256))];
  return { ip: octets.join('.'), port: 8091 + (uid % 100), ipType: 4, protocol: 4, version: 9_001_000 };
}

