import { ApiPromise, WsProvider } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { blake2AsHex, xxhashAsHex } from '@polkadot/util-crypto';
import WebSocket from 'ws';
import type { ChainState } from './chain-state';
import { chainTotalStake, InvalidChainStateError } from './chain-state';
import { devAddress, initDevKeys } from './dev-keys';
import { FakeSubtensor } from './fake-subtensor';
import { generateChainState } from './generate';
import { ipToU128 } from './ip';

/** One JSON-RPC exchange over a fresh raw WebSocket, as a non-polkadot client would do it. */
async function rawRpc(url: string, method: string, params: unknown[] = []): Promise<Record<string, unknown>> {
  const socket = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }));
    const data = await new Promise<WebSocket.RawData>((resolve) => socket.once('message', resolve));
    return JSON.parse(data.toString());
  } finally {
    socket.close();
  }
}

/** twox128(pallet) ++ twox128(item): where a storage item's keys start. */
function storagePrefix(item: string): string {
  return `${xxhashAsHex('SubtensorModule', 128)}${xxhashAsHex(item, 128).slice(2)}`;
}

describe('FakeSubtensor', () => {
  let state: ChainState;
  let fake: FakeSubtensor;

  beforeAll(async () => {
    await initDevKeys();
    state = await generateChainState({ subnets: 2, neuronsPerSubnet: 20 });
    const miner = state.subnets[1].neurons[3];
    miner.axon = { ip: '2001:db8::8a2e:370:7334', port: 443, ipType: 6, protocol: 4, version: 7 };
    fake = await FakeSubtensor.start({ state, blockTimeMs: 0 });
  });

  afterAll(() => fake.stop());

  it('serves SubtensorModule storage to a plain @polkadot/api client', async () => {
    const api = await ApiPromise.create({ provider: new WsProvider(fake.url), noInitWarn: true });
    try {
      const neuron = state.subnets[0].neurons.find((n) => n.axon !== null);
      if (!neuron?.axon) throw new Error('generated state has no serving neuron');
      const sm = api.query['subtensorModule'];

      const axon = (await sm['axons'](0, neuron.hotkey)) as unknown as { unwrap(): Record<string, Codec> };
      const info = axon.unwrap();
      expect(BigInt(info['ip'].toString())).toBe(ipToU128(neuron.axon.ip));
      expect(Number(info['port'].toString())).toBe(neuron.axon.port);

      const v6 = state.subnets[1].neurons[3];
      const v6Info = ((await sm['axons'](1, v6.hotkey)) as unknown as { unwrap(): Record<string, Codec> }).unwrap();
      expect(BigInt(v6Info['ip'].toString())).toBe(0x20010db80000000000008a2e03707334n);

      expect((await sm['keys'](0, neuron.uid)).toString()).toBe(neuron.hotkey);
      expect((await sm['owner'](neuron.hotkey)).toString()).toBe(neuron.coldkey);
      expect(Number((await sm['subnetworkN'](1)).toString())).toBe(20);
      expect(api.registry.chainSS58).toBe(42);
      expect(api.runtimeVersion.specVersion.toNumber()).toBe(424);
      expect(sm['trust']).toBeUndefined();
    } finally {
      await api.disconnect();
      // @polkadot/rpc-core keeps memoised calls alive 1.75 s after use; let them lapse so jest exits.
      await new Promise((resolve) => setTimeout(resolve, 1_800));
    }
  });

  it("answers the runtime APIs a metagraph is read with, in the runtime's own types, to a plain @polkadot/api client", async () => {
    const api = await ApiPromise.create({ provider: new WsProvider(fake.url), noInitWarn: true });
    try {
      const subnet = state.subnets[1];
      const lite = (await api.call['neuronInfoRuntimeApi']['getNeuronsLite'](1)) as unknown as Array<Record<string, Codec>>;
      expect(lite.map((n) => n['hotkey'].toString())).toEqual(subnet.neurons.map((n) => n.hotkey));
      expect(lite.map((n) => Number(n['incentive'].toString()))).toEqual(subnet.neurons.map((n) => n.incentive));
      expect(lite.map((n) => (n['validatorPermit'] as unknown as { isTrue: boolean }).isTrue)).toEqual(subnet.neurons.map((n) => n.validatorPermit));

      const subnetState = ((await api.call['subnetInfoRuntimeApi']['getSubnetState'](1)) as unknown as { unwrap(): Record<string, Codec[]> }).unwrap();
      expect(subnetState['totalStake'].map(String)).toEqual(subnet.neurons.map((n) => chainTotalStake(n).toString()));
      expect(subnetState['alphaStake'].map(String)).toEqual(subnet.neurons.map((n) => n.alphaStakeRao.toString()));

      expect((await api.call['swapRuntimeApi']['currentAlphaPrice'](1)).toString()).toBe(subnet.alphaPriceRao.toString());
      const dynamic = (await api.call['subnetInfoRuntimeApi']['getDynamicInfo'](1)) as unknown as { isSome: boolean; unwrap(): Record<string, Codec> };
      expect(dynamic.unwrap()['taoIn'].toString()).toBe(subnet.taoReserveRao.toString());
      const metagraph = ((await api.call['subnetInfoRuntimeApi']['getMetagraph'](1)) as unknown as { unwrap(): Record<string, Codec[]> }).unwrap();
      expect(metagraph['hotkeys'].map(String)).toEqual(subnet.neurons.map((n) => n.hotkey));

      // A subnet that does not exist: what the chain answers, not an error.
      expect(((await api.call['subnetInfoRuntimeApi']['getDynamicInfo'](77)) as unknown as { isNone: boolean }).isNone).toBe(true);
      expect(((await api.call['neuronInfoRuntimeApi']['getNeuronsLite'](77)) as unknown as unknown[]).length).toBe(0);
    } finally {
      await api.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 1_800));
    }
  });

  it("declares the runtime's own APIs (Metadata v2 among them) and answers state_call with raw SCALE bytes", async () => {
    const version = (await rawRpc(fake.url, 'state_getRuntimeVersion')).result as { specVersion: number; apis: Array<[string, number]> };
    expect(version.specVersion).toBe(424);
    const metadataApi = version.apis.find(([id]) => id === '0x37e397fc7c91f5e4');
    expect(metadataApi?.[1]).toBeGreaterThanOrEqual(2);
    expect(version.apis.map(([id]) => id)).toContain(blake2AsHex('NeuronInfoRuntimeApi', 64));

    // current_alpha_price(1): the u16 argument and the u64 answer are both little-endian SCALE.
    const price = (await rawRpc(fake.url, 'state_call', ['SwapRuntimeApi_current_alpha_price', '0x0100'])).result as string;
    expect(BigInt(`0x${Buffer.from(price.slice(2), 'hex').reverse().toString('hex')}`)).toBe(state.subnets[1].alphaPriceRao);
    // get_subnet_state(77): Option::None keeps its tag byte.
    expect((await rawRpc(fake.url, 'state_call', ['SubnetInfoRuntimeApi_get_subnet_state', '0x4d00'])).result).toBe('0x00');
    expect(await rawRpc(fake.url, 'state_call', ['SubnetInfoRuntimeApi_get_subnet_statez', '0x0100'])).toMatchObject({ error: { code: 1002 } });
    expect(await rawRpc(fake.url, 'state_call', ['StakeInfoRuntimeApi_get_stake_info_for_coldkey', `0x${'00'.repeat(32)}`])).toMatchObject({
      error: { code: 1002, message: expect.stringMatching(/not provided by the fake node/) },
    });
    expect(await rawRpc(fake.url, 'state_call', ['SwapRuntimeApi_current_alpha_price', '0x01'])).toMatchObject({
      error: { code: 1002, message: expect.stringMatching(/cannot decode its arguments/) },
    });
  });

  it('can still be the spec-224 testnet runtime (metadata V14, storage only)', async () => {
    const old = await FakeSubtensor.start({ state, blockTimeMs: 0, runtime: 'testnet-224' });
    try {
      const version = (await rawRpc(old.url, 'state_getRuntimeVersion')).result as { specVersion: number; apis: unknown[] };
      expect(version).toMatchObject({ specVersion: 224, apis: [['0x37e397fc7c91f5e4', 2]] });
      expect(await rawRpc(old.url, 'state_call', ['NeuronInfoRuntimeApi_get_neurons_lite', '0x0100'])).toMatchObject({ error: { code: 1002 } });
      const subnetworkN1 = `${storagePrefix('SubnetworkN')}0100`;
      expect((await rawRpc(old.url, 'state_getStorage', [subnetworkN1])).result).toBe('0x1400');
    } finally {
      await old.stop();
    }
  });

  it('answers unknown methods and malformed params with JSON-RPC errors', async () => {
    expect(await rawRpc(fake.url, 'author_submitExtrinsic', ['0x00'])).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32601, message: 'Method not found: author_submitExtrinsic' },
    });
    expect(await rawRpc(fake.url, 'state_getStorage', ['not-hex'])).toMatchObject({ id: 7, error: { code: -32602 } });
    expect(await rawRpc(fake.url, 'chain_getHeader', [`0x${'ab'.repeat(32)}`])).toMatchObject({ error: { code: 4003 } });
  });

  it('pages state_getKeysPaged by prefix and startKey like a node', async () => {
    const keysPrefix = storagePrefix('Keys');
    const all = (await rawRpc(fake.url, 'state_getKeysPaged', [keysPrefix, 1000])).result as string[];
    expect(all).toHaveLength(40);
    expect([...all].sort()).toEqual(all);

    const paged: string[] = [];
    let startKey: string | null = null;
    for (;;) {
      const page = (await rawRpc(fake.url, 'state_getKeysPaged', [keysPrefix, 7, startKey])).result as string[];
      paged.push(...page);
      if (page.length < 7) break;
      startKey = page[page.length - 1];
    }
    expect(paged).toEqual(all);
  });

  it('publishes setState as a new block and keeps older blocks queryable', async () => {
    const before = fake.blockNumber;
    const hashBefore = (await rawRpc(fake.url, 'chain_getBlockHash', [before])).result;
    const grown = structuredClone(state);
    grown.subnets[0].neurons.push({ ...grown.subnets[0].neurons[0], uid: 20, hotkey: devAddress('hotkey', 9999) });
    expect(fake.setState(grown)).toBe(before + 1);

    const subnetworkN0 = `${storagePrefix('SubnetworkN')}0000`; // Identity-hashed u16 netuid 0
    expect((await rawRpc(fake.url, 'state_getStorage', [subnetworkN0])).result).toBe('0x1500');
    expect((await rawRpc(fake.url, 'state_getStorage', [subnetworkN0, hashBefore])).result).toBe('0x1400');
    fake.setState(state);
  });

  it('rejects states the chain cannot hold', async () => {
    const twoColdkeys = structuredClone(state);
    twoColdkeys.subnets[1].neurons[0] = { ...twoColdkeys.subnets[1].neurons[0], hotkey: twoColdkeys.subnets[0].neurons[0].hotkey, coldkey: devAddress('coldkey', 9999) };
    expect(() => fake.setState(twoColdkeys)).toThrow(InvalidChainStateError);
    const gap = structuredClone(state);
    gap.subnets[0].neurons[0].uid = 99;
    expect(() => fake.setState(gap)).toThrow(/0\.\.n-1/);
    await expect(FakeSubtensor.start({ state: gap, blockTimeMs: 0 })).rejects.toBeInstanceOf(InvalidChainStateError);
  });

  it('disconnects clients and frees the port on stop()', async () => {
    const other = await FakeSubtensor.start({ state: { subnets: [] }, blockTimeMs: 5 });
    const socket = new WebSocket(other.url);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await other.stop();
    await closed;
    await expect(rawRpc(other.url, 'system_chain')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('ipToU128', () => {
  it.each([
    ['1.2.3.4', 0x01020304n],
    ['0.0.0.0', 0n],
    ['::1', 1n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['::ffff:1.2.3.4', 0xffff01020304n],
    ['fe80::1:2', 0xfe800000000000000000000000010002n],
  ])('%s', (ip, value) => expect(ipToU128(ip)).toBe(value));

  it('rejects text that is not an address', () => expect(() => ipToU128('example.com')).toThrow(InvalidChainStateError));
});

describe('FakeSubtensor block history', () => {
  it('prunes old block states but keeps genesis, so new clients can still connect', async () => {
    const fake = await FakeSubtensor.start({ state: { subnets: [] }, blockTimeMs: 0 });
    try {
      const genesis = (await rawRpc(fake.url, 'chain_getBlockHash', [0])).result as string;
      for (let i = 0; i < 300; i += 1) fake.produceBlock();
      expect((await rawRpc(fake.url, 'chain_getBlockHash', [0])).result).toBe(genesis);
      expect((await rawRpc(fake.url, 'chain_getHeader', [genesis])).result).toMatchObject({ number: '0x0' });
      expect((await rawRpc(fake.url, 'chain_getBlockHash', [1])).result).toBeNull();
      expect((await rawRpc(fake.url, 'chain_getBlockHash', [300])).result).toMatch(/^0x[0-9a-f]{64}$/);
    } finally {
      await fake.stop();
    }
  });

  it('re-encodes a state mutated in place and published again', async () => {
    const state = await generateChainState({ subnets: 1, neuronsPerSubnet: 3 });
    const fake = await FakeSubtensor.start({ state, blockTimeMs: 0 });
    try {
      const n0 = `${storagePrefix('SubnetworkN')}0000`;
      state.subnets[0].neurons.pop();
      fake.setState(state);
      expect((await rawRpc(fake.url, 'state_getStorage', [n0])).result).toBe('0x0200');
    } finally {
      await fake.stop();
    }
  });
});
