import { parseUntrustedJson, OrchestraError } from '@orchestra/contracts';
import { createHash, randomUUID } from 'node:crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import { signHex, verifyHex } from '../keys';
import { floatRepr } from '../synapse';

/**
 * Epistula v2, the signed-HTTP scheme SN1 (macrocosm-os/prompting, shared/epistula.py) uses for
 * OpenAI-compatible calls to miners, plus the SSE chat-completion chunk format both ends share.
 */

/** prompting shared/epistula.py `verify_signature`: allowed_delta_ms. */
export const EPISTULA_MAX_AGE_MS = 8000;

/** `sha256(body).hexdigest()`. */
function sha256Hex(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The message signed into Epistula-Request-Signature. */
export function epistulaMessage(body: string | Buffer, uuid: string, timestamp: number | string, signedFor: string): string {
  return `${sha256Hex(body)}.${uuid}.${timestamp}.${signedFor}`;
}

/**
 * shared/epistula.py `generate_header`: Epistula-Version "2", timestamp in ms, a uuid4, signer,
 * recipient, the request signature, and three "secret" signatures over the 10-second interval
 * around now (`ceil(ts/1e4)*1e4` is a Python float, hence e.g. "1712345680000.0").
 */
export function epistulaHeaders(pair: KeyringPair, body: string, signedFor: string, now = Date.now(), uuid: string = randomUUID()): Record<string, string> {
  const timestamp = Math.round(now);
  const interval = Math.ceil(timestamp / 1e4) * 1e4;
  const [secret0, secret1, secret2] = secretSignatures(pair, interval, signedFor);
  return {
    'Epistula-Version': '2',
    'Epistula-Timestamp': String(timestamp),
    'Epistula-Uuid': uuid,
    'Epistula-Signed-By': pair.address,
    'Epistula-Signed-For': signedFor,
    'Epistula-Request-Signature': signHex(pair, epistulaMessage(body, uuid, timestamp, signedFor)),
    'Epistula-Secret-Signature-0': secret0,
    'Epistula-Secret-Signature-1': secret1,
    'Epistula-Secret-Signature-2': secret2,
  };
}

/**
 * The three secret signatures sign only the interval and the recipient, so they are the same
 * for every request to one miner within 10 s: signed once and reused, 3 of the 4 signatures of
 * every Epistula hire saved. Bounded: a new interval starts a new cache.
 */
const secretCache = { interval: 0, byKey: new Map<string, readonly [string, string, string]>() };
const MAX_CACHED_SECRETS = 4_096;

function secretSignatures(pair: KeyringPair, interval: number, signedFor: string): readonly [string, string, string] {
  if (secretCache.interval !== interval || secretCache.byKey.size >= MAX_CACHED_SECRETS) {
    secretCache.interval = interval;
    secretCache.byKey.clear();
  }
  const key = `${pair.address}|${signedFor}`;
  let secrets = secretCache.byKey.get(key);
  if (!secrets) {
    secrets = [
      signHex(pair, `${floatRepr(interval - 1)}.${signedFor}`),
      signHex(pair, `${floatRepr(interval)}.${signedFor}`),
      signHex(pair, `${floatRepr(interval + 1)}.${signedFor}`),
    ];
    secretCache.byKey.set(key, secrets);
  }
  return secrets;
}

/** An Epistula request refused by a miner, with the HTTP status the prompting miner answers. */
export class EpistulaVerificationError extends OrchestraError {
  override readonly name = 'EpistulaVerificationError';
  readonly retryable = false;
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the receiving side checks a request against. */
export interface EpistulaVerifyOptions {
  /** Lowercased header map as Node gives it. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The receiver's own hotkey address. */
  readonly ownHotkey: string;
  /** A reason to refuse the signer (not in the metagraph, no stake…), or undefined to admit it. */
  readonly refuseSigner?: (signedBy: string) => string | undefined;
  readonly now?: number;
}

/**
 * The prompting miner's `verify_request` + `verify_signature`: 400 "Bad Request, message is not
 * intended for self" when Signed-For is not us; 401 when the signer is refused; 400 with the
 * verifier's reason ("Request is too stale", "Signature Mismatch", …) otherwise. Stricter than
 * prompting in one point: a timestamp more than 8 s in the future is stale too (prompting accepts it).
 * Returns the signer's address.
 */
export function verifyEpistulaRequest(options: EpistulaVerifyOptions): string {
  const h = (k: string): string | undefined => {
    const v = options.headers[k.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const signedBy = h('Epistula-Signed-By');
  const signedFor = h('Epistula-Signed-For');
  if (signedFor !== options.ownHotkey) throw new EpistulaVerificationError(400, 'Bad Request, message is not intended for self');
  if (!signedBy) throw new EpistulaVerificationError(400, 'Invalid Sender key');
  const refusal = options.refuseSigner?.(signedBy);
  if (refusal !== undefined) throw new EpistulaVerificationError(401, refusal);
  const signature = h('Epistula-Request-Signature');
  const timestampText = h('Epistula-Timestamp');
  const uuid = h('Epistula-Uuid');
  if (!signature) throw new EpistulaVerificationError(400, 'Invalid Signature');
  if (!timestampText || !/^\d+$/.test(timestampText)) throw new EpistulaVerificationError(400, 'Invalid Timestamp');
  if (!uuid) throw new EpistulaVerificationError(400, 'Invalid uuid');
  const now = options.now ?? Date.now();
  if (Math.abs(Number(timestampText) - now) > EPISTULA_MAX_AGE_MS) throw new EpistulaVerificationError(400, 'Request is too stale');
  if (!verifyHex(signedBy, epistulaMessage(options.body, uuid, timestampText, signedFor), signature)) {
    throw new EpistulaVerificationError(400, 'Signature Mismatch');
  }
  return signedBy;
}

/** One OpenAI chat message. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One SSE event carrying an OpenAI `chat.completion.chunk` with a content delta. */
export function chatChunkEvent(id: string, model: string, content: string, finishReason: string | null = null): string {
  const chunk = {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta: finishReason ? {} : { content }, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The SSE terminator OpenAI-compatible servers send. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** The stream was not OpenAI-style SSE. */
export class SseFormatError extends OrchestraError {
  override readonly name = 'SseFormatError';
  readonly retryable = false;
}

/**
 * Concatenates `choices[0].delta.content` across an SSE stream fed in arbitrary byte chunks.
 * Throws SseFormatError on a `data:` line that is not JSON (the exchange is then abandoned).
 */
export class ChatStreamAccumulator {
  private buffer = '';
  /** Fatal: a stream that is not UTF-8 is corrupt (the exchange is abandoned), not text to guess at. */
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** The concatenated content so far. */
  text = '';
  /** Whether `data: [DONE]` was seen. */
  done = false;

  /** Feeds raw bytes. Throws a TypeError on invalid UTF-8. */
  push(chunk: Buffer): void {
    const scanned = this.buffer.length;
    this.buffer += this.decoder.decode(chunk, { stream: true });
    // A miner may send one endless line: search only the new text, or each chunk rescans it all.
    let nl = this.buffer.indexOf('\n', scanned);
    for (; nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
  }

  /** Flushes a final unterminated line. */
  end(): void {
    this.buffer += this.decoder.decode();
    if (this.buffer) this.line(this.buffer);
    this.buffer = '';
  }

  private line(line: string): void {
    if (!line.startsWith('data:')) return; // comments, event names, blank separators
    const data = line.slice(5).trim();
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let parsed: { choices?: { delta?: { content?: unknown } }[] } | null;
    try {
      parsed = parseUntrustedJson(data) as typeof parsed;
    } catch (cause) {
      throw new SseFormatError(`SSE data line is not JSON: ${JSON.stringify(data.slice(0, 80))}`, { cause });
    }
    const content = parsed?.choices?.[0]?.delta?.content;
    if (typeof content === 'string') this.text += content;
  }
}
