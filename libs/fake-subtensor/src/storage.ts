import type { ChainState, SubnetState } from './chain-state';
import { assertValidChainState } from './chain-state';
import { ipToU128 } from './ip';
import type { SubtensorRuntime } from './subtensor-runtime';

/** A storage key and its SCALE-encoded value, both 0x-hex. */
type Entry = readonly [key: string, value: string];

/** An immutable, key-sorted image of the chain's storage at one state version. */
export class StorageSnapshot {
  private readonly sortedKeys: string[];
  private readonly values: Map<string, string>;

  private constructor(entries: Iterable<Entry>) {
    this.values = new Map(entries);
    // Lower-case hex strings sort exactly like the bytes they spell, i.e. in trie order.
    this.sortedKeys = [...this.values.keys()].sort();
  }

  /** Builds the snapshot, reusing `cache`d encodings of subnets that did not change. */
  static encode(state: ChainState, runtime: SubtensorRuntime, cache: SubnetEncodingCache): StorageSnapshot {
    assertValidChainState(state);
    return new StorageSnapshot(cache.entries(state.subnets, runtime));
  }

  /** Value at `key`, or null if nothing is stored there. */
  get(key: string): string | null {
    return this.values.get(key) ?? null;
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
 * Remembers the encoded entries of the subnets in the latest state, by content, so
 * publishing a state where one subnet changed re-encodes only that subnet (SCALE encoding
 * is ~100x dearer than the fingerprint). Content, not object identity: callers may mutate
 * a state in place and publish it again.
 */
export class SubnetEncodingCache {
  private encoded = new Map<string, Entry[]>();

  /** The storage entries of all `subnets`; forgets subnets no longer present. */
  entries(subnets: SubnetState[], runtime: SubtensorRuntime): Entry[] {
    const current = new Map<string, Entry[]>();
    for (const subnet of subnets) {
      const fingerprint = JSON.stringify(subnet, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value));
      current.set(fingerprint, current.get(fingerprint) ?? this.encoded.get(fingerprint) ?? encodeSubnet(subnet, runtime));
    }
    this.encoded = current;
    return [...current.values()].flat();
  }
}

/**
 * SubtensorModule storage the fake node writes, and why — the items a metagraph reader
 * (this repo's ChainReader, the Bittensor SDK, any polkadot client) queries:
 * - NetworksAdded(netuid) -> bool, SubnetworkN(netuid) -> u16: which subnets exist, their size.
 * - Keys(netuid, uid) -> hotkey; Uids(netuid, hotkey) -> uid: the UID <-> hotkey registry.
 * - Owner(hotkey) -> coldkey.
 * - Axons(netuid, hotkey) -> AxonInfo; absent when the neuron never served.
 * - Incentive, Consensus, Dividends, Trust, ValidatorTrust(netuid) -> Vec<u16>;
 *   Emission, LastUpdate(netuid) -> Vec<u64>; ValidatorPermit, Active(netuid) -> Vec<bool>:
 *   per-UID vectors, indexed by UID.
 * - TotalHotkeyAlpha(hotkey, netuid) -> u64: the hotkey's alpha stake on the subnet.
 * - SubnetTAO(netuid), SubnetAlphaIn(netuid) -> u64: the dTAO pool reserves (price = tao / alpha).
 */
function encodeSubnet(subnet: SubnetState, runtime: SubtensorRuntime): Entry[] {
  const { netuid } = subnet;
  const neurons = [...subnet.neurons].sort((a, b) => a.uid - b.uid);
  const entry = (item: string, keyArgs: unknown[], value: unknown): Entry => [
    runtime.storageKey(item, ...keyArgs),
    runtime.encodeValue(item, value),
  ];
  const perUid = (item: string, values: unknown[]): Entry => entry(item, [netuid], values);

  const entries: Entry[] = [
    entry('networksAdded', [netuid], true),
    entry('subnetworkN', [netuid], neurons.length),
    entry('subnetTAO', [netuid], subnet.taoReserveRao),
    entry('subnetAlphaIn', [netuid], subnet.alphaReserveRao),
    perUid('incentive', neurons.map((n) => n.incentive)),
    perUid('consensus', neurons.map((n) => n.consensus)),
    perUid('dividends', neurons.map((n) => n.dividends)),
    perUid('trust', neurons.map((n) => n.trust)),
    perUid('validatorTrust', neurons.map((n) => n.validatorTrust)),
    perUid('emission', neurons.map((n) => n.emissionRao)),
    perUid('lastUpdate', neurons.map((n) => n.lastUpdate)),
    perUid('validatorPermit', neurons.map((n) => n.validatorPermit)),
    perUid('active', neurons.map((n) => n.active)),
  ];
  for (const { uid, hotkey, coldkey, stakeRao, lastUpdate, axon } of neurons) {
    entries.push(
      entry('keys', [netuid, uid], hotkey),
      entry('uids', [netuid, hotkey], uid),
      entry('owner', [hotkey], coldkey),
      entry('totalHotkeyAlpha', [hotkey, netuid], stakeRao),
    );
    if (axon) {
      const { version, port, ipType, protocol } = axon;
      const info = { block: lastUpdate, version, ip: ipToU128(axon.ip), port, ipType, protocol, placeholder1: 0, placeholder2: 0 };
      entries.push(entry('axons', [netuid, hotkey], info));
    }
  }
  return entries;
}

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
