import { ApiPromise, WsProvider } from '@polkadot/api';
import type { ApiDecoration } from '@polkadot/api/types';
import type { bool, Compact, Option, Struct, u16, u64, u128, u32, u8, Vec } from '@polkadot/types';
import type { AccountId32, Header } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import type { Metagraph, Neuron, SubnetPool } from '@orchestra/contracts';
import { ChainConnectError, ChainReadError, SubnetNotFoundError } from './errors';
import { axonIpToString } from './ip';

/**
 * Subtensor's own signed extensions, unknown to @polkadot/types. Reading storage never
 * decodes extrinsics, so they are declared without payload only to keep the registry from
 * warning about them on every connect.
 */
export const SUBTENSOR_SIGNED_EXTENSIONS = {
  SubtensorSignedExtension: { extrinsic: {}, payload: {} },
  CommitmentsSignedExtension: { extrinsic: {}, payload: {} },
};

/** Tuning of {@link ChainReader.connect}. */
export interface ChainReaderOptions {
  /** Give up connecting (socket + metadata handshake) after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Per-RPC timeout once connected. Default 60 s (@polkadot/api's own default). */
  requestTimeoutMs?: number;
}

/** A block as announced to {@link ChainReader.onNewBlock} subscribers. */
export interface ChainBlock {
  number: number;
  hash: string;
}

/** Which block to read; default is the latest finalized one. */
export interface ReadAtOptions {
  /** 0x block hash, e.g. one delivered by {@link ChainReader.onNewBlock}. */
  at?: string;
}

/** SubtensorModule.Axons value (pallet_subtensor::AxonInfo). */
interface AxonInfo extends Struct {
  readonly version: u32;
  readonly ip: u128;
  readonly port: u16;
  readonly ipType: u8;
  readonly protocol: u8;
}

/** The fields read of NeuronInfoRuntimeApi.get_neurons_lite's NeuronInfoLite. */
interface NeuronInfoLite extends Struct {
  readonly hotkey: AccountId32;
  readonly coldkey: AccountId32;
  readonly uid: Compact<u16>;
  readonly active: bool;
  readonly axonInfo: AxonInfo;
  readonly emission: Compact<u64>;
  readonly incentive: Compact<u16>;
  readonly consensus: Compact<u16>;
  readonly validatorTrust: Compact<u16>;
  readonly dividends: Compact<u16>;
  readonly lastUpdate: Compact<u64>;
  readonly validatorPermit: bool;
}

/** The fields read of SubnetInfoRuntimeApi.get_subnet_state's SubnetState: per-UID stake. */
interface SubnetStakes extends Struct {
  readonly hotkeys: Vec<AccountId32>;
  readonly alphaStake: Vec<Compact<u64>>;
  readonly totalStake: Vec<Compact<u64>>;
}

/** The fields read of SubnetInfoRuntimeApi.get_dynamic_info's DynamicInfo: the pool reserves. */
interface DynamicInfo extends Struct {
  readonly taoIn: Compact<u64>;
  readonly alphaIn: Compact<u64>;
}

/** SwapRuntimeApi.sim_swap_tao_for_alpha's SimSwapResult (rao). */
interface SimSwapResult extends Struct {
  readonly taoAmount: u64;
  readonly alphaAmount: u64;
  readonly taoFee: u64;
  readonly alphaFee: u64;
}

/** What buying alpha with TAO would give now, as the chain simulates it; rao as decimal strings. */
export interface SwapQuote {
  taoRao: string;
  alphaRao: string;
  taoFeeRao: string;
  alphaFeeRao: string;
}

const RAO_PER_UNIT = 1e9;

const U16_MAX = 65_535;
/** @polkadot/rpc-core's refCountDelay (1750 ms) plus a margin. */
const RPC_MEMO_LINGER_MS = 1_800;
/** Once connected, a dropped socket is retried at this pace (WsProvider's own default). */
const RECONNECT_DELAY_MS = 2_500;

/**
 * Reads Bittensor metagraphs from any subtensor node over @polkadot/api, the way the
 * Bittensor SDK's Metagraph.sync does today: from runtime API calls, not storage items
 * (finney removed Trust, Rank and PruningScores in spec 401 and re-keyed others; the
 * runtime APIs are the interface the chain keeps). Per subnet, in parallel, at one block:
 * - NeuronInfoRuntimeApi.get_neurons_lite(netuid): UIDs, keys, axons and the per-UID
 *   signals (u16 fractions / 65535 as the SDK converts them).
 * - SubnetInfoRuntimeApi.get_subnet_state(netuid): alpha and total stake per UID, as the
 *   chain computes them (total = alpha + TaoWeight x root stake).
 * - SubnetInfoRuntimeApi.get_dynamic_info(netuid): the pool reserves (None: no such subnet).
 * - SwapRuntimeApi.current_alpha_price(netuid): the price, rao of TAO per alpha.
 * That is one round trip per subnet whatever its size.
 *
 * Runtimes whose metadata predates V15 describe no runtime API; for them (old testnet
 * specs, the spec-224 fixture) the reader falls back to the storage items those specs had.
 */
