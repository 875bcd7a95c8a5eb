import { OrchestraError } from '@orchestra/contracts';
/**
 * What the fake chain holds, in the chain's own units: u16 fractions as raw integers
 * (0..65535), balances in rao, ss58 (format 42) addresses. The fake node encodes it into
 * subtensor storage; a reader decodes it back the way the Bittensor SDK does.
 */
export interface ChainState {
  subnets: SubnetState[];
}

/** One subnet: its dTAO pool and its registered neurons (UIDs 0..n-1). */
export interface SubnetState {
  netuid: number;
  /** SubnetTAO: TAO side of the pool, rao. */
  taoReserveRao: bigint;
  /** SubnetAlphaIn: alpha side of the pool, rao. */
  alphaReserveRao: bigint;
  /**
   * The swap pallet's current price, rao of TAO per 1 alpha (SwapRuntimeApi.current_alpha_price).
   * Held as the chain holds it, not derived from the reserves: the pool's curve has changed
   * between runtimes, so readers must take the price from the chain.
   */
  alphaPriceRao: bigint;
  neurons: NeuronState[];
}

/** A served axon. `ip` is dotted IPv4 or IPv6 text; the chain stores it as a u128. */
export interface AxonState {
  ip: string;
  port: number;
  ipType: 4 | 6;
  protocol: number;
  version: number;
}

/** One UID of a subnet. */
export interface NeuronState {
  uid: number;
  hotkey: string;
  coldkey: string;
  /** TotalHotkeyAlpha(hotkey, netuid): the hotkey's alpha stake on the subnet, rao. */
  alphaStakeRao: bigint;
  /** The hotkey's root (SN0) stake, TAO rao; it counts towards the subnet stake at TaoWeight. */
  taoStakeRao: bigint;
  emissionRao: bigint;
  /** u16 share of the subnet's miner emission; over a real subnet the incentives sum to 65535. */
  incentive: number;
  consensus: number;
  dividends: number;
  validatorTrust: number;
  validatorPermit: boolean;
  /** False for miners on today's chain: only weight setters are active. */
  active: boolean;
  /** Block of the neuron's last weight update; a miner's stays at its registration block. */
  lastUpdate: number;
  /** null = not serving (no Axons entry on chain). */
  axon: AxonState | null;
}

/** A ChainState that cannot exist on a real subtensor chain. */
export class InvalidChainStateError extends OrchestraError {
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidChainStateError';
  }
}

const U16_MAX = 0xffff;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Rejects states the chain's storage layout cannot represent, so a bad fixture fails at
 * setState instead of as a confusing decode mismatch in a reader.
 */
export function assertValidChainState(state: ChainState): void {
  const netuids = new Set<number>();
  const coldkeyOf = new Map<string, string>();
  for (const subnet of state.subnets) {
    const where = `subnet ${subnet.netuid}`;
    if (!isUInt(subnet.netuid, U16_MAX)) throw new InvalidChainStateError(`${where}: netuid is not a u16`);
    if (netuids.has(subnet.netuid)) throw new InvalidChainStateError(`${where}: duplicate netuid`);
    netuids.add(subnet.netuid);
    assertU64(subnet.taoReserveRao, `${where}: taoReserveRao`);
    assertU64(subnet.alphaReserveRao, `${where}: alphaReserveRao`);
    assertU64(subnet.alphaPriceRao, `${where}: alphaPriceRao`);

    // Vec<u16>-per-subnet storage is indexed by UID, so UIDs must be exactly 0..n-1.
    const uids = subnet.neurons.map((n) => n.uid).sort((a, b) => a - b);
    if (uids.some((uid, i) => uid !== i)) throw new InvalidChainStateError(`${where}: UIDs must be 0..n-1 without gaps`);
    if (subnet.neurons.length > U16_MAX) throw new InvalidChainStateError(`${where}: too many neurons`);

    const hotkeys = new Set<string>();
    for (const neuron of subnet.neurons) {
      const at = `${where} uid ${neuron.uid}`;
      if (hotkeys.has(neuron.hotkey)) throw new InvalidChainStateError(`${at}: hotkey registered twice on one subnet`);
      hotkeys.add(neuron.hotkey);
      // Owner(hotkey) is global: one hotkey has one coldkey across all subnets.
      const owner = coldkeyOf.get(neuron.hotkey);
      if (owner !== undefined && owner !== neuron.coldkey) {
        throw new InvalidChainStateError(`${at}: hotkey ${neuron.hotkey} has two coldkeys`);
      }
      coldkeyOf.set(neuron.hotkey, neuron.coldkey);
      for (const field of ['incentive', 'consensus', 'dividends', 'validatorTrust'] as const) {
        if (!isUInt(neuron[field], U16_MAX)) throw new InvalidChainStateError(`${at}: ${field} is not a u16`);
      }
      assertU64(neuron.alphaStakeRao, `${at}: alphaStakeRao`);
      assertU64(neuron.taoStakeRao, `${at}: taoStakeRao`);
      assertU64(neuron.emissionRao, `${at}: emissionRao`);
      if (!isUInt(neuron.lastUpdate, Number.MAX_SAFE_INTEGER)) throw new InvalidChainStateError(`${at}: lastUpdate`);
      if (neuron.axon && !isUInt(neuron.axon.port, U16_MAX)) throw new InvalidChainStateError(`${at}: axon port`);
    }
  }
}

/**
 * TaoWeight's default on subtensor: the u64 fraction (x / 2^64) of root stake that counts
 * as stake on every subnet, about 0.18 (the SDK's ROOT_TAO_STAKE_WEIGHT).
 */
export const TAO_WEIGHT_U64 = 3_320_413_933_267_719_290n;

/**
 * A hotkey's stake on a subnet as the chain computes it for get_subnet_state's total_stake:
 * alpha + TaoWeight x root stake, saturating at u64 like the runtime's arithmetic. The fake
 * node is the chain here; readers take this number from it and never recompute it.
 */
export function chainTotalStake(neuron: Pick<NeuronState, 'alphaStakeRao' | 'taoStakeRao'>): bigint {
  const total = neuron.alphaStakeRao + ((neuron.taoStakeRao * TAO_WEIGHT_U64) >> 64n);
  return total > U64_MAX ? U64_MAX : total;
}

function isUInt(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

function assertU64(value: bigint, what: string): void {
  if (value < 0n || value > U64_MAX) throw new InvalidChainStateError(`${what} is not a u64`);
}
