import { DEFAULT_LIMITS, minerResponseBudgetBytes, parseUntrustedJson, parseUntrustedJsonSequence, truncateText } from '@orchestra/contracts';
import { randomBytes } from 'node:crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import { signHex } from '../keys';
import { AddressPolicy, CallFault, failureFromError, httpExchange, redirectFailure } from '../net';
import { BITTENSOR_VERSION_INT, DEFAULT_SYNAPSE_TIMEOUT_S, parseSynapseHeaders, SynapseDefinition, synapseBodyHash, TerminalInfo, toBody, toHeaders } from '../synapse';

/** The axon to call, as read from the chain. `ip` must be a literal IP. */
export interface AxonTarget {
  readonly ip: string;
  readonly port: number;
  readonly hotkey: string;
}

/** Per-call limits. */
export interface DendriteCallOptions {
  /** Total time budget, also sent as the synapse `timeout`. Defaults to the SDK's 12 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Response bytes read before the call is abandoned. */
  readonly maxResponseBytes?: number;
}

/** The outcome of one dendrite call, shaped like the SDK's processed synapse. */
export interface DendriteResult {
  /** `synapse.is_success`: the final dendrite status code is 200. */
  readonly ok: boolean;
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Set when !ok: what went wrong, for the dispatcher's bookkeeping. */
  readonly fault?: CallFault;
  /** Subclass field values: the request's, overwritten by the server's where it returned them. */
  readonly values: Readonly<Record<string, unknown>>;
  /** A streaming synapse's successful answer: its JSON events in order (the miner's, unchecked). */
  readonly events?: readonly unknown[];
  /** The axon terminal from the response headers (status, process_time, nonce, uuid, signature…). */
  readonly axon: TerminalInfo;
  /** The axon's own processing time, ms, when it reported one. */
  readonly processTimeMs?: number;
  /** Wall time on our side, ms (the SDK's dendrite.process_time). */
  readonly elapsedMs: number;
  readonly responseBytes: number;
}

/** Options of a Dendrite. */
export interface DendriteOptions {
  readonly hotkey: KeyringPair;
  readonly addressPolicy: AddressPolicy;
  /** Our public IP, sent as `bt_header_dendrite_ip` (informational; the axon overwrites it with the TCP peer). */
  readonly externalIp?: string;
  /** Default response cap. */
  readonly maxResponseBytes?: number;
  /** Longest status message kept from a miner, characters (default DEFAULT_LIMITS.textLimitChars). */
  readonly textLimitChars?: number;
  /** Deepest JSON accepted in a response body (default DEFAULT_LIMITS.maxJsonDepth). */
  readonly maxJsonDepth?: number;
}

/**
 * Default cap on a miner's response: what a task result can carry beside its input in one
 * NATS message under the default limits (752 KiB); a larger answer could not be passed on anyway.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = minerResponseBudgetBytes(DEFAULT_LIMITS);

/**
 * The Bittensor dendrite (bittensor/core/dendrite.py): signs a synapse with our hotkey and POSTs it
 * to `http://{ip}:{port}/{SynapseName}`. Like the SDK's `call`, it never throws for a miner fault —
 * the failure is the result's status — and throws only RequestAbortedError when the caller aborts.
 */
export class Dendrite {
  /** `str(uuid.uuid1())`, as the SDK's; axons key nonces by hotkey:uuid. The identity of every call that is alone on its axon. */
  readonly uuid = uuid1();
  private lastNonce = 0n;
  /**
   * The uuids not in use, per axon. An axon refuses a nonce not above the last it processed
   * for that hotkey:uuid, so two calls racing to one axon under one uuid can arrive in the
   * wrong order and the later-signed one wins ("Nonce is too old"). Each call therefore
   * leases a uuid no other in-flight call to that axon holds; under one uuid the calls to an
   * axon follow each other, and their nonces only grow. The pool per axon grows to the most
   * calls ever in flight there, so the axon's nonce table stays bounded too.
   */
  private readonly idle = new Map<string, string[]>();

