import { DEFAULT_LIMITS, truncateText, OrchestraError } from '@orchestra/contracts';
import http, { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AddressPolicy, AddressRefusedError } from './address-policy';

/**
 * One capped HTTP POST to a miner, shared by the dendrite and the epistula client: connects only
 * to a literal IP the AddressPolicy accepts, never follows redirects (Node's http client does not),
 * bounds the total time, the response header and body bytes, and types every failure.
 */

/**
 * Largest response head (status line and headers) read from a miner, bytes: Node's default,
 * named so it is a decision. Synapse headers are a few hundred bytes; more is refused as `too_large`.
 */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

/** Why the exchange failed at the transport level. */
export type TransportFaultKind = 'timeout' | 'refused' | 'disconnected' | 'too_large' | 'network';

/** A transport failure talking to a miner. Timeouts and resets may succeed on another try. */
export class TransportError extends OrchestraError {
  override readonly name = 'TransportError';
  readonly retryable: boolean;
  constructor(
    readonly kind: TransportFaultKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = kind === 'timeout' || kind === 'disconnected' || kind === 'refused';
  }
}

/** The caller's AbortSignal fired: not the miner's fault, so it is thrown rather than reported. */
export class RequestAbortedError extends OrchestraError {
  override readonly name = 'RequestAbortedError';
  readonly retryable = false;
}

/** One POST to a miner. */
export interface HttpExchangeRequest {
  readonly ip: string;
  readonly port: number;
  /** Path starting with '/'. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Total budget: connect + send + read the whole response. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Largest response head, bytes (default DEFAULT_MAX_HEADER_BYTES). */
  readonly maxHeaderBytes?: number;
  readonly signal?: AbortSignal;
  /** Streams the body to this consumer instead of buffering it (SSE). Throwing aborts the exchange. */
  readonly onData?: (chunk: Buffer, status: number) => void;
}

/** A completed exchange (any status; the caller decides what a 3xx/4xx/5xx means). */
export interface HttpExchangeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Empty when `onData` consumed the stream. */
  readonly body: Buffer;
  readonly bytes: number;
  readonly elapsedMs: number;
}

/**
 * POSTs and reads the full response. Throws AddressRefusedError before connecting to a refused
 * address, TransportError on transport faults and RequestAbortedError when `signal` aborts.
 */
export function httpExchange(policy: AddressPolicy, req: HttpExchangeRequest): Promise<HttpExchangeResponse> {
  const verdict = policy.check(req.ip);
  return new Promise<HttpExchangeResponse>((resolve, reject) => {
    const start = performance.now();
    let settled = false;
    let bytes = 0;
    const chunks: Buffer[] = [];
    const maxHeaderBytes = req.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    const request = http.request({
      maxHeaderSize: maxHeaderBytes,
      host: verdict.address,
      family: verdict.family,
      port: req.port,
      path: req.path,
      method: 'POST',
      agent: false,
      headers: { ...req.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(req.body) },
    });
    const finish = (error: Error | undefined, response?: HttpExchangeResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(response as HttpExchangeResponse);
    };
    const onAbort = (): void => finish(new RequestAbortedError('request aborted by the caller', { cause: req.signal?.reason }));
    const timer = setTimeout(() => finish(new TransportError('timeout', `no complete response within ${req.timeoutMs} ms`)), req.timeoutMs);
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });

    request.on('error', (err) => finish(socketError(err, maxHeaderBytes)));
    request.on('response', (res) => {
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > req.maxResponseBytes) return finish(new TransportError('too_large', `response exceeds ${req.maxResponseBytes} bytes`));
        if (!req.onData) return void chunks.push(chunk);
        try {
          req.onData(chunk, res.statusCode ?? 0);
        } catch (err) {
          finish(err as Error);
        }
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes, elapsedMs: performance.now() - start }));
      res.on('close', () => {
        if (!res.complete) finish(new TransportError('disconnected', 'server closed the connection before the response was complete'));
      });
      res.on('error', (err) => finish(socketError(err, maxHeaderBytes)));
    });
    request.end(req.body);
  });
}

