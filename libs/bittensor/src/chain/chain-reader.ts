import type { ApiPromise, WsProvider } from '@polkadot/api';
import type { ApiDecoration } from '@polkadot/api/types';
import type { bool, Option, PortableRegistry, Struct, u16, u64, u128, u32, u8, Vec } from '@polkadot/types';
import type { AccountId32, Header } from '@polkadot/types/interfaces';
import type { Codec, Registry } from '@polkadot/types/types';
import { u8aToHex } from '@polkadot/util';
import { encodeAddress } from '@polkadot/util-crypto';
import type { Metagraph, Neuron, SubnetPool } from '@orchestra/contracts';
import { ChainConnectError, ChainReadError, SubnetNotFoundError } from './errors';
import { axonIpToString } from './ip';
import { ScaleDecoder, type ScaleValue } from './scale';

/** Substrate's generic ss58 prefix, which Bittensor uses; the node's own (system_properties) wins. */
const BITTENSOR_SS58_FORMAT = 42;

/**
 * Subtensor's own signed extensions, unknown to @polkadot/types. Reading storage never
 * decodes extrinsics, so they are declared without payload only to keep the registry from
 * warning about them on every connect.
 */
export const SUBTENSOR_SIGNED_EXTENSIONS = {
  SubtensorSignedExtension: { extrinsic: {}, payload: {} },
  CommitmentsSignedExtension: { extrinsic: {}, payload: {} },
  // Finney's (spec 424) transaction extensions.
  SubtensorTransactionExtension: { extrinsic: {}, payload: {} },
  SudoTransactionExtension: { extrinsic: {}, payload: {} },
  CheckShieldedTxValidity: { extrinsic: {}, payload: {} },
  DrandPriority: { extrinsic: {}, payload: {} },
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
 * Bittensor SDK does today: from runtime API calls, not storage items (finney removed
 * Trust, Rank and PruningScores in spec 401 and re-keyed others; the runtime APIs are the
 * interface the chain keeps). Per subnet, at one block, in one round trip:
 * - SubnetInfoRuntimeApi.get_metagraph(netuid): keys, axons, the per-UID signals (u16
 *   fractions / 65535 as the SDK converts them), alpha and total stake as the chain
 *   computes them (total = alpha + TaoWeight x root stake), the pool reserves; None when
 *   the subnet does not exist.
 * - SwapRuntimeApi.current_alpha_price(netuid): the price, rao of TAO per alpha.
 * get_metagraph's answer (~34 kB for 256 UIDs) is decoded by {@link ScaleDecoder} from the
 * runtime's own type of it, into plain values: @polkadot/types' per-field Codec objects
 * made a finney-sized sync take seconds of CPU.
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
    // Loaded here, not at the top: @polkadot/api is a large module tree (~16 MB of heap), and
    // of the services only metagraph-sync reads the chain; the dispatcher imports this library
    // for its keys and protocols.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ApiPromise, WsProvider } = require('@polkadot/api') as typeof import('@polkadot/api');
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
      const at = await this.blockAt(options.at);
      const read = hasRuntimeApis(at.apiAt) ? (b: Block) => this.readViaRuntimeApis(b, netuid) : (b: Block) => readViaStorage(b.apiAt, netuid, b.number);
      return { ...(await read(at)), netuid, block: at.number, syncedAt: new Date().toISOString() };
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
      if (!hasRuntimeApis(apiAt)) throw new ChainReadError(`${this.url} runs a runtime without SwapRuntimeApi; quotes need spec 2xx+ with metadata V15+`, { retryable: false });
      const quote = (await apiAt.call['swapRuntimeApi']['simSwapTaoForAlpha'](netuid, taoRao)) as SimSwapResult;
      return {
        taoRao: quote.taoAmount.toString(),
        alphaRao: quote.alphaAmount.toString(),
        taoFeeRao: quote.taoFee.toString(),
        alphaFeeRao: quote.alphaFee.toString(),
      };
    });
  }

  /** The node's current runtime as it reported it on connect (state_getRuntimeVersion), e.g. `node-subtensor` 424. */
  runtimeVersion(): { specName: string; specVersion: number } {
    const { specName, specVersion } = this.api.runtimeVersion;
    return { specName: specName.toString(), specVersion: specVersion.toNumber() };
  }

  /** The latest finalized block: pass its hash as `at` to read several subnets at one state. */
  async finalizedHead(): Promise<ChainBlock> {
    return this.reading('reading the finalized head', async () => {
      const hash = await this.api.rpc.chain.getFinalizedHead();
      const header = await this.api.rpc.chain.getHeader(hash);
      return { number: header.number.toNumber(), hash: hash.toHex() };
    });
  }

  /**
   * Calls `onBlock` with the current finalized block, then with each newly finalized one.
   * Resolves once the node accepted the subscription, with the function that ends it.
   */
  async onNewBlock(onBlock: (block: ChainBlock) => void): Promise<() => void> {
    return this.reading('subscribing to finalized heads', () =>
      this.api.rpc.chain.subscribeFinalizedHeads((header: Header) => onBlock({ number: header.number.toNumber(), hash: header.hash.toHex() })),
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

  private async blockAt(at: string | undefined): Promise<Block> {
    // Finalized rather than best: what Orchestra dispatches on must not be reorged away.
    const hash = at ?? (await this.api.rpc.chain.getFinalizedHead()).toHex();
    const [header, apiAt] = await Promise.all([this.api.rpc.chain.getHeader(hash), this.api.at(hash)]);
    return { apiAt, hash, number: header.number.toNumber() };
  }

  private async readViaRuntimeApis({ apiAt, hash, number }: Block, netuid: number): Promise<SubnetRead> {
    const { registry } = apiAt;
    // Hex, not a Uint8Array: @polkadot/api would read a Uint8Array as length-prefixed Bytes.
    const args = u8aToHex(registry.createType('u16', netuid).toU8a());
    const outputType = runtimeCallOutput(registry, 'SubnetInfoRuntimeApi', 'get_metagraph');
    const [raw, price] = await Promise.all([
      this.api.rpc.state.call('SubnetInfoRuntimeApi_get_metagraph', args, hash),
      apiAt.call['swapRuntimeApi']['currentAlphaPrice'](netuid) as Promise<u64>,
    ]);
    const decoded = decoderFor(registry).decode(outputType, raw.toU8a(true));
    if (decoded === null) throw new SubnetNotFoundError(netuid, number);
    return metagraphFromRuntime(decoded, netuid, number, registry.chainSS58 ?? BITTENSOR_SS58_FORMAT, price.toBigInt());
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

interface Block {
  apiAt: ApiDecoration<'promise'>;
  hash: string;
  number: number;
}

/** Whether the runtime describes the runtime APIs a metagraph is read with (metadata V15+). */
function hasRuntimeApis(apiAt: ApiDecoration<'promise'>): boolean {
  const { call } = apiAt;
  return 'subnetInfoRuntimeApi' in call && 'swapRuntimeApi' in call;
}

const fraction = (value: u16 | number | undefined) => (typeof value === 'number' ? value : (value?.toNumber() ?? 0)) / U16_MAX;

const decoders = new WeakMap<Registry, ScaleDecoder>();

/** One decoder per runtime registry, so its compiled types are reused across reads. */
function decoderFor(registry: Registry): ScaleDecoder {
  let decoder = decoders.get(registry);
  if (!decoder) {
    decoder = new ScaleDecoder(registry.lookup as PortableRegistry);
    decoders.set(registry, decoder);
  }
  return decoder;
}

/** The type id of a runtime API method's return value, from the runtime's metadata. */
function runtimeCallOutput(registry: Registry, api: string, method: string): number {
  const found = registry.metadata.apis.find((a) => a.name.toString() === api)?.methods.find((m) => m.name.toString() === method);
  if (!found) throw new ChainReadError(`the runtime has no ${api}.${method}; this reader needs a subtensor runtime that has (finney spec 2xx+)`, { retryable: false });
  return found.output.toNumber();
}

const ss58Cache = new Map<string, string>();
/** Hotkeys recur every sync round; ss58 (a blake2 checksum each) is worth remembering, within bounds. */
const SS58_CACHE_MAX = 100_000;

function ss58(publicKey: Uint8Array, format: number): string {
  const key = `${format}:${Buffer.from(publicKey).toString('hex')}`;
  let address = ss58Cache.get(key);
  if (address === undefined) {
    address = encodeAddress(publicKey, format);
    if (ss58Cache.size >= SS58_CACHE_MAX) ss58Cache.clear();
    ss58Cache.set(key, address);
  }
  return address;
}

/**
 * The metagraph in get_metagraph's decoded answer. Every field read is checked for the type
 * it must have: a node (or a runtime) that answers something else is refused with the field
 * named, never turned into a plausible-looking metagraph.
 */
function metagraphFromRuntime(value: ScaleValue, netuid: number, block: number, ss58Format: number, priceRao: bigint): SubnetRead {
  const where = `get_metagraph(${netuid}) at block ${block}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ChainReadError(`${where} is not a struct`, { retryable: false });
  }
  const field = (name: string) => {
    if (!(name in value)) throw new ChainReadError(`${where} has no field ${name}; this reader knows finney's runtime (spec 424)`, { retryable: false });
    return value[name];
  };
  const list = (name: string) => {
    const v = field(name);
    if (!Array.isArray(v)) throw new ChainReadError(`${where}: ${name} is not a list`);
    return v;
  };
  const bigintAt = (name: string) => {
    const values = list(name);
    return (i: number) => (typeof values[i] === 'bigint' || typeof values[i] === 'number' ? BigInt(values[i] as bigint) : 0n);
  };
  const numberAt = (name: string) => {
    const values = list(name);
    return (i: number) => (typeof values[i] === 'number' ? (values[i] as number) : 0);
  };
  const flagAt = (name: string) => {
    const values = list(name);
    return (i: number) => values[i] === true;
  };
  const account = (v: ScaleValue, what: string) => {
    if (!(v instanceof Uint8Array) || v.length !== 32) throw new ChainReadError(`${where}: ${what} is not a 32-byte account`);
    return ss58(v, ss58Format);
  };

  const hotkeys = list('hotkeys');
  const coldkeys = list('coldkeys');
  const axons = list('axons');
  const [active, permit] = [flagAt('active'), flagAt('validator_permit')];
  const [incentive, consensus, dividends] = [numberAt('incentives'), numberAt('consensus'), numberAt('dividends')];
  const [lastUpdate, emission, alphaStake, totalStake] = [bigintAt('last_update'), bigintAt('emission'), bigintAt('alpha_stake'), bigintAt('total_stake')];
  const reserve = (name: string) => {
    const v = field(name);
    if (typeof v !== 'bigint') throw new ChainReadError(`${where}: ${name} is not a u64`);
    return v.toString();
  };

  const neurons = hotkeys.map((hotkey, uid): Neuron => ({
    uid,
    hotkey: account(hotkey, `hotkeys[${uid}]`),
    coldkey: account(coldkeys[uid], `coldkeys[${uid}]`),
    alphaStakeRao: alphaStake(uid).toString(),
    totalStakeRao: totalStake(uid).toString(),
    emissionRao: emission(uid).toString(),
    incentive: fraction(incentive(uid)),
    consensus: fraction(consensus(uid)),
    dividends: fraction(dividends(uid)),
    validatorPermit: permit(uid),
    active: active(uid),
    lastUpdate: Number(lastUpdate(uid)),
    axon: servedAxon(axonFields(axons[uid], `${where}: axons[${uid}]`)),
  }));
  return {
    pool: { netuid, taoReserveRao: reserve('tao_in'), alphaReserveRao: reserve('alpha_in'), price: Number(priceRao) / RAO_PER_UNIT },
    neurons,
  };
}

interface AxonFields {
  ip: bigint;
  port: number;
  ipType: number;
  protocol: number;
  version: number;
}

function axonFields(v: ScaleValue | undefined, where: string): AxonFields {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new ChainReadError(`${where} is not an AxonInfo`);
  const { ip, port, ip_type: ipType, protocol, version } = v;
  if (typeof ip !== 'bigint' || typeof port !== 'number' || typeof ipType !== 'number' || typeof protocol !== 'number' || typeof version !== 'number') {
    throw new ChainReadError(`${where} is not an AxonInfo (ip u128, port u16, ip_type u8, protocol u8, version u32)`);
  }
  return { ip, port, ipType, protocol, version };
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

  const registered = keyEntries.map(([key, hotkey]) => ({ uid: (key.args[1] as u16).toNumber(), hotkey: (hotkey as AccountId32).toString() })).sort((a, b) => a.uid - b.uid);
  const hotkeys = registered.map(({ hotkey }) => hotkey);
  const [owners, stakes] = await Promise.all([sm['owner'].multi(hotkeys), sm['totalHotkeyAlpha'].multi(hotkeys.map((hotkey) => [hotkey, netuid]))]);
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
      validatorPermit: flag('validatorPermit', uid),
      active: flag('active', uid),
      lastUpdate: vector<u64>('lastUpdate')[uid]?.toNumber() ?? 0,
      axon: axon && axon.isSome ? servedAxon(codecAxonFields(axon.unwrap())) : null,
    };
  });

  return {
    pool: reserveRatioPool(netuid, (subnet.subnetTAO as u64).toBigInt(), (subnet.subnetAlphaIn as u64).toBigInt()),
    neurons,
  };
}

