import { createServer } from 'node:net';
import fc from 'fast-check';
import { WebSocketServer } from 'ws';
import { MetagraphSchema, type Metagraph } from '@orchestra/contracts';
import {
  chainStateArbitrary,
  chainTotalStake,
  FakeSubtensor,
  generateChainState,
  initDevKeys,
  simSwapTaoForAlpha,
  type ChainState,
  type SubnetState,
  type SubtensorRuntimeName,
} from '@orchestra/fake-subtensor';
import { ChainReader } from './chain-reader';
import { ChainConnectError, SubnetNotFoundError } from './errors';

/**
 * The Bittensor SDK's view of a subnet, computed straight from the fake's state — written
 * independently of ChainReader (IPv6 is canonicalised by the WHATWG URL parser, which
 * follows the same RFC 5952 rules as netaddr). On finney-424 price and total stake are the
 * chain's answers (current_alpha_price, get_subnet_state); on testnet-224, which has no
 * runtime APIs, the reserve ratio and the alpha stake.
 */
function expectedMetagraph(subnet: SubnetState, runtime: SubtensorRuntimeName = 'finney-424'): Omit<Metagraph, 'block' | 'syncedAt'> {
  const { netuid, taoReserveRao, alphaReserveRao } = subnet;
  const legacy = runtime === 'testnet-224';
  const reserveRatio = netuid === 0 || alphaReserveRao === 0n ? 1 : Number(taoReserveRao) / Number(alphaReserveRao);
  return {
    netuid,
    pool: {
      netuid,
      taoReserveRao: taoReserveRao.toString(),
      alphaReserveRao: alphaReserveRao.toString(),
      price: legacy ? reserveRatio : Number(subnet.alphaPriceRao) / 1e9,
    },
    neurons: [...subnet.neurons]
      .sort((a, b) => a.uid - b.uid)
      .map((n) => ({
        uid: n.uid,
        hotkey: n.hotkey,
        coldkey: n.coldkey,
        alphaStakeRao: n.alphaStakeRao.toString(),
        totalStakeRao: (legacy ? n.alphaStakeRao : chainTotalStake(n)).toString(),
        emissionRao: n.emissionRao.toString(),
        incentive: n.incentive / 65535,
        consensus: n.consensus / 65535,
        dividends: n.dividends / 65535,
        validatorPermit: n.validatorPermit,
        active: n.active,
        lastUpdate: n.lastUpdate,
        axon:
          !n.axon || n.axon.ip === '0.0.0.0'
            ? null
            : {
                ip: n.axon.ipType === 6 ? new URL(`http://[${n.axon.ip}]`).hostname.slice(1, -1) : n.axon.ip,
                port: n.axon.port,
                ipType: n.axon.ipType,
                protocol: n.axon.protocol,
                version: n.axon.version,
              },
      })),
  };
}

async function readAll(reader: ChainReader): Promise<Metagraph[]> {
  const netuids = await reader.listSubnets();
  return Promise.all(netuids.map((netuid) => reader.readMetagraph(netuid)));
}