  constructor(private readonly options: DendriteOptions) {}

  /** Our hotkey's SS58 address. */
  get hotkey(): string {
    return this.options.hotkey.address;
  }

  /**
   * Sends one synapse and parses the response as `process_server_response` does. The status
   * message is the miner's text (or quotes it), so it is cut to `textLimitChars` here, where it enters.
   */
  async call(target: AxonTarget, definition: SynapseDefinition, values: Readonly<Record<string, unknown>>, options: DendriteCallOptions = {}): Promise<DendriteResult> {
    const result = await this.exchange(target, definition, values, options);
    return { ...result, statusMessage: truncateText(result.statusMessage, this.options.textLimitChars ?? DEFAULT_LIMITS.textLimitChars) };
  }

  private async exchange(target: AxonTarget, definition: SynapseDefinition, values: Readonly<Record<string, unknown>>, options: DendriteCallOptions): Promise<DendriteResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_SYNAPSE_TIMEOUT_S * 1000;
    const computedBodyHash = synapseBodyHash(definition, values);
    const axonKey = `${target.hotkey}@${target.ip}:${target.port}`;
    const uuid = this.leaseUuid(axonKey);
    try {
      return await this.signedExchange(target, definition, values, options, computedBodyHash, uuid, timeoutMs);
    } finally {
      this.idle.get(axonKey)?.push(uuid);
    }
  }

  /** A uuid no call in flight to this axon holds (the instance's own when the axon is idle). */
  private leaseUuid(axonKey: string): string {
    let free = this.idle.get(axonKey);
    if (!free) this.idle.set(axonKey, (free = [this.uuid]));
    return free.pop() ?? uuid1();
  }

  private async signedExchange(
    target: AxonTarget,
    definition: SynapseDefinition,
    values: Readonly<Record<string, unknown>>,
    options: DendriteCallOptions,
    computedBodyHash: string,
    uuid: string,
    timeoutMs: number,
  ): Promise<DendriteResult> {
    const dendrite: TerminalInfo = {
      ip: this.options.externalIp ?? '0.0.0.0',
      version: BITTENSOR_VERSION_INT,
      nonce: this.nextNonce(),
      uuid,
      hotkey: this.hotkey,
    };
    dendrite.signature = signHex(this.options.hotkey, `${dendrite.nonce}.${dendrite.hotkey}.${target.hotkey}.${dendrite.uuid}.${computedBodyHash}`);
    const envelope = {
      definition,
      timeout: timeoutMs / 1000,
      dendrite,
      axon: { ip: target.ip, port: target.port, hotkey: target.hotkey },
      computedBodyHash,
      values,
    };
    const ctx = { ip: target.ip, port: target.port, route: definition.name, timeoutMs };
    const failed = (f: { statusCode: number; statusMessage: string; fault: CallFault }, elapsedMs = 0, responseBytes = 0): DendriteResult => ({
      ok: false,
      ...f,
      values,
      axon: {},
      elapsedMs,
      responseBytes,
    });

    let response;
    try {
      response = await httpExchange(this.options.addressPolicy, {
        ip: target.ip,
        port: target.port,
        path: `/${definition.name}`,
        headers: toHeaders(envelope),
        body: toBody(envelope),
        timeoutMs,
        signal: options.signal,
        maxResponseBytes: options.maxResponseBytes ?? this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      });
    } catch (err) {
      return failed(failureFromError(err, ctx));
    }
    const { status, elapsedMs, bytes } = response;
    if (status >= 300 && status < 400) return failed(redirectFailure(status, response.headers.location), elapsedMs, bytes);

    let axon: TerminalInfo;
    try {
      axon = parseSynapseHeaders(response.headers).axon;
    } catch (err) {
      return failed(failureFromError(err, ctx), elapsedMs, bytes);
    }
    const processTimeMs = axon.process_time === undefined ? undefined : axon.process_time * 1000;
    const base = { axon, processTimeMs, elapsedMs, responseBytes: bytes };
    const maxDepth = this.options.maxJsonDepth ?? DEFAULT_LIMITS.maxJsonDepth;
    if (definition.streaming && status === 200) {
      // StreamingSynapse (dendrite.call_stream): the events are the answer, the headers its status.
      let events: unknown[];
      try {
        events = parseUntrustedJsonSequence(new TextDecoder('utf-8', { fatal: true }).decode(response.body), { maxDepth });
      } catch (err) {
        return failed(failureFromError(err, ctx), elapsedMs, bytes);
      }
      const statusCode = axon.status_code ?? 200;
      const statusMessage = axon.status_message ?? 'Success';
      return { ok: statusCode === 200, statusCode, statusMessage, fault: statusCode === 200 ? undefined : 'error_status', values, events, ...base };
    }
    let json: unknown;
    try {
      // Fatal decoding: invalid UTF-8 is a corrupt answer, not text to guess at. Depth-bounded,
      // so whatever walks the values later (JSON.stringify, the verifier) cannot overflow the stack.
      json = parseUntrustedJson(new TextDecoder('utf-8', { fatal: true }).decode(response.body), { maxDepth });
    } catch (err) {
      // The SDK awaits response.json() first; a non-JSON body fails the whole call with 422.
      if (status === 200) return failed(failureFromError(err, ctx), elapsedMs, bytes);
    }
    if (status !== 200) {
      const message = isRecord(json) && typeof json.message === 'string' ? json.message : (axon.status_message ?? `HTTP ${status}`);
      return { ok: false, statusCode: status, statusMessage: message, fault: 'error_status', values, ...base };
    }
    if (!isRecord(json))
      return failed({ statusCode: 422, statusMessage: 'Failed to parse response object with error: body is not a JSON object', fault: 'bad_response' }, elapsedMs, bytes);
    // Copy the server's value of every field the local model declares (process_server_response).
    const merged: Record<string, unknown> = { ...values };
    for (const name of Object.keys(definition.fields)) if (name in json) merged[name] = json[name];
    const bodyAxon = isRecord(json.axon) ? json.axon : {};
    const statusCode = axon.status_code ?? (typeof bodyAxon.status_code === 'number' ? bodyAxon.status_code : status);
    const statusMessage = axon.status_message ?? (typeof bodyAxon.status_message === 'string' ? bodyAxon.status_message : 'Success');
    return { ok: statusCode === 200, statusCode, statusMessage, fault: statusCode === 200 ? undefined : 'error_status', values: merged, ...base };
  }

  /** time.time_ns(), forced strictly increasing so two calls in the same ns are not replays. */
  private nextNonce(): bigint {
    const now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    this.lastNonce = now > this.lastNonce ? now : this.lastNonce + 1n;
    return this.lastNonce;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const UUID_EPOCH_OFFSET_100NS = 0x01b21dd213814000n; // 1582-10-15 to 1970-01-01 in 100 ns units (RFC 4122)

/**
 * An RFC 4122 version-1 UUID like Python's `uuid.uuid1()`, with a random multicast-flagged node id
 * (what Python falls back to without a MAC) so no hardware address leaks.
 */
export function uuid1(): string {
  const t = BigInt(Date.now()) * 10_000n + UUID_EPOCH_OFFSET_100NS;
  const timeLow = t & 0xffffffffn;
  const timeMid = (t >> 32n) & 0xffffn;
  const timeHi = ((t >> 48n) & 0x0fffn) | 0x1000n;
  const rnd = randomBytes(8);
  const clockSeq = ((rnd.readUInt16BE(0) & 0x3fff) | 0x8000).toString(16);
  rnd[2] |= 0x01; // multicast bit: marks a random node id (RFC 4122 §4.5)
  const node = rnd.subarray(2, 8).toString('hex');
  const h = (n: bigint, w: number) => n.toString(16).padStart(w, '0');
  return `${h(timeLow, 8)}-${h(timeMid, 4)}-${h(timeHi, 4)}-${clockSeq}-${node}`;
}