/** Per-subnet storage values (not per neuron) fetched in one state_queryStorageAt. */
const SUBNET_ITEMS = ['networksAdded', 'subnetTAO', 'subnetAlphaIn', 'incentive', 'consensus', 'dividends', 'emission', 'lastUpdate', 'validatorPermit', 'active'] as const;

function codecAxonFields(info: AxonInfo): AxonFields {
  return { ip: info.ip.toBigInt(), port: info.port.toNumber(), ipType: info.ipType.toNumber(), protocol: info.protocol.toNumber(), version: info.version.toNumber() };
}

function servedAxon({ ip, port, ipType, protocol, version }: AxonFields): Neuron['axon'] {
  // The SDK's is_serving: ip != 0.0.0.0.
  if (ip === 0n) return null;
  return { ip: axonIpToString(ip), port, ipType, protocol, version };
}

/**
 * The SDK's price fallback, for runtimes without SwapRuntimeApi only: taoReserve /
 * alphaReserve; root (SN0) and an empty pool price at 1.
 */
export function reserveRatioPool(netuid: number, taoReserveRao: bigint, alphaReserveRao: bigint): SubnetPool {
  const price = netuid === 0 || alphaReserveRao === 0n ? 1 : Number(taoReserveRao) / Number(alphaReserveRao);
  return { netuid, taoReserveRao: taoReserveRao.toString(), alphaReserveRao: alphaReserveRao.toString(), price };
}
