import { DEFAULT_LIMITS, parseUntrustedJson, truncateText } from '@orchestra/contracts';
import type { KeyringPair } from '@polkadot/keyring/types';
import { AddressPolicy, CallFault, failureFromError, httpExchange, redirectFailure } from '../net';
import { ChatMessage, ChatStreamAccumulator, epistulaHeaders } from './epistula';

/** A miner reachable over Epistula. */
export interface EpistulaTarget {
  readonly ip: string;
  readonly port: number;
  readonly hotkey: string;
}

/** A chat-completions request as SN1 validators send it (always streamed). */
export interface EpistulaChatRequest {
  readonly messages: readonly ChatMessage[];
  readonly model?: string;
  /** SN1 task name, e.g. "InferenceTask". */
  readonly task?: string;
  readonly seed?: number;
  readonly samplingParameters?: Readonly<Record<string, unknown>>;
}

/** Limits of one call. */
export interface EpistulaCallOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly maxResponseBytes: number;
  /** Longest status message kept from a miner, characters (default DEFAULT_LIMITS.textLimitChars). */
  readonly textLimitChars?: number;
}

/** The outcome of one chat-completions call. Never thrown: a failure is a status. */
export interface EpistulaChatResult {
  readonly ok: boolean;
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly fault?: CallFault;
  /** Concatenated delta content (when ok). */
  readonly content?: string;
  readonly elapsedMs: number;
  readonly responseBytes: number;
}

/** The SN1 route: OpenAI-compatible chat completions. */
export const EPISTULA_CHAT_PATH = '/v1/chat/completions';

/**
 * POSTs an Epistula-signed `/v1/chat/completions` with `stream: true` and reads the SSE stream
 * (prompting validator: shared/dendrite + shared/epistula.py `make_openai_query`). Statuses follow
 * the dendrite's mapping; throws only RequestAbortedError when the caller aborts. The status
 * message quotes the miner (an error's `detail`), so it is cut to `textLimitChars` here, where it enters.
 */
export async function epistulaChat(
  policy: AddressPolicy,
  hotkey: KeyringPair,
  target: EpistulaTarget,
  request: EpistulaChatRequest,
  options: EpistulaCallOptions,
): Promise<EpistulaChatResult> {
  const result = await exchange(policy, hotkey, target, request, options);
  return { ...result, statusMessage: truncateText(result.statusMessage, options.textLimitChars ?? DEFAULT_LIMITS.textLimitChars) };
}

async function exchange(
  policy: AddressPolicy,
  hotkey: KeyringPair,
  target: EpistulaTarget,
  request: EpistulaChatRequest,
  options: EpistulaCallOptions,
): Promise<EpistulaChatResult> {
  const body = JSON.stringify({
    messages: request.messages,
    model: request.model ?? null,
    stream: true,
    seed: request.seed ?? null,
    sampling_parameters: request.samplingParameters ?? {},
    task: request.task ?? 'InferenceTask',
  });
  const headers = { ...epistulaHeaders(hotkey, body, target.hotkey), 'X-Client-Timeout': String(options.timeoutMs / 1000), accept: 'text/event-stream' };
  const stream = new ChatStreamAccumulator();
  const ctx = { ip: target.ip, port: target.port, route: EPISTULA_CHAT_PATH.slice(1), timeoutMs: options.timeoutMs };
  const errorBody: Buffer[] = [];
  let response;
  try {
    response = await httpExchange(policy, {
      ip: target.ip,
      port: target.port,
      path: EPISTULA_CHAT_PATH,
      headers,
      body,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      maxResponseBytes: options.maxResponseBytes,
      // Only a 200 is a stream; anything else is kept whole for its error detail.
      onData: (chunk, status) => (status === 200 ? stream.push(chunk) : void errorBody.push(chunk)),
    });
  } catch (err) {
    return { ...failureFromError(err, ctx), ok: false, elapsedMs: 0, responseBytes: 0 };
  }
  const { elapsedMs, bytes } = response;
  const base = { elapsedMs, responseBytes: bytes };
  if (response.status >= 300 && response.status < 400) return { ok: false, ...redirectFailure(response.status, response.headers.location), ...base };
  if (response.status !== 200) {
    return {
      ok: false,
      statusCode: response.status,
      statusMessage: errorDetail(Buffer.concat(errorBody).toString('utf8')) ?? `HTTP ${response.status}`,
      fault: 'error_status',
      ...base,
    };
  }
  try {
    stream.end();
  } catch (err) {
    return { ok: false, ...failureFromError(err, ctx), ...base };
  }
  return { ok: true, statusCode: 200, statusMessage: 'Success', content: stream.text, ...base };
}

/** The `detail` (FastAPI) or `message` of an error body, else its text; the caller cuts it to length. */
function errorDetail(text: string): string | undefined {
  try {
    const json = parseUntrustedJson(text) as { detail?: unknown; message?: unknown } | null;
    const d = json?.detail ?? json?.message;
    return typeof d === 'string' ? d : undefined;
  } catch {
    return text.trim().slice(0, 300) || undefined;
  }
}
