import { randomUUID } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { KeyringPair } from '@polkadot/keyring/types';
import { signHex, verifyHex } from '../keys';
import {
  BITTENSOR_VERSION_INT,
  DEFAULT_SYNAPSE_TIMEOUT_S,
  floatRepr,
  parseSynapseHeaders,
  pythonRepr,
  SynapseDefinition,
  synapseBodyHash,
  TerminalInfo,
  toBody,
  toHeaders,
  V_7_2_0,
} from '../synapse';
import { PriorityGate, PriorityTimeoutError } from './priority-gate';
import { OrchestraError } from '@orchestra/contracts';

/** What a handler receives: the verified caller and the body's field values. */
export interface AxonRequest {
  readonly definition: SynapseDefinition;
  /** Subclass field values from the JSON body, defaults filled in. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The caller's terminal (hotkey verified, ip/port from the TCP peer). */
  readonly dendrite: TerminalInfo;
  /** The synapse timeout, seconds. */
  readonly timeout: number;
  /** Aborts when the caller disconnects or the server stops. */
  readonly signal: AbortSignal;
}

/**
 * An escape hatch for handlers that must answer outside the protocol (a simulated miner that
 * redirects, streams garbage…): it receives the raw Node response and owns it entirely.
 */
export class RawReply {
  constructor(readonly write: (res: ServerResponse) => void) {}
}

/**
 * A streaming synapse's answer (the SDK's BTStreamingResponse): status 200 with the synapse's
 * headers, then each event as its JSON text, back to back, as Desearch's ResponseStreamer sends them.
 */
export class StreamedReply {
  constructor(readonly events: readonly unknown[]) {}
}

/** A synapse handler (the SDK's forward_fn): returns the response field values, a StreamedReply or a RawReply. */
export type AxonHandler = (request: AxonRequest) => Promise<Readonly<Record<string, unknown>> | RawReply | StreamedReply>;

/** A synapse the axon serves. */
export interface AxonRoute {
  readonly definition: SynapseDefinition;
  readonly handler: AxonHandler;
}

/** Options of an AxonServer. */
export interface AxonServerOptions {
  /** The miner's hotkey; requests must be signed for its address. */
  readonly hotkey: KeyringPair;
  readonly routes: readonly AxonRoute[];
  /**
   * Returns a reason to refuse the caller (the SDK's blacklist_fn), or undefined to admit it.
   * `ip` is the TCP peer's, as `synapse.dendrite.ip` is on a real axon (subnets quote it).
   */
  readonly blacklist?: (hotkey: string | undefined, synapseName: string, ip: string | undefined) => string | undefined;
  /** Higher runs first when handlers are saturated (the SDK's priority_fn, typically stake). */
  readonly priority?: (hotkey: string) => number;
  /** Handlers running at once. */
  readonly maxConcurrent?: number;
  /** Largest request body read. */
  readonly maxRequestBytes?: number;
}

/** bittensor/utils/axon_utils.py ALLOWED_DELTA: 4 s of clock skew on top of the synapse timeout. */
export const NONCE_ALLOWED_DELTA_NS = 4_000_000_000n;

/** A status-carrying failure inside the middleware (the SDK's SynapseException family). */
class AxonError extends OrchestraError {
  readonly retryable = false;
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const EMPTY_SYNAPSE = (name: string): SynapseDefinition => ({ name, fields: {}, requiredHashFields: [] });

/**
 * The receiving side of the synapse protocol (bittensor/core/axon.py), on node:http. Middleware
 * order and status codes follow the SDK: preprocess headers (404 unknown synapse, 400 bad headers)
 * → blacklist (403) → verify signature and nonce (401) → priority (408 on a queue timeout) → body
 * hash vs the `computed_body_hash` header and the handler (500 "Internal Server Error #id").
 */
export class AxonServer {
  /** Fixed per server, like `Axon.uuid`. */
  readonly uuid = randomUUID();
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly routes: ReadonlyMap<string, AxonRoute>;
  private readonly nonces = new Map<string, bigint>();
  private readonly gate: PriorityGate;
  private readonly closing = new AbortController();

  constructor(private readonly options: AxonServerOptions) {
    this.routes = new Map(options.routes.map((r) => [r.definition.name, r]));
    this.gate = new PriorityGate(options.maxConcurrent ?? 8);
  }