function socketError(err: Error, maxHeaderBytes: number): TransportError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'HPE_HEADER_OVERFLOW') return new TransportError('too_large', `response headers exceed ${maxHeaderBytes} bytes`, { cause: err });
  // Node's parser names the flaw (HPE_INVALID_HEADER_TOKEN…): a malformed response, not a network fault of ours.
  if (code?.startsWith('HPE_')) return new TransportError('network', `malformed HTTP response: ${code}`, { cause: err });
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new TransportError('refused', `cannot connect: ${code}`, { cause: err });
  if (code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up' || err.message === 'aborted') {
    return new TransportError('disconnected', `server disconnected: ${code ?? err.message}`, { cause: err });
  }
  return new TransportError('network', `network error: ${code ?? err.message}`, { cause: err });
}

/**
 * Why a call to a miner produced no usable answer; the dispatcher's view of a miner fault.
 * `rate_limited` is the exception: the call was not sent, because the subnet's per-hotkey
 * request budget for that miner is spent (our restraint, so no evidence against the miner).
 */
export type CallFault = 'address_refused' | 'timeout' | 'unreachable' | 'disconnected' | 'too_large' | 'network' | 'redirect' | 'bad_response' | 'error_status' | 'rate_limited';

/** An SDK-style status for a failed call (dendrite.py `_handle_request_errors`, DENDRITE_ERROR_MAPPING). */
export interface CallFailure {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly fault: CallFault;
}

/**
 * Maps a thrown transport-level error to the status the SDK's dendrite would report:
 * connect failure 503 "Service at ip:port/route unavailable.", timeout 408 "Timedout after N seconds.",
 * server disconnect 503, payload (our byte cap) 400, other client errors 500, and anything else
 * 422 "Failed to parse response object with error: …". An address refused by the SSRF policy is
 * reported like an unreachable service (503) with the rule in the message.
 * RequestAbortedError is rethrown: cancellation is not a miner fault.
 */
export function failureFromError(err: unknown, ctx: { ip: string; port: number; route: string; timeoutMs: number; textLimitChars?: number }): CallFailure {
  if (err instanceof RequestAbortedError) throw err;
  const failure = classifyFailure(err, ctx);
  // Error messages can quote what the miner sent (a parse error, a header value): cut here, where it enters.
  return { ...failure, statusMessage: truncateText(failure.statusMessage, ctx.textLimitChars ?? DEFAULT_LIMITS.textLimitChars) };
}

function classifyFailure(err: unknown, ctx: { ip: string; port: number; route: string; timeoutMs: number }): CallFailure {
  const where = `${ctx.ip}:${ctx.port}/${ctx.route}`;
  if (err instanceof AddressRefusedError) return { statusCode: 503, statusMessage: `Service at ${where} unavailable: ${err.message}.`, fault: 'address_refused' };
  if (err instanceof TransportError) {
    switch (err.kind) {
      case 'refused':
        return { statusCode: 503, statusMessage: `Service at ${where} unavailable.`, fault: 'unreachable' };
      case 'timeout':
        return { statusCode: 408, statusMessage: `Timedout after ${ctx.timeoutMs / 1000} seconds.`, fault: 'timeout' };
      case 'disconnected':
        return { statusCode: 503, statusMessage: `Service at ${where} disconnected: ${err.message}.`, fault: 'disconnected' };
      case 'too_large':
        return { statusCode: 400, statusMessage: `Payload error: ${err.message}.`, fault: 'too_large' };
      case 'network':
        return { statusCode: 500, statusMessage: `Client error: ${err.message}.`, fault: 'network' };
    }
  }
  return { statusCode: 422, statusMessage: `Failed to parse response object with error: ${(err as Error)?.message ?? String(err)}`, fault: 'bad_response' };
}

/** A 3xx is an error: redirects are never followed (they could point anywhere, e.g. at metadata services). */
export function redirectFailure(status: number, location: string | undefined): CallFailure {
  // The location is the miner's text: quoted only as far as it helps.
  return { statusCode: status, statusMessage: `Redirect to ${truncateText(location ?? '(no location)', 200)} refused: redirects are never followed.`, fault: 'redirect' };
}
