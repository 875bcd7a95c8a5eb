import type { AddressInfo } from 'node:net';
import type { Header } from '@polkadot/types/interfaces';
import { compactAddLength, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChainState, SubnetState } from './chain-state';
import { BITTENSOR_SS58_FORMAT } from './dev-keys';
import { StorageSnapshot, SUBNET_CALLS, SubnetEncodingCache } from './storage';
import { simSwapTaoForAlpha } from './swap';
import { subtensorRuntime, type SubtensorRuntime, type SubtensorRuntimeName } from './subtensor-runtime';
import { OrchestraError } from '@orchestra/contracts';

/** How to start a {@link FakeSubtensor}. */
export interface FakeSubtensorOptions {
  state: ChainState;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Produce a block every N ms; 0 = only on produceBlock()/setState(). Default 12000, as mainnet. */
  blockTimeMs?: number;
  /** Which real runtime to be. Default `finney-424` (metadata V16, the runtime APIs served). */
  runtime?: SubtensorRuntimeName;
}

/** A JSON-RPC failure answered to the client as `{ error: { code, message } }`. */
class RpcError extends OrchestraError {
  readonly retryable = false;
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const PARSE_ERROR = -32700;
/** Substrate's "execution failed" error for state_call. */
const RUNTIME_CALL_FAILED = 1002;
/** Block states kept for `at` queries, like a pruning node's default window (genesis is always kept). */
const RETAINED_BLOCKS = 256;
const MAX_KEYS_PER_PAGE = 1000;

interface Block {
  number: number;
  hash: string;
  header: Header;
  storage: StorageSnapshot;
}

/** Subscriptions by the method that opens them: the method that closes them and the notification's method. */
const SUBSCRIPTIONS = {
  chain_subscribeNewHeads: { unsubscribe: 'chain_unsubscribeNewHeads', notify: 'chain_newHead' },
  chain_subscribeAllHeads: { unsubscribe: 'chain_unsubscribeAllHeads', notify: 'chain_allHead' },
  chain_subscribeFinalizedHeads: { unsubscribe: 'chain_unsubscribeFinalizedHeads', notify: 'chain_finalizedHead' },
  state_subscribeRuntimeVersion: { unsubscribe: 'state_unsubscribeRuntimeVersion', notify: 'state_runtimeVersion' },
} as const;
type SubscribeMethod = keyof typeof SUBSCRIPTIONS;

interface Subscription {
  socket: WebSocket;
  method: SubscribeMethod;
}

/**
 * A subtensor node for devnets and tests: a WebSocket JSON-RPC server with real subtensor
 * runtime metadata (finney spec 424 by default), SCALE storage and runtime-API answers
 * (state_call) built from a {@link ChainState}, so unmodified clients (@polkadot/api, the
 * Bittensor SDK's substrate-interface) read it like finney. Blocks carry no extrinsics and
 * are final as soon as they are produced; every state change is published as a new block,
 * and recent blocks stay queryable by hash.
 */
export class FakeSubtensor {
  private readonly encodingCache = new SubnetEncodingCache();
  private readonly blocksByHash = new Map<string, Block>();
  private readonly blocksByNumber: Block[] = [];
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly genesisHash: string;
  private nextSubscriptionId = 1;
  private blockTimer: NodeJS.Timeout | undefined;
  private currentState: ChainState;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly endpoint: string,
    state: ChainState,
    private readonly runtime: SubtensorRuntime,
  ) {
    this.currentState = state;
    this.genesisHash = this.appendBlock(StorageSnapshot.encode(state, this.runtime, this.encodingCache)).hash;
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Encodes `state` as the genesis block's storage and starts listening. */
  static async start(options: FakeSubtensorOptions): Promise<FakeSubtensor> {
    const host = options.host ?? '127.0.0.1';
    const server = new WebSocketServer({ host, port: options.port ?? 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    let node: FakeSubtensor;
    try {
      const { port } = server.address() as AddressInfo;
      const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
      node = new FakeSubtensor(server, url, options.state, subtensorRuntime(options.runtime));
    } catch (error) {
      server.close();
      throw error;
    }
    const blockTimeMs = options.blockTimeMs ?? 12_000;
    if (blockTimeMs > 0) node.blockTimer = setInterval(() => node.produceBlock(), blockTimeMs);
    return node;
  }

  /** ws://host:port of the node (still the same after stop()). */
  get url(): string {
    return this.endpoint;
  }

  /** Number of the best (= finalized) block. */
  get blockNumber(): number {
    return this.head.number;
  }

  /** The state in the best block. */
  get state(): ChainState {
    return this.currentState;
  }

  /** Publishes a new state in a new block (as if extrinsics had changed it) and returns the block number. */
  setState(state: ChainState): number {
    const storage = StorageSnapshot.encode(state, this.runtime, this.encodingCache);
    this.currentState = state;
    return this.appendBlock(storage).number;
  }

  /** Adds or replaces one subnet (by netuid) in a new block; only that subnet is re-encoded. */
  upsertSubnet(subnet: SubnetState): number {
    const others = this.currentState.subnets.filter((s) => s.netuid !== subnet.netuid);
    const subnets = [...others, subnet].sort((a, b) => a.netuid - b.netuid);
    return this.setState({ subnets });
  }

  /** Produces an empty block on the current state and returns its number. */
  produceBlock(): number {
    return this.appendBlock(this.head.storage).number;
  }

  /** Stops block production, disconnects every client and closes the port. */
  async stop(): Promise<void> {
    clearInterval(this.blockTimer);
    this.subscriptions.clear();
    for (const socket of this.server.clients) socket.terminate();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private get head(): Block {
    return this.blocksByNumber[this.blocksByNumber.length - 1];
  }

  private appendBlock(storage: StorageSnapshot): Block {
    const parent = this.blocksByNumber.at(-1);
    const number = parent ? parent.number + 1 : 0;
    const header = this.runtime.registry.createType<Header>('Header', {
      parentHash: parent?.hash ?? `0x${'00'.repeat(32)}`,
      number,
      // Not a trie root: a stand-in that differs per block, which is all clients compare.
      stateRoot: blake2AsHex(`state/${number}`),
      extrinsicsRoot: blake2AsHex(new Uint8Array()),
      digest: { logs: [] },
    });
    const block: Block = { number, hash: header.hash.toHex(), header, storage };
    this.blocksByNumber.push(block);
    this.blocksByHash.set(block.hash, block);
    if (this.blocksByNumber.length > RETAINED_BLOCKS) {
      const pruned = this.blocksByNumber.shift() as Block;
      // Clients look genesis up by number on every connect (chain_getBlockHash(0)).
      if (pruned.number !== 0) this.blocksByHash.delete(pruned.hash);
    }
    const headerJson = this.headerJson(block);
    for (const [id, subscription] of this.subscriptions) {
      if (subscription.method !== 'state_subscribeRuntimeVersion') this.notify(id, subscription, headerJson);
    }
    return block;
  }

  private accept(socket: WebSocket): void {
    socket.on('message', (data) => {
      let request: unknown;
      try {
        request = JSON.parse(data.toString());
      } catch {
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: PARSE_ERROR, message: 'Parse error' } }));
        return;
      }
      const requests = Array.isArray(request) ? request : [request];
      const responses = requests.map((r) => this.answer(socket, r as JsonRpcRequest));
      socket.send(JSON.stringify(Array.isArray(request) ? responses : responses[0]));
    });
    socket.on('close', () => {
      for (const [id, subscription] of this.subscriptions) {
        if (subscription.socket === socket) this.subscriptions.delete(id);
      }
    });
  }

