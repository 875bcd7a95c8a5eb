import fc from 'fast-check';
import type { AxonState, ChainState, NeuronState, SubnetState } from './chain-state';
import { devAddress } from './dev-keys';

/** Bounds of {@link chainStateArbitrary}; small defaults keep property runs fast. */
export interface ChainStateArbitraryOptions {
  maxSubnets?: number;
  maxNeuronsPerSubnet?: number;
}

const U16_MAX = 0xffff;
const U64_MAX = (1n << 64n) - 1n;
/** Dev-key index space: small enough that hotkeys recur across subnets (shared Owner entries). */
const HOTKEY_INDICES = 48;
const COLDKEY_INDICES = 12;

/**
 * fast-check Arbitrary of valid ChainStates over the full value ranges the chain stores
 * (u16 fractions, u64 rao, IPv4/IPv6 axons incl. 0.0.0.0 = not serving). Roles need not be
 * coherent (a UID may hold a permit and incentive), the worst case for readers and ranking.
 * Addresses are real sr25519 dev keys: await `initDevKeys()` before sampling.
 */
export function chainStateArbitrary(options: ChainStateArbitraryOptions = {}): fc.Arbitrary<ChainState> {
  const { maxSubnets = 4, maxNeuronsPerSubnet = 8 } = options;
  const subnet = (netuid: number): fc.Arbitrary<SubnetState> =>
    fc
      .record({
        taoReserveRao: fc.bigInt({ min: 0n, max: U64_MAX }),
        alphaReserveRao: fc.bigInt({ min: 0n, max: U64_MAX }),
        alphaPriceRao: fc.bigInt({ min: 0n, max: U64_MAX }),
        hotkeyIndices: fc.uniqueArray(fc.nat(HOTKEY_INDICES - 1), { maxLength: maxNeuronsPerSubnet }),
        neurons: fc.array(neuronFields, { minLength: maxNeuronsPerSubnet, maxLength: maxNeuronsPerSubnet }),
      })
      .map(({ taoReserveRao, alphaReserveRao, alphaPriceRao, hotkeyIndices, neurons }) => ({
        netuid,
        taoReserveRao,
        alphaReserveRao,
        alphaPriceRao,
        neurons: hotkeyIndices.map((hotkeyIndex, uid): NeuronState => ({
          uid,
          hotkey: devAddress('hotkey', hotkeyIndex),
          // A function of the hotkey: Owner(hotkey) is one coldkey chain-wide.
          coldkey: devAddress('coldkey', hotkeyIndex % COLDKEY_INDICES),
          ...neurons[uid],
        })),
      }));

  return fc
    .uniqueArray(fc.nat(U16_MAX), { maxLength: maxSubnets })
    .chain((netuids) => fc.tuple(...netuids.map(subnet)))
    .map((subnets) => ({ subnets }));
}

const u16 = fc.nat(U16_MAX);
const u64 = fc.bigInt({ min: 0n, max: U64_MAX });

const ipv6Axon: fc.Arbitrary<Pick<AxonState, 'ip' | 'ipType'>> = fc
  // First group non-zero: the SDK renders any ip below 2^32 as IPv4, whatever ipType says.
  .tuple(fc.integer({ min: 1, max: U16_MAX }), fc.array(fc.nat(U16_MAX), { minLength: 7, maxLength: 7 }))
  .map(([first, rest]) => ({ ip: [first, ...rest].map((g) => g.toString(16)).join(':'), ipType: 6 as const }));

const ipv4Axon: fc.Arbitrary<Pick<AxonState, 'ip' | 'ipType'>> = fc.oneof(fc.ipV4(), fc.constant('0.0.0.0')).map((ip) => ({ ip, ipType: 4 as const }));

const axon: fc.Arbitrary<AxonState | null> = fc.option(
  fc.record({ address: fc.oneof(ipv4Axon, ipv6Axon), port: u16, protocol: fc.nat(255), version: fc.nat(0xffffffff) }).map(({ address, ...rest }) => ({ ...address, ...rest })),
);

const neuronFields = fc.record({
  alphaStakeRao: u64,
  taoStakeRao: u64,
  emissionRao: u64,
  incentive: u16,
  consensus: u16,
  dividends: u16,
  validatorTrust: u16,
  validatorPermit: fc.boolean(),
  active: fc.boolean(),
  lastUpdate: fc.maxSafeNat(),
  axon,
});