  /** The miner hotkey's SS58 address. */
  get hotkey(): string {
    return this.options.hotkey.address;
  }

  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops accepting, aborts running handlers and drops open connections. */
  close(): Promise<void> {
    this.closing.abort();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    const name = (req.url ?? '/').split('?')[0].split('/')[1] ?? '';
    let definition = EMPTY_SYNAPSE(name);
    let timeout = DEFAULT_SYNAPSE_TIMEOUT_S;
    let axon: TerminalInfo = {};
    let dendrite: TerminalInfo = {};
    let release: (() => void) | undefined;
    try {
      // 1. preprocess: route and headers only.
      const route = this.routes.get(name);
      if (!route || (req.method !== 'POST' && req.method !== 'GET')) {
        throw new AxonError(404, `Synapse name '${name}' not found. Available synapses ${pythonRepr([...this.routes.keys()])}`);
      }
      definition = route.definition;
      let parsed;
      try {
        parsed = parseSynapseHeaders(req.headers);
      } catch (err) {
        throw new AxonError(400, `Improperly formatted request. Could not parse headers into synapse of type ${name}: ${(err as Error).message}`);
      }
      timeout = parsed.timeout ?? DEFAULT_SYNAPSE_TIMEOUT_S;
      dendrite = { ...parsed.dendrite, ip: req.socket.remoteAddress, port: req.socket.remotePort };
      axon = { ...parsed.axon, version: BITTENSOR_VERSION_INT, uuid: this.uuid, nonce: nowNs(), status_code: 100 };
      axon.signature = signHex(this.options.hotkey, `${axon.nonce}.${dendrite.hotkey}.${axon.hotkey}.${axon.uuid}`);

      // 2. blacklist: on the claimed hotkey, before the (costlier) signature check, as the SDK does.
      const reason = this.options.blacklist?.(dendrite.hotkey, name, dendrite.ip);
      if (reason !== undefined) throw new AxonError(403, `Forbidden. Key is blacklisted: ${reason}.`);

      // 3. verify.
      try {
        this.verify(dendrite, timeout, parsed.computedBodyHash);
      } catch (err) {
        throw new AxonError(401, `Not Verified with error: ${(err as Error).message}`);
      }

      // 4. priority.
      try {
        release = await this.gate.acquire(this.options.priority?.(dendrite.hotkey as string) ?? 0, timeout * 1000);
      } catch (err) {
        if (err instanceof PriorityTimeoutError) throw new AxonError(408, `Response timeout after: ${floatRepr(timeout)}s`);
        throw err;
      }

      // 5. run: body integrity (verify_body_integrity), then the handler.
      const body = JSON.parse(await readBody(req, this.options.maxRequestBytes ?? 1024 * 1024)) as Record<string, unknown>;
      const values = Object.fromEntries(Object.entries(definition.fields).map(([f, spec]) => [f, body[f] ?? spec.default]));
      const parsedHash = synapseBodyHash(definition, values);
      if (parsedHash !== parsed.computedBodyHash) {
        throw new Error(`Hash mismatch between header body hash ${parsed.computedBodyHash} and parsed body hash ${parsedHash}`);
      }
      const aborter = new AbortController();
      const abort = () => aborter.abort();
      res.once('close', abort);
      this.closing.signal.addEventListener('abort', abort, { once: true });
      const result = await route.handler({ definition, values, dendrite, timeout, signal: aborter.signal });
      this.closing.signal.removeEventListener('abort', abort);
      if (result instanceof RawReply) return result.write(res);
      axon = { ...axon, status_code: 200, status_message: 'Success', process_time: (performance.now() - start) / 1000 };
      if (result instanceof StreamedReply)
        return stream(res, toHeaders({ definition, timeout, dendrite, axon, computedBodyHash: synapseBodyHash(definition, values), values }), result.events);
      const merged = { ...values, ...result };
      const envelope = { definition, timeout, dendrite, axon, computedBodyHash: synapseBodyHash(definition, merged), values: merged };
      send(res, 200, toHeaders(envelope), toBody(envelope));
    } catch (err) {
      // Non-protocol exceptions (hash mismatch, bad JSON, handler bugs) are a 500 with an opaque id, as in the SDK.
      const [statusCode, message] = err instanceof AxonError ? [err.statusCode, err.message] : [500, `Internal Server Error #${randomUUID()}`];
      axon = { ...axon, status_code: statusCode, status_message: message, process_time: (performance.now() - start) / 1000 };
      const envelope = { definition, timeout, dendrite, axon, computedBodyHash: synapseBodyHash(definition, {}), values: {} };
      send(res, statusCode, toHeaders(envelope), JSON.stringify({ message }));
    } finally {
      release?.();
    }
  }

  /** axon.py `default_verify`: nonce rules, then the signature over the header body hash. */
  private verify(dendrite: TerminalInfo, timeout: number, computedBodyHash: string): void {
    if (!dendrite.hotkey) throw new Error('Missing dendrite hotkey');
    const endpointKey = `${dendrite.hotkey}:${dendrite.uuid}`;
    if (dendrite.nonce === undefined) throw new Error('Missing Nonce');
    const stored = this.nonces.get(endpointKey);
    if (dendrite.version !== undefined && dendrite.version >= V_7_2_0) {
      const now = nowNs();
      const windowNs = NONCE_ALLOWED_DELTA_NS + BigInt(Math.round(timeout * 1e9));
      if (stored === undefined && dendrite.nonce <= now - windowNs) {
        const diff = Number(now - dendrite.nonce) / 1e9;
        throw new Error(`Nonce is too old: acceptable delta is ${(Number(windowNs) / 1e9).toFixed(2)} seconds but request was ${diff.toFixed(2)} seconds old`);
      }
    }
    if (stored !== undefined && dendrite.nonce <= stored) throw new Error('Nonce is too old, a newer one was last processed');
    // Stricter than the SDK, which skips the check when the signature header is absent: unsigned calls are refused.
    const message = `${dendrite.nonce}.${dendrite.hotkey}.${this.hotkey}.${dendrite.uuid}.${computedBodyHash}`;
    if (!verifyHex(dendrite.hotkey, message, dendrite.signature)) throw new Error(`Signature mismatch with ${message} and ${dendrite.signature}`);
    this.nonces.set(endpointKey, dendrite.nonce);
  }
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function stream(res: ServerResponse, headers: Record<string, string>, events: readonly unknown[]): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' });
  for (const event of events) res.write(JSON.stringify(event));
  res.end();
}

/** Reads a request body up to a byte cap (an oversized body is a handler-stage failure, 500 as in the SDK). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new Error(`request body exceeds ${maxBytes} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
