import type { ChainState, NeuronState, SubnetState } from './chain-state';
import { assertValidChainState, chainTotalStake } from './chain-state';
import { ipToU128 } from './ip';
import type { SubtensorRuntime } from './subtensor-runtime';

/** A storage key and its SCALE-encoded value, both 0x-hex. */
type Entry = readonly [key: string, value: string];

/** Pool values kept per subnet to answer swap simulations, whose amount is the caller's. */
export interface PoolState {
  readonly taoReserveRao: bigint;
  readonly alphaReserveRao: bigint;
}

/**
 * One subnet's share of a snapshot: its storage, its pool and its runtime-API answers. The
 * answers are encoded on first request (a sync may never ask for some of them) from a copy
 * of the subnet taken with the storage, so a state mutated later cannot leak into this block.
 */
class EncodedSubnet {
  readonly netuid: number;
  readonly entries: Entry[];
  readonly pool: PoolState;
  private readonly frozen: SubnetState;
  private answers?: Map<string, string>;

  constructor(
    subnet: SubnetState,
    private readonly runtime: SubtensorRuntime,
  ) {
    this.frozen = structuredClone(subnet);
    const neurons = [...subnet.neurons].sort((a, b) => a.uid - b.uid);
    this.netuid = subnet.netuid;
    this.entries = storageEntries(subnet.netuid, subnet, neurons, runtime);
    this.pool = { taoReserveRao: subnet.taoReserveRao, alphaReserveRao: subnet.alphaReserveRao };
  }

  /** The encoded answer of `call` (one of SUBNET_CALLS), keyed by `<call>:<0x args>`. */
  answer(call: string): string | undefined {
    if (!this.answers) {
      const neurons = [...this.frozen.neurons].sort((a, b) => a.uid - b.uid);
      this.answers = new Map(runtimeCallAnswers(this.frozen, neurons, this.runtime));
    }
    return this.answers.get(call);
  }
}

/**
 * The per-subnet runtime API methods the fake node answers from encoded state, with the
 * SCALE of their single `netuid: u16` argument. What they return for a netuid that does not
 * exist is the chain's too: the type's default (an empty Vec, None, 0).
 */
export const SUBNET_CALLS = [
  'NeuronInfoRuntimeApi_get_neurons_lite',
  'SubnetInfoRuntimeApi_get_subnet_state',
  'SubnetInfoRuntimeApi_get_dynamic_info',
  'SubnetInfoRuntimeApi_get_metagraph',
  'SwapRuntimeApi_current_alpha_price',
] as const;

/** An immutable, key-sorted image of the chain's storage (and runtime-API answers) at one state version. */
export class StorageSnapshot {
  private readonly sortedKeys: string[];
  private readonly values: Map<string, string>;
  private readonly subnets: Map<number, EncodedSubnet>;

  private constructor(subnets: EncodedSubnet[]) {
    this.values = new Map(subnets.flatMap((s) => s.entries));
    this.subnets = new Map(subnets.map((s) => [s.netuid, s]));
    // Lower-case hex strings sort exactly like the bytes they spell, i.e. in trie order.
    this.sortedKeys = [...this.values.keys()].sort();
  }

  /** Builds the snapshot, reusing `cache`d encodings of subnets that did not change. */
  static encode(state: ChainState, runtime: SubtensorRuntime, cache: SubnetEncodingCache): StorageSnapshot {
    assertValidChainState(state);
    return new StorageSnapshot(cache.subnets(state.subnets, runtime));
  }

  /** Value at `key`, or null if nothing is stored there. */
  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** The encoded answer of a per-subnet call (see SUBNET_CALLS) for a netuid, if the subnet exists. */
  callAnswer(call: string, netuid: number): string | undefined {
    return this.subnets.get(netuid)?.answer(call);
  }

  /** The pool of a subnet, if it exists. */
  pool(netuid: number): PoolState | undefined {
    return this.subnets.get(netuid)?.pool;
  }

