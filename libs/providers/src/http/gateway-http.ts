import { performance } from 'node:perf_hooks';
import { parseUntrustedJson, truncateText, OrchestraError } from '@orchestra/contracts';
import { ProviderAbortedError, ProviderError, ProviderFault, ProviderId } from '../errors';
import { parseRetryAfter } from './retry-after';

/**
 * One bounded HTTP exchange with a gateway, over node's fetch: a total time budget (connect,
 * send, read), a cap on the bytes read, no redirects (the API key would travel with them), and
 * every failure typed as a ProviderError with its blame. Gateways are configured URLs, not
 * addresses from the chain, so the miners' SSRF policy does not apply here.
 */

/** Longest wait a gateway's Retry-After may impose, ms, unless configured. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** Retry-After assumed for a 429 that does not say, ms. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;
/** Bytes of an error body read for its detail. */
const ERROR_BODY_BYTES = 16 * 1024;
/** Characters of a gateway's error detail kept in our message. */
const DETAIL_CHARS = 300;

export interface GatewayRequest {
  readonly provider: ProviderId;
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxRetryAfterMs?: number;
  readonly signal?: AbortSignal;
  /** Receives the decoded body of a 2xx as it arrives (SSE); throwing abandons the exchange. */
  readonly onText?: (text: string) => void;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The whole body of a 2xx (empty when `onText` consumed it). */
  readonly text: string;
  readonly bytes: number;
  readonly elapsedMs: number;
}

/** Performs the exchange. Resolves only for a 2xx; everything else throws ProviderError. */
export async function gatewayFetch(req: GatewayRequest): Promise<GatewayResponse> {
  const start = performance.now();
  if (req.signal?.aborted) throw new ProviderAbortedError('call aborted by the caller', { cause: req.signal.reason });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal;
  const fail = (fault: ProviderFault, message: string, extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {}): ProviderError =>
    new ProviderError(req.provider, fault, `${req.provider} ${req.method} ${req.url.pathname}: ${message}`, extra);
  // Whatever goes wrong, a fired signal decides what it means: the caller's abort, or our timeout.
  const interpret = (error: unknown): Error => {
    if (req.signal?.aborted) return new ProviderAbortedError('call aborted by the caller', { cause: req.signal.reason });
    if (timeout.signal.aborted) return fail('timeout', `no complete answer within ${req.timeoutMs} ms`, { cause: error });
    if (error instanceof ProviderError) return error;
    return fail('network', `cannot reach the gateway: ${causeCode(error)}`, { cause: error });
  };
  try {
    let response: Response;
    try {
      response = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal });
    } catch (error) {
      throw interpret(error);
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      throw fail('redirect', `redirect to ${truncateText(response.headers.get('location') ?? '(no location)', 200)} refused: redirects are never followed`, {
        status: response.status,
      });
    }
    if (response.status < 200 || response.status >= 300) {
      const detail = await readCapped(response, ERROR_BODY_BYTES, signal, undefined, true).catch(() => ({ text: '', bytes: 0 }));
      throw statusError(req, response.status, response.headers, detail.text);
    }
    let read: { text: string; bytes: number };
    try {
      read = await readCapped(response, req.maxResponseBytes, signal, req.onText, false);
    } catch (error) {
      if (error instanceof TooLargeError) throw fail('too_large', `answer exceeds ${req.maxResponseBytes} bytes`);
      if (error instanceof ProviderError) throw error;
      if (signal.aborted) throw interpret(error);
      // onText threw (a broken stream) or the connection broke mid-body.
      if (error instanceof StreamFormatError) throw fail('bad_response', error.message, { cause: error });
      throw fail('network', `connection broke while reading the answer: ${causeCode(error)}`, { cause: error });
    }
    return { status: response.status, headers: response.headers, text: read.text, bytes: read.bytes, elapsedMs: performance.now() - start };
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown by an `onText` consumer when the stream is not what the protocol promised. */
export class StreamFormatError extends OrchestraError {
  override readonly name = 'StreamFormatError';
  readonly retryable = false;
}

class TooLargeError extends OrchestraError {
  readonly retryable = false;
}

/** Reads a body up to `max` bytes; past it, throws TooLargeError, or (`truncate`) stops quietly. */
async function readCapped(
  response: Response,
  max: number,
  signal: AbortSignal,
  onText: ((text: string) => void) | undefined,
  truncate: boolean,
): Promise<{ text: string; bytes: number }> {
  if (!response.body) return { text: '', bytes: 0 };
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  let text = '';
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > max) {
        if (truncate) break;
        throw new TooLargeError();
      }
      const chunk = decoder.decode(value, { stream: true });
      if (onText) onText(chunk);
      else text += chunk;
    }
    const tail = decoder.decode();
    if (onText) {
      if (tail) onText(tail);
    } else text += tail;
    return { text, bytes };
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The ProviderError for a non-2xx answer: whose fault, whether and when to retry, and the gateway's own words. */
export function statusError(
  req: Pick<GatewayRequest, 'provider' | 'method' | 'url' | 'maxRetryAfterMs'>,
  status: number,
  headers: Headers,
  body: string,
  nowMs: number = Date.now(),
): ProviderError {
  const where = `${req.provider} ${req.method} ${req.url.pathname}`;
  const said = errorDetail(body);
  const detail = said ? `: ${said}` : '';
  const options = { status };
  const key = `ORCH_${req.provider.toUpperCase()}_API_KEY`;
  if (status === 401 || status === 403) {
    return new ProviderError(req.provider, 'auth', `${where} refused the API key (HTTP ${status}${detail}); check ${key}`, options);
  }
  if (status === 402) return new ProviderError(req.provider, 'payment', `${where}: the account has no credit (HTTP 402${detail}); top it up`, options);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs, req.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS) ?? DEFAULT_RATE_LIMIT_WAIT_MS;
    return new ProviderError(req.provider, 'rate_limited', `${where} is rate limited (HTTP 429${detail}); retry after ${retryAfterMs} ms`, {
      status,
      retryAfterMs,
    });
  }
  if (status >= 500) {
    // A 503 may say when to come back (RFC 9110 §10.2.3); without it the caller backs off on its own.
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs, req.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS);
    return new ProviderError(req.provider, 'unavailable', `${where} failed (HTTP ${status}${detail})`, { status, retryAfterMs });
  }
  return new ProviderError(req.provider, 'rejected', `${where} refused the request (HTTP ${status}${detail}); this is a bug in how Orchestra calls it`, options);
}

/** The gateway's explanation in an error body (`detail`, `message`, `error.message`), cut short. */
export function errorDetail(body: string): string | undefined {
  const text = body.trim();
  if (text === '') return undefined;
  let said: unknown = text;
  try {
    const json = parseUntrustedJson(text, { maxChars: ERROR_BODY_BYTES, maxDepth: 16 }) as Record<string, unknown> | null;
    if (json && typeof json === 'object') {
      const error = json['error'];
      said = json['detail'] ?? json['message'] ?? (error && typeof error === 'object' ? (error as Record<string, unknown>)['message'] : error) ?? text;
    }
  } catch {
    // not JSON: the text itself is the detail
  }
  return truncateText(typeof said === 'string' ? said : JSON.stringify(said), DETAIL_CHARS);
}

function causeCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = cause?.code ?? (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return truncateText(String((cause?.message as string | undefined) ?? (error as Error | undefined)?.message ?? error), 200);
}