export class ChainReader {
  private constructor(
    private readonly api: ApiPromise,
    /** Endpoint, for error messages. */
    readonly url: string,
  ) {}

  /**
   * Connects and loads the runtime metadata. Fails with {@link ChainConnectError} when the
   * node is unreachable or too slow, instead of retrying forever as WsProvider would.
   */
  static async connect(url: string, options: ChainReaderOptions = {}): Promise<ChainReader> {
    const { connectTimeoutMs = 10_000, requestTimeoutMs } = options;
    let provider: WsProvider;
    try {
      provider = new WsProvider(url, RECONNECT_DELAY_MS, {}, requestTimeoutMs);
    } catch (error) {
      throw new ChainConnectError(url, (error as Error).message, { cause: error });
    }
    // ApiPromise gives up on the first socket error; switching WsProvider's auto-reconnect
    // off right then (it emits 'error' before it schedules the retry) leaves no timer behind.
    const stopRetryingOnError = provider.on('error', () => void provider.disconnect());
    const api = new ApiPromise({ provider, noInitWarn: true, signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ready node within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    });
    try {
      await Promise.race([api.isReadyOrError, timeout]);
      return new ChainReader(api, url);
    } catch (error) {
      await closeApi(api);
      const reason = error instanceof Error ? error.message : 'connection failed';
      throw new ChainConnectError(url, reason, { cause: error });
    } finally {
      clearTimeout(timer);
      stopRetryingOnError();
    }
  }

  /** Netuids registered at the block, ascending. */
  async listSubnets(options: ReadAtOptions = {}): Promise<number[]> {
    return this.reading('listing subnets', async () => {
      const { apiAt } = await this.blockAt(options.at);
      const entries = await apiAt.query['subtensorModule']['networksAdded'].entries();
      return entries
        .filter(([, added]) => (added as bool).isTrue)
        .map(([key]) => (key.args[0] as u16).toNumber())
        .sort((a, b) => a - b);
    });
  }

  /** The subnet's metagraph at the block; {@link SubnetNotFoundError} if it does not exist there. */
  async readMetagraph(netuid: number, options: ReadAtOptions = {}): Promise<Metagraph> {
    return this.reading(`reading the metagraph of subnet ${netuid}`, async () => {
      const { apiAt, number } = await this.blockAt(options.at);
      const read = hasRuntimeApis(apiAt) ? readViaRuntimeApis : readViaStorage;
      return { ...(await read(apiAt, netuid, number)), netuid, block: number, syncedAt: new Date().toISOString() };
    });
  }

  /**
   * What `taoRao` of TAO buys in the subnet's alpha now, fees included, from the chain's own
   * simulation (SwapRuntimeApi.sim_swap_tao_for_alpha): the price of a hire in alpha terms
   * or of the stake a subnet asks of its callers, without recomputing the pool's curve.
   */
  async quoteTaoForAlpha(netuid: number, taoRao: bigint, options: ReadAtOptions = {}): Promise<SwapQuote> {
    return this.reading(`quoting ${taoRao} rao of TAO for alpha on subnet ${netuid}`, async () => {
      const { apiAt } = await this.blockAt(options.at);
      if (!hasRuntimeApis(apiAt)) throw new ChainReadError(`${this.url} runs a runtime without SwapRuntimeApi; quotes need spec 2xx+ with metadata V15+`);
      const quote = (await apiAt.call['swapRuntimeApi']['simSwapTaoForAlpha'](netuid, taoRao)) as SimSwapResult;
      return {
        taoRao: quote.taoAmount.toString(),
        alphaRao: quote.alphaAmount.toString(),
        taoFeeRao: quote.taoFee.toString(),
        alphaFeeRao: quote.alphaFee.toString(),
      };
    });
  }

  /**
   * Calls `onBlock` with the current finalized block, then with each newly finalized one.
   * Resolves once the node accepted the subscription, with the function that ends it.
   */
  async onNewBlock(onBlock: (block: ChainBlock) => void): Promise<() => void> {
    return this.reading('subscribing to finalized heads', () =>
      this.api.rpc.chain.subscribeFinalizedHeads((header: Header) =>
        onBlock({ number: header.number.toNumber(), hash: header.hash.toHex() }),
      ),
    );
  }

