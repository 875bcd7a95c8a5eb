import { subtensorRuntime } from '@orchestra/fake-subtensor';
import type { PortableRegistry } from '@polkadot/types';
import { ScaleDecodeError, ScaleDecoder } from './scale';

/** The decoder against @polkadot/types' encoder, over finney spec 424's own types. */
describe('ScaleDecoder', () => {
  const { registry } = subtensorRuntime('finney-424');
  const decoder = new ScaleDecoder(registry.lookup as PortableRegistry);
  const apis = registry.metadata.apis;
  const outputOf = (api: string, method: string) =>
    apis
      .find((a) => a.name.toString() === api)
      ?.methods.find((m) => m.name.toString() === method)
      ?.output.toNumber() as number;
  const metagraphType = outputOf('SubnetInfoRuntimeApi', 'get_metagraph');
  const encode = (typeId: number, value: unknown) => registry.createType(registry.createLookupType(typeId), value).toU8a();

  it("decodes get_metagraph's Option<Metagraph> to plain values, field for field", () => {
    const hotkey = new Uint8Array(32).fill(7);
    const bytes = encode(metagraphType, {
      netuid: 13,
      taoIn: 61_000n * 10n ** 9n,
      alphaIn: 2n ** 64n - 1n,
      movingPrice: { bits: -5n },
      hotkeys: [hotkey],
      coldkeys: [new Uint8Array(32).fill(9)],
      identities: [null],
      axons: [{ block: 5, version: 9_012_000, ip: 2n ** 127n + 1n, port: 8091, ipType: 6, protocol: 4 }],
      active: [false],
      validatorPermit: [true],
      lastUpdate: [2n ** 40n],
      incentives: [65_535],
      dividends: [16_383],
      alphaStake: [123n],
      totalStake: [2n ** 63n],
    });
    const value = decoder.decode(metagraphType, bytes) as Record<string, unknown>;
    expect(value).toMatchObject({
      netuid: 13,
      tao_in: 61_000n * 10n ** 9n,
      alpha_in: 2n ** 64n - 1n,
      moving_price: { bits: -5n },
      hotkeys: [hotkey],
      identities: [null],
      axons: [{ block: 5n, version: 9_012_000, ip: 2n ** 127n + 1n, port: 8091, ip_type: 6, protocol: 4, placeholder1: 0, placeholder2: 0 }],
      active: [false],
      validator_permit: [true],
      last_update: [2n ** 40n],
      incentives: [65_535],
      dividends: [16_383],
      alpha_stake: [123n],
      total_stake: [2n ** 63n],
      registration_allowed: false,
    });
    expect(decoder.decode(metagraphType, new Uint8Array([0]))).toBeNull();
  });

  it('decodes every compact width', () => {
    const u64 = outputOf('SwapRuntimeApi', 'current_alpha_price');
    expect(decoder.decode(u64, encode(u64, 2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    const stateType = outputOf('SubnetInfoRuntimeApi', 'get_subnet_state');
    for (const n of [0n, 63n, 64n, 16_383n, 16_384n, 2n ** 30n - 1n, 2n ** 30n, 2n ** 64n - 1n]) {
      const decoded = decoder.decode(stateType, encode(stateType, { netuid: 1, alphaStake: [n] })) as { alpha_stake: bigint[] };
      expect(decoded.alpha_stake).toEqual([n]);
    }
  });

  it('refuses bytes that are short, too long, or claim more elements than they carry', () => {
    const bytes = encode(metagraphType, { netuid: 1, hotkeys: [new Uint8Array(32)] });
    expect(() => decoder.decode(metagraphType, bytes.subarray(0, bytes.length - 1))).toThrow(ScaleDecodeError);
    expect(() => decoder.decode(metagraphType, new Uint8Array([...bytes, 0]))).toThrow(/left over/);
    // Some(Metagraph) whose `name` Vec claims 2^30 elements.
    const huge = new Uint8Array([1, 4, 0x03, 0, 0, 0, 0x40]);
    expect(() => decoder.decode(metagraphType, huge)).toThrow(/elements with \d+ bytes left/);
    expect(() => decoder.decode(metagraphType, new Uint8Array([2]))).toThrow(/no variant 2/);
  });
});
