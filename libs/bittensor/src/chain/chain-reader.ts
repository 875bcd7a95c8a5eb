import { ApiPromise, WsProvider } from '@polkadot/api';
import type { ApiDecoration } from '@polkadot/api/types';
import type { bool, Option, Struct, u16, u64, u128, u32, u8, Vec } from '@polkadot/types';
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

const U16_MAX = 65_535;
/** @polkadot/rpc-core's refCountDelay (1750 ms) plus a margin. */
const RPC_MEMO_LINGER_MS = 1_800;
/** Once connected, a dropped socket is retried at this pace (WsProvider's own default). */
const RECONNECT_DELAY_MS = 2_500;

/**
 * Reads Bittensor metagraphs from any subtensor node over @polkadot/api, converting as the
 * Bittensor SDK does (u16 fractions / 65535, rao as decimal strings, u128 ip via netaddr).
 *
 * Storage read (SubtensorModule), all at one block hash so a metagraph is consistent:
 * - NetworksAdded: which subnets exist (listSubnets, and the not-found check).
 * - Keys(netuid, *) by prefix: the UID -> hotkey registry; defines the neuron set.
 * - Axons(netuid, *) by prefix: served endpoints (absent or ip 0 = not serving).
 * - Incentive, Consensus, Dividends, Trust, ValidatorTrust, Emission, LastUpdate,
 *   ValidatorPermit, Active (netuid): per-UID vectors, one key each.
 * - SubnetTAO, SubnetAlphaIn (netuid): pool reserves -> price.
 * - Owner(hotkey), TotalHotkeyAlpha(hotkey, netuid): multi-key reads of the subnet's hotkeys
 *   (their hasher puts the hotkey first, so they cannot be prefix-iterated by netuid).
 * That is 4 round trips per subnet whatever its size, instead of several per neuron.
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
      const sm = apiAt.query['subtensorModule'];
      const [keyEntries, axonEntries, subnetValues] = await Promise.all([
        sm['keys'].entries(netuid),
        sm['axons'].entries(netuid),
        apiAt.queryMulti(SUBNET_ITEMS.map((item) => [sm[item], netuid])),
      ]);
      const subnet = Object.fromEntries(SUBNET_ITEMS.map((item, i) => [item, subnetValues[i]])) as Record<
        (typeof SUBNET_ITEMS)[number],
        Codec
      >;
      if (!(subnet.networksAdded as bool).isTrue) throw new SubnetNotFoundError(netuid, number);

      const registered = keyEntries
        .map(([key, hotkey]) => ({ uid: (key.args[1] as u16).toNumber(), hotkey: (hotkey as AccountId32).toString() }))
        .sort((a, b) => a.uid - b.uid);
      const hotkeys = registered.map(({ hotkey }) => hotkey);
      const [owners, stakes] = await Promise.all([
        sm['owner'].multi(hotkeys),
        sm['totalHotkeyAlpha'].multi(hotkeys.map((hotkey) => [hotkey, netuid])),
      ]);
      const axonByHotkey = new Map(
        axonEntries.map(([key, axon]) => [(key.args[1] as AccountId32).toString(), axon as Option<AxonInfo>]),
      );

      const vector = <T extends Codec>(item: (typeof SUBNET_ITEMS)[number]) => subnet[item] as Vec<T>;
      const fraction = (item: 'incentive' | 'trust' | 'consensus' | 'dividends' | 'validatorTrust', uid: number) =>
        (vector<u16>(item)[uid]?.toNumber() ?? 0) / U16_MAX;
      const flag = (item: 'validatorPermit' | 'active', uid: number) => vector<bool>(item)[uid]?.isTrue ?? false;

      const neurons = registered.map(({ uid, hotkey }, i): Neuron => ({
        uid,
        hotkey,
        coldkey: owners[i].toString(),
        stakeRao: (stakes[i] as u64).toString(),
        emissionRao: vector<u64>('emission')[uid]?.toString() ?? '0',
        incentive: fraction('incentive', uid),
        trust: fraction('trust', uid),
        consensus: fraction('consensus', uid),
        dividends: fraction('dividends', uid),
        validatorTrust: fraction('validatorTrust', uid),
        validatorPermit: flag('validatorPermit', uid),
        active: flag('active', uid),
        lastUpdate: vector<u64>('lastUpdate')[uid]?.toNumber() ?? 0,
        axon: servedAxon(axonByHotkey.get(hotkey)),
      }));

      return {
        netuid,
        block: number,
        syncedAt: new Date().toISOString(),
        pool: subnetPool(netuid, (subnet.subnetTAO as u64).toBigInt(), (subnet.subnetAlphaIn as u64).toBigInt()),
        neurons,
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

/** Per-subnet storage values (not per neuron) fetched in one state_queryStorageAt. */
const SUBNET_ITEMS = [
  'networksAdded',
  'subnetTAO',
  'subnetAlphaIn',
  'incentive',
  'consensus',
  'dividends',
  'trust',
  'validatorTrust',
  'emission',
  'lastUpdate',
  'validatorPermit',
  'active',
] as const;

function servedAxon(axon: Option<AxonInfo> | undefined): Neuron['axon'] {
  if (!axon || axon.isNone) return null;
  const info = axon.unwrap();
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

/** The SDK's price fallback: taoReserve / alphaReserve; root (SN0) and an empty pool price at 1. */
export function subnetPool(netuid: number, taoReserveRao: bigint, alphaReserveRao: bigint): SubnetPool {
  const price = netuid === 0 || alphaReserveRao === 0n ? 1 : Number(taoReserveRao) / Number(alphaReserveRao);
  return { netuid, taoReserveRao: taoReserveRao.toString(), alphaReserveRao: alphaReserveRao.toString(), price };
}