describe('ChainReader against FakeSubtensor (finney spec 424, runtime APIs)', () => {
  let fake: FakeSubtensor;
  let reader: ChainReader;
  let initial: ChainState;

  beforeAll(async () => {
    initial = await generateChainState({ subnets: 3, neuronsPerSubnet: 12 });
    fake = await FakeSubtensor.start({ state: initial, blockTimeMs: 0 });
    reader = await ChainReader.connect(fake.url);
  });

  afterAll(async () => {
    await reader.close();
    await fake.stop();
  });

  it('reads every subnet of a random chain state as the SDK would convert it', async () => {
    await initDevKeys();
    await fc.assert(
      fc.asyncProperty(chainStateArbitrary({ maxSubnets: 4, maxNeuronsPerSubnet: 8 }), async (state) => {
        const block = fake.setState(state);
        const metagraphs = await readAll(reader);

        const bySubnet = (a: { netuid: number }, b: { netuid: number }) => a.netuid - b.netuid;
        expect(metagraphs.map(({ block: _b, syncedAt: _s, ...rest }) => rest)).toEqual([...state.subnets].sort(bySubnet).map((subnet) => expectedMetagraph(subnet)));
        for (const metagraph of metagraphs) {
          expect(MetagraphSchema.parse(metagraph)).toEqual(metagraph);
          expect(metagraph.block).toBe(block);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('reads an earlier block by hash, unaffected by later state changes', async () => {
    fake.setState(initial);
    const hashes: string[] = [];
    const unsubscribe = await reader.onNewBlock((b) => hashes.push(b.hash));
    await waitFor(() => hashes.length === 1);
    unsubscribe();

    fake.setState({ subnets: [] });
    expect(await reader.listSubnets()).toEqual([]);
    const old = await reader.readMetagraph(1, { at: hashes[0] });
    expect(old.neurons).toEqual(expectedMetagraph(initial.subnets[1]).neurons);
  });

  it('delivers each new block to onNewBlock subscribers until they unsubscribe', async () => {
    const seen: number[] = [];
    const unsubscribe = await reader.onNewBlock((b) => seen.push(b.number));
    await waitFor(() => seen.length === 1);
    const first = fake.produceBlock();
    const second = fake.produceBlock();
    await waitFor(() => seen.length === 3);
    unsubscribe();
    fake.produceBlock();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([first - 1, first, second]);
  });

  it('rejects a subnet that does not exist with SubnetNotFoundError', async () => {
    fake.setState(initial);
    await expect(reader.readMetagraph(999)).rejects.toBeInstanceOf(SubnetNotFoundError);
  });

  it("quotes TAO for alpha with the chain's swap simulation", async () => {
    fake.setState(initial);
    const { netuid, taoReserveRao, alphaReserveRao } = initial.subnets[1];
    const quote = await reader.quoteTaoForAlpha(netuid, 25n * 10n ** 9n);
    const expected = simSwapTaoForAlpha({ taoReserveRao, alphaReserveRao }, 25n * 10n ** 9n);
    expect(quote).toEqual({
      taoRao: '25000000000',
      alphaRao: expected.alphaAmount.toString(),
      taoFeeRao: expected.taoFee.toString(),
      alphaFeeRao: '0',
    });
    await expect(reader.quoteTaoForAlpha(999, 1n)).rejects.toThrow(/subnet 999 does not exist/);
  });
});

describe('ChainReader against FakeSubtensor (testnet spec 224, storage)', () => {
  it('still reads a runtime whose metadata (V14) describes no runtime API, from its storage', async () => {
    const state = await generateChainState({ subnets: 2, neuronsPerSubnet: 16, seed: 3 });
    const fake = await FakeSubtensor.start({ state, blockTimeMs: 0, runtime: 'testnet-224' });
    const reader = await ChainReader.connect(fake.url);
    try {
      const metagraphs = await readAll(reader);
      expect(metagraphs.map(({ block: _b, syncedAt: _s, ...rest }) => rest)).toEqual(state.subnets.map((subnet) => expectedMetagraph(subnet, 'testnet-224')));
      await expect(reader.readMetagraph(999)).rejects.toBeInstanceOf(SubnetNotFoundError);
      await expect(reader.quoteTaoForAlpha(1, 1n)).rejects.toThrow(/without SwapRuntimeApi/);
    } finally {
      await reader.close();
      await fake.stop();
    }
  });
});

describe('ChainReader.connect', () => {
  it('fails within the timeout with a ChainConnectError naming the URL', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const error = await ChainReader.connect(url, { connectTimeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainConnectError);
    expect((error as ChainConnectError).message).toContain(url);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up on a node that accepts the socket but never answers', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => silent.once('listening', resolve));
    const url = `ws://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const error = await ChainReader.connect(url, { connectTimeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChainConnectError);
      expect((error as Error).message).toMatch(/no ready node within 300 ms/);
    } finally {
      for (const client of silent.clients) client.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('produces blocks on a timer when blockTimeMs is set', async () => {
    const fake = await FakeSubtensor.start({ state: { subnets: [] }, blockTimeMs: 30 });
    const reader = await ChainReader.connect(fake.url);
    try {
      const seen: number[] = [];
      const unsubscribe = await reader.onNewBlock((b) => seen.push(b.number));
      await waitFor(() => seen.length >= 3);
      unsubscribe();
      expect(seen.slice(1, 3)).toEqual([seen[0] + 1, seen[0] + 2]);
    } finally {
      await reader.close();
      await fake.stop();
    }
  });
});

/** A loopback port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