  /** Up to `count` keys starting with `prefix`, strictly after `startKey` when given (state_getKeysPaged). */
  keysPaged(prefix: string, count: number, startKey?: string): string[] {
    const from = startKey !== undefined && startKey > prefix ? startKey : prefix;
    let index = lowerBound(this.sortedKeys, from);
    if (this.sortedKeys[index] === startKey) index += 1;
    const keys: string[] = [];
    for (; index < this.sortedKeys.length && keys.length < count; index += 1) {
      const key = this.sortedKeys[index];
      if (!key.startsWith(prefix)) break;
      keys.push(key);
    }
    return keys;
  }
}

/**
 * Remembers the encodings of the subnets in the latest state, by content, so publishing a
 * state where one subnet changed re-encodes only that subnet (SCALE encoding is ~100x
 * dearer than the fingerprint). Content, not object identity: callers may mutate a state in
 * place and publish it again.
 */
export class SubnetEncodingCache {
  private encoded = new Map<string, EncodedSubnet>();

  /** The encodings of all `subnets`; forgets subnets no longer present. */
  subnets(subnets: SubnetState[], runtime: SubtensorRuntime): EncodedSubnet[] {
    const current = new Map<string, EncodedSubnet>();
    for (const subnet of subnets) {
      const fingerprint = JSON.stringify(subnet, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value));
      current.set(fingerprint, current.get(fingerprint) ?? this.encoded.get(fingerprint) ?? encodeSubnet(subnet, runtime));
    }
    this.encoded = current;
    return [...current.values()];
  }
}

function encodeSubnet(subnet: SubnetState, runtime: SubtensorRuntime): EncodedSubnet {
  return new EncodedSubnet(subnet, runtime);
}

/**
 * SubtensorModule storage the fake node writes, and why — the items any polkadot client or
 * this repo's ChainReader (on runtimes without runtime-API metadata) reads:
 * - NetworksAdded(netuid) -> bool, SubnetworkN(netuid) -> u16: which subnets exist, their size.
 * - Keys(netuid, uid) -> hotkey; Uids(netuid, hotkey) -> uid: the UID <-> hotkey registry.
 * - Owner(hotkey) -> coldkey.
 * - Axons(netuid, hotkey) -> AxonInfo; absent when the neuron never served.
 * - Incentive, Consensus, Dividends, ValidatorTrust(netuid) -> Vec<u16>; Emission,
 *   LastUpdate(netuid) -> Vec<u64>; ValidatorPermit, Active(netuid) -> Vec<bool>: per-UID
 *   vectors, indexed by UID. (Trust is not written: finney removed it and nothing reads it.)
 * - TotalHotkeyAlpha(hotkey, netuid) -> u64: the hotkey's alpha stake on the subnet.
 * - SubnetTAO(netuid), SubnetAlphaIn(netuid) -> u64: the dTAO pool reserves.
 */
function storageEntries(netuid: number, subnet: SubnetState, neurons: NeuronState[], runtime: SubtensorRuntime): Entry[] {
  const entry = (item: string, keyArgs: unknown[], value: unknown): Entry => [runtime.storageKey(item, ...keyArgs), runtime.encodeValue(item, value)];
  const perUid = (item: string, values: unknown[]): Entry => entry(item, [netuid], values);

  const entries: Entry[] = [
    entry('networksAdded', [netuid], true),
    entry('subnetworkN', [netuid], neurons.length),
    entry('subnetTAO', [netuid], subnet.taoReserveRao),
    entry('subnetAlphaIn', [netuid], subnet.alphaReserveRao),
    perUid(
      'incentive',
      neurons.map((n) => n.incentive),
    ),
    perUid(
      'consensus',
      neurons.map((n) => n.consensus),
    ),
    perUid(
      'dividends',
      neurons.map((n) => n.dividends),
    ),
    perUid(
      'validatorTrust',
      neurons.map((n) => n.validatorTrust),
    ),
    perUid(
      'emission',
      neurons.map((n) => n.emissionRao),
    ),
    perUid(
      'lastUpdate',
      neurons.map((n) => n.lastUpdate),
    ),
    perUid(
      'validatorPermit',
      neurons.map((n) => n.validatorPermit),
    ),
    perUid(
      'active',
      neurons.map((n) => n.active),
    ),
  ];
  for (const neuron of neurons) {
    const { uid, hotkey, coldkey, alphaStakeRao } = neuron;
    entries.push(
      entry('keys', [netuid, uid], hotkey),
      entry('uids', [netuid, hotkey], uid),
      entry('owner', [hotkey], coldkey),
      entry('totalHotkeyAlpha', [hotkey, netuid], alphaStakeRao),
    );
    const info = axonInfo(neuron);
    if (info) entries.push(entry('axons', [netuid, hotkey], info));
  }
  return entries;
}