  /**
   * Closes the connection; pending reads fail. Resolves once nothing of the connection is
   * left: @polkadot/rpc-core keeps each call's memoised observable alive for 1.75 s after
   * its last use (rxjs refCountDelay), so this waits that out — otherwise a process or test
   * runner that expects to exit idles on the timer.
   */
  async close(): Promise<void> {
    await closeApi(this.api);
    await new Promise((resolve) => setTimeout(resolve, RPC_MEMO_LINGER_MS));
  }

  private async blockAt(at: string | undefined): Promise<{ apiAt: ApiDecoration<'promise'>; number: number }> {
    // Finalized rather than best: what Orchestra dispatches on must not be reorged away.
    const hash = at ?? (await this.api.rpc.chain.getFinalizedHead()).toHex();
    const [header, apiAt] = await Promise.all([this.api.rpc.chain.getHeader(hash), this.api.at(hash)]);
    return { apiAt, number: header.number.toNumber() };
  }

  private async reading<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof ChainReadError) throw error;
      throw new ChainReadError(`${what} from ${this.url} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Disconnects and waits for the socket to close, so no handle outlives the reader. */
async function closeApi(api: ApiPromise): Promise<void> {
  const closed = api.isConnected ? new Promise((resolve) => api.once('disconnected', resolve)) : undefined;
  await api.disconnect();
  await closed;
}

type SubnetRead = Omit<Metagraph, 'netuid' | 'block' | 'syncedAt'>;

/** Whether the runtime describes the runtime APIs a metagraph is read with (metadata V15+). */
function hasRuntimeApis(apiAt: ApiDecoration<'promise'>): boolean {
  const { call } = apiAt;
  return 'neuronInfoRuntimeApi' in call && 'subnetInfoRuntimeApi' in call && 'swapRuntimeApi' in call;
}

const fraction = (value: Compact<u16> | u16 | undefined) => (value?.toNumber() ?? 0) / U16_MAX;

async function readViaRuntimeApis(apiAt: ApiDecoration<'promise'>, netuid: number, block: number): Promise<SubnetRead> {
  const { neuronInfoRuntimeApi, subnetInfoRuntimeApi, swapRuntimeApi } = apiAt.call;
  const [dynamic, lite, state, price] = (await Promise.all([
    subnetInfoRuntimeApi['getDynamicInfo'](netuid),
    neuronInfoRuntimeApi['getNeuronsLite'](netuid),
    subnetInfoRuntimeApi['getSubnetState'](netuid),
    swapRuntimeApi['currentAlphaPrice'](netuid),
  ])) as [Option<DynamicInfo>, Vec<NeuronInfoLite>, Option<SubnetStakes>, u64];
  if (dynamic.isNone) throw new SubnetNotFoundError(netuid, block);
  if (state.isNone) throw new ChainReadError(`the node has subnet ${netuid} but no get_subnet_state for it at block ${block}; retry, or try another node`);
  const { taoIn, alphaIn } = dynamic.unwrap();
  const stakes = state.unwrap();
  // get_subnet_state's vectors are per UID; matched by hotkey, so a node that answered two
  // inconsistent views cannot attach one neuron's stake to another.
  const stakeIndex = new Map(stakes.hotkeys.map((hotkey, i) => [hotkey.toString(), i]));

  const neurons = [...lite]
    .map((n): Neuron => {
      const hotkey = n.hotkey.toString();
      const at = stakeIndex.get(hotkey);
      if (at === undefined) throw new ChainReadError(`subnet ${netuid} at block ${block}: neuron ${hotkey} has no stake entry in get_subnet_state; retry, or try another node`);
      return {
        uid: n.uid.toNumber(),
        hotkey,
        coldkey: n.coldkey.toString(),
        alphaStakeRao: stakes.alphaStake[at]?.toString() ?? '0',
        totalStakeRao: stakes.totalStake[at]?.toString() ?? '0',
        emissionRao: n.emission.toString(),
        incentive: fraction(n.incentive),
        consensus: fraction(n.consensus),
        dividends: fraction(n.dividends),
        validatorTrust: fraction(n.validatorTrust),
        validatorPermit: n.validatorPermit.isTrue,
        active: n.active.isTrue,
        lastUpdate: n.lastUpdate.toNumber(),
        axon: servedAxon(n.axonInfo),
      };
    })
    .sort((a, b) => a.uid - b.uid);

  return {
    pool: {
      netuid,
      taoReserveRao: taoIn.toString(),
      alphaReserveRao: alphaIn.toString(),
      price: Number(price.toBigInt()) / RAO_PER_UNIT,
    },
    neurons,
  };
}

/**
 * The storage reads of runtimes before metadata V15 (4 round trips per subnet whatever its
 * size): NetworksAdded, Keys and Axons by prefix, the per-UID vectors, Owner and
 * TotalHotkeyAlpha by multi-key read; the price is the SDK's reserve-ratio fallback.
 */
async function readViaStorage(apiAt: ApiDecoration<'promise'>, netuid: number, block: number): Promise<SubnetRead> {
  const sm = apiAt.query['subtensorModule'];
  const [keyEntries, axonEntries, subnetValues] = await Promise.all([
    sm['keys'].entries(netuid),
    sm['axons'].entries(netuid),
    apiAt.queryMulti(SUBNET_ITEMS.map((item) => [sm[item], netuid])),
  ]);
  const subnet = Object.fromEntries(SUBNET_ITEMS.map((item, i) => [item, subnetValues[i]])) as Record<(typeof SUBNET_ITEMS)[number], Codec>;
  if (!(subnet.networksAdded as bool).isTrue) throw new SubnetNotFoundError(netuid, block);

  const registered = keyEntries
    .map(([key, hotkey]) => ({ uid: (key.args[1] as u16).toNumber(), hotkey: (hotkey as AccountId32).toString() }))
    .sort((a, b) => a.uid - b.uid);
  const hotkeys = registered.map(({ hotkey }) => hotkey);
  const [owners, stakes] = await Promise.all([
    sm['owner'].multi(hotkeys),
    sm['totalHotkeyAlpha'].multi(hotkeys.map((hotkey) => [hotkey, netuid])),
  ]);
  const axonByHotkey = new Map(axonEntries.map(([key, axon]) => [(key.args[1] as AccountId32).toString(), axon as Option<AxonInfo>]));

  const vector = <T extends Codec>(item: (typeof SUBNET_ITEMS)[number]) => subnet[item] as Vec<T>;
  const flag = (item: 'validatorPermit' | 'active', uid: number) => vector<bool>(item)[uid]?.isTrue ?? false;

  const neurons = registered.map(({ uid, hotkey }, i): Neuron => {
    const axon = axonByHotkey.get(hotkey);
    return {
      uid,
      hotkey,
      coldkey: owners[i].toString(),
      alphaStakeRao: (stakes[i] as u64).toString(),
      totalStakeRao: (stakes[i] as u64).toString(),
      emissionRao: vector<u64>('emission')[uid]?.toString() ?? '0',
      incentive: fraction(vector<u16>('incentive')[uid]),
      consensus: fraction(vector<u16>('consensus')[uid]),
      dividends: fraction(vector<u16>('dividends')[uid]),
      validatorTrust: fraction(vector<u16>('validatorTrust')[uid]),
      validatorPermit: flag('validatorPermit', uid),
      active: flag('active', uid),
      lastUpdate: vector<u64>('lastUpdate')[uid]?.toNumber() ?? 0,
      axon: axon && axon.isSome ? servedAxon(axon.unwrap()) : null,
    };
  });

  return {
    pool: reserveRatioPool(netuid, (subnet.subnetTAO as u64).toBigInt(), (subnet.subnetAlphaIn as u64).toBigInt()),
    neurons,
  };
}

/** Per-subnet storage values (not per neuron) fetched in one state_queryStorageAt. */
const SUBNET_ITEMS = [
  'networksAdded',
  'subnetTAO',
  'subnetAlphaIn',
  'incentive',
  'consensus',
  'dividends',
  'validatorTrust',
  'emission',
  'lastUpdate',
  'validatorPermit',
  'active',
] as const;

function servedAxon(info: AxonInfo): Neuron['axon'] {
  const ip = info.ip.toBigInt();
  // The SDK's is_serving: ip != 0.0.0.0.
  if (ip === 0n) return null;
  return {
    ip: axonIpToString(ip),
    port: info.port.toNumber(),
    ipType: info.ipType.toNumber(),
    protocol: info.protocol.toNumber(),
    version: info.version.toNumber(),
  };
}

/**
 * The SDK's price fallback, for runtimes without SwapRuntimeApi only: taoReserve /
 * alphaReserve; root (SN0) and an empty pool price at 1.
 */
export function reserveRatioPool(netuid: number, taoReserveRao: bigint, alphaReserveRao: bigint): SubnetPool {
  const price = netuid === 0 || alphaReserveRao === 0n ? 1 : Number(taoReserveRao) / Number(alphaReserveRao);
  return { netuid, taoReserveRao: taoReserveRao.toString(), alphaReserveRao: alphaReserveRao.toString(), price };
}