  private answer(socket: WebSocket, request: JsonRpcRequest): object {
    const { id = null, method, params = [] } = request;
    try {
      if (method in SUBSCRIPTIONS) return { jsonrpc: '2.0', id, result: this.subscribe(socket, method as SubscribeMethod) };
      return { jsonrpc: '2.0', id, result: this.call(method, params) };
    } catch (error) {
      const { code, message } = error instanceof RpcError ? error : new RpcError(-32603, String(error));
      return { jsonrpc: '2.0', id, error: { code, message } };
    }
  }

  private subscribe(socket: WebSocket, method: SubscribeMethod): string {
    const id = `0x${(this.nextSubscriptionId++).toString(16)}`;
    const subscription = { socket, method };
    this.subscriptions.set(id, subscription);
    // Like a node, send the current value right away, after the subscription id.
    const current = method === 'state_subscribeRuntimeVersion' ? this.runtimeVersion() : this.headerJson(this.head);
    setImmediate(() => this.subscriptions.has(id) && this.notify(id, subscription, current));
    return id;
  }

  private notify(id: string, subscription: Subscription, result: unknown): void {
    const method = SUBSCRIPTIONS[subscription.method].notify;
    subscription.socket.send(JSON.stringify({ jsonrpc: '2.0', method, params: { subscription: id, result } }));
  }