/** pallet_subtensor::AxonInfo of a served axon. */
function axonInfo({ axon, lastUpdate }: NeuronState) {
  if (!axon) return undefined;
  const { version, port, ipType, protocol } = axon;
  return { block: lastUpdate, version, ip: ipToU128(axon.ip), port, ipType, protocol, placeholder1: 0, placeholder2: 0 };
}

/**
 * The answers of the per-subnet runtime calls (SUBNET_CALLS) for this subnet, encoded with
 * the runtime's own types. Fields the state does not model (prometheus, identities,
 * hyperparameters, registration blocks) are the types' defaults; rank, trust and
 * pruning_score, which finney stopped computing, are 0 as the chain reports them.
 */
function runtimeCallAnswers(subnet: SubnetState, neurons: NeuronState[], runtime: SubtensorRuntime): Array<[call: string, result: string]> {
  const { netuid } = subnet;
  const noAxon = { block: 0, version: 0, ip: 0, port: 0, ipType: 0, protocol: 0, placeholder1: 0, placeholder2: 0 };
  const column = <T>(pick: (n: NeuronState) => T) => neurons.map(pick);
  const perUid = {
    hotkeys: column((n) => n.hotkey),
    coldkeys: column((n) => n.coldkey),
    active: column((n) => n.active),
    validatorPermit: column((n) => n.validatorPermit),
    lastUpdate: column((n) => n.lastUpdate),
    emission: column((n) => n.emissionRao),
    dividends: column((n) => n.dividends),
    incentives: column((n) => n.incentive),
    consensus: column((n) => n.consensus),
    pruningScore: column(() => 0),
    trust: column(() => 0),
    rank: column(() => 0),
    blockAtRegistration: column(() => 0),
    alphaStake: column((n) => n.alphaStakeRao),
    taoStake: column((n) => n.taoStakeRao),
    totalStake: column(chainTotalStake),
  };
  const pool = {
    netuid,
    ownerHotkey: neurons[0]?.hotkey ?? ZERO_ACCOUNT,
    ownerColdkey: neurons[0]?.coldkey ?? ZERO_ACCOUNT,
    tempo: 360,
    alphaIn: subnet.alphaReserveRao,
    taoIn: subnet.taoReserveRao,
  };
  const values: Record<(typeof SUBNET_CALLS)[number], unknown> = {
    NeuronInfoRuntimeApi_get_neurons_lite: neurons.map((n) => ({
      hotkey: n.hotkey,
      coldkey: n.coldkey,
      uid: n.uid,
      netuid,
      active: n.active,
      axonInfo: axonInfo(n) ?? noAxon,
      stake: [[n.coldkey, n.alphaStakeRao]],
      emission: n.emissionRao,
      incentive: n.incentive,
      consensus: n.consensus,
      validatorTrust: n.validatorTrust,
      dividends: n.dividends,
      lastUpdate: n.lastUpdate,
      validatorPermit: n.validatorPermit,
    })),
    SubnetInfoRuntimeApi_get_subnet_state: { netuid, ...perUid, emissionHistory: [] },
    SubnetInfoRuntimeApi_get_dynamic_info: pool,
    SubnetInfoRuntimeApi_get_metagraph: {
      ...pool,
      ...perUid,
      identities: column(() => null),
      numUids: neurons.length,
      maxUids: Math.max(256, neurons.length),
      axons: neurons.map((n) => axonInfo(n) ?? noAxon),
    },
    SwapRuntimeApi_current_alpha_price: subnet.alphaPriceRao,
  };
  return SUBNET_CALLS.map((call): [string, string] => {
    const method = runtime.runtimeCall(call);
    if (!method) throw new Error(`spec ${runtime.specVersion} has no runtime call ${call}`);
    return [call, method.encodeResult(values[call])];
  });
}

const ZERO_ACCOUNT = `0x${'00'.repeat(32)}`;

function lowerBound(sorted: string[], target: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