  private call(method: string, params: unknown[]): unknown {
    const unsubscribed = Object.values(SUBSCRIPTIONS).find((s) => s.unsubscribe === method);
    if (unsubscribed) return this.subscriptions.delete(String(params[0]));
    const handler = this.handlers[method];
    if (!handler) throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${method}`);
    return handler(params);
  }

  /** Plain (non-subscription) methods, by JSON-RPC name; params are positional. */
  private readonly handlers: Record<string, (params: unknown[]) => unknown> = {
    rpc_methods: () => ({
      version: 1,
      methods: [...Object.keys(this.handlers), ...Object.entries(SUBSCRIPTIONS).flatMap(([subscribe, { unsubscribe }]) => [subscribe, unsubscribe])].sort(),
    }),
    system_chain: () => this.runtime.chainName,
    system_name: () => 'orchestra-fake-subtensor',
    system_version: () => '0.1.0',
    system_chainType: () => 'Development',
    system_health: () => ({ peers: 0, isSyncing: false, shouldHavePeers: false }),
    system_properties: () => ({ ss58Format: BITTENSOR_SS58_FORMAT, tokenDecimals: 9, tokenSymbol: 'TAO' }),
    state_getMetadata: ([at]) => (this.blockAt(at), this.runtime.metadataHex),
    state_getRuntimeVersion: ([at]) => (this.blockAt(at), this.runtimeVersion()),
    state_call: ([method, data, at]) => this.runtimeCall(this.blockAt(at), String(method), this.hexParam(data ?? '0x', 'data')),
    chain_getBlockHash: ([number]) => this.blockHash(number),
    chain_getFinalizedHead: () => this.head.hash,
    chain_getHeader: ([at]) => this.headerJson(this.blockAt(at)),
    chain_getBlock: ([at]) => ({ block: { header: this.headerJson(this.blockAt(at)), extrinsics: [] }, justifications: null }),
    state_getStorage: ([key, at]) => this.blockAt(at).storage.get(this.hexParam(key, 'key')),
    state_getKeysPaged: ([prefix, count, startKey, at]) => {
      if (typeof count !== 'number' || count < 0) throw new RpcError(INVALID_PARAMS, 'count must be a non-negative number');
      const start = startKey === null || startKey === undefined ? undefined : this.hexParam(startKey, 'startKey');
      const pageSize = Math.min(count, MAX_KEYS_PER_PAGE);
      return this.blockAt(at).storage.keysPaged(this.hexParam(prefix ?? '0x', 'prefix'), pageSize, start);
    },
    state_queryStorageAt: ([keys, at]) => {
      if (!Array.isArray(keys)) throw new RpcError(INVALID_PARAMS, 'keys must be an array');
      const block = this.blockAt(at);
      const changes = keys.map((key) => {
        const hex = this.hexParam(key, 'key');
        return [hex, block.storage.get(hex)];
      });
      return [{ block: block.hash, changes }];
    },
  };

  /** The block a JSON-RPC `at`/`hash` param names; null/absent = best block. */
  private blockAt(hash: unknown): Block {
    if (hash === undefined || hash === null) return this.head;
    const block = this.blocksByHash.get(this.hexParam(hash, 'block hash'));
    if (!block) throw new RpcError(4003, `Unknown block ${String(hash)} (never produced, or state discarded)`);
    return block;
  }

  private blockHash(number: unknown): string | null {
    if (number === undefined || number === null) return this.head.hash;
    const n = typeof number === 'string' ? Number(number) : number;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new RpcError(INVALID_PARAMS, 'block number expected');
    if (n === 0) return this.genesisHash;
    const oldest = this.blocksByNumber[0].number;
    return this.blocksByNumber[n - oldest]?.hash ?? null;
  }

  private hexParam(value: unknown, what: string): string {
    if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) throw new RpcError(INVALID_PARAMS, `${what} must be 0x-prefixed hex`);
    return value.toLowerCase();
  }

  private headerJson(block: Block): object {
    const { header } = block;
    return {
      parentHash: header.parentHash.toHex(),
      number: `0x${block.number.toString(16)}`,
      stateRoot: header.stateRoot.toHex(),
      extrinsicsRoot: header.extrinsicsRoot.toHex(),
      digest: { logs: [] },
    };
  }

  /**
   * state_call: the Metadata API, the per-subnet runtime APIs a metagraph reader uses (answered
   * from the block's encoded state) and the swap simulation. Anything else the runtime has is
   * refused as unprovided rather than answered with a made-up value.
   */
  private runtimeCall(block: Block, method: string, argsHex: string): string {
    const { registry, metadataHex } = this.runtime;
    if (method === 'Metadata_metadata_versions') return u8aToHex(registry.createType('Vec<u32>', [this.runtime.metadataVersion]).toU8a());
    // Option::Some(Vec<u8>): 0x01, then the metadata bytes with their compact length.
    if (method === 'Metadata_metadata_at_version') return u8aToHex(u8aConcat([1], compactAddLength(hexToU8a(metadataHex))));
    const call = this.runtime.runtimeCall(method);
    if (!call) throw new RpcError(RUNTIME_CALL_FAILED, `Runtime call ${method} does not exist in spec ${this.runtime.specVersion}`);
    let args: ReturnType<typeof call.decodeArgs>;
    try {
      args = call.decodeArgs(hexToU8a(argsHex));
    } catch (error) {
      throw new RpcError(RUNTIME_CALL_FAILED, `Runtime call ${method}: cannot decode its arguments: ${(error as Error).message}`);
    }
    if ((SUBNET_CALLS as readonly string[]).includes(method)) {
      // A netuid that does not exist gets the type's default (empty, None, 0), as from the chain.
      return block.storage.callAnswer(method, Number(args[0].toString())) ?? call.encodeResult(undefined);
    }
    if (method === 'SwapRuntimeApi_sim_swap_tao_for_alpha') {
      const [netuid, tao] = args.map((arg) => BigInt(arg.toString()));
      const pool = block.storage.pool(Number(netuid));
      if (!pool) throw new RpcError(RUNTIME_CALL_FAILED, `Runtime call ${method}: subnet ${netuid} does not exist`);
      return call.encodeResult(simSwapTaoForAlpha(pool, tao));
    }
    throw new RpcError(RUNTIME_CALL_FAILED, `Runtime call ${method} is not provided by the fake node`);
  }

  private runtimeVersion(): object {
    const { specName, specVersion, transactionVersion } = this.runtime;
    return {
      specName,
      implName: specName,
      authoringVersion: 1,
      specVersion,
      implVersion: 1,
      // The runtime's own list (System.Version); clients probe the Metadata API (v2+) in it.
      apis: this.runtime.apis,
      transactionVersion,
      stateVersion: 1,
    };
  }
}

interface JsonRpcRequest {
  id?: number | string | null;
  method: string;
  params?: unknown[];
}
