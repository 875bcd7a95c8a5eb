import { chatChunkEvent, EPISTULA_CHAT_PATH, SSE_DONE } from '@orchestra/bittensor';
import type { ServerResponse } from 'node:http';

/**
 * What a well-formed answer contains: the real thing, JSON of the wrong shape, not JSON at all,
 * the first answer this miner ever gave (`replay`), or the real thing with every figure scaled
 * by COLLUSION_FACTOR (`colluding`).
 */
export type AnswerKind = 'good' | 'wrong-schema' | 'garbage' | 'replay' | 'colluding';

/** Tunables shared by all behaviours. */
export interface BehaviourOptions {
  /** How long `slow` waits before answering, ms (longer than a typical hire timeout). */
  readonly slowMs?: number;
  /** Where `redirect` points. */
  readonly redirectTo?: string;
  /** `intermittent` fails every `failEvery`-th call (default 3). */
  readonly failEvery?: number;
  /** `slow-tail`'s normal latency, ms (default 200); its tail calls take 10× as long. */
  readonly latencyMs?: number;
}

/**
 * What a miner does with one request. Either an answer (rendered by the protocol: a synapse
 * response, or an SSE chat stream), optionally delayed, or a raw HTTP reply that ignores the
 * protocol altogether.
 */
export type BehaviourPlan = { readonly answer: AnswerKind; readonly delayMs?: number } | { readonly raw: (res: ServerResponse) => void };

/** A simulated miner's behaviour. `plan` runs per request, so stateful ones (intermittent…) fit. */
export interface Behaviour {
  readonly description: string;
  /** The miner never listens: its port refuses connections. */
  readonly down?: boolean;
  plan(options: BehaviourOptions, requestIndex: number): BehaviourPlan;
}

/** Default delay of `slow`: beyond the 12 s SDK default timeout. */
export const DEFAULT_SLOW_MS = 15_000;

/** Default period of `intermittent`: calls 3, 6, 9… fail. */
export const DEFAULT_FAIL_EVERY = 3;

/** Default normal latency of `slow-tail`, ms. */
export const DEFAULT_TAIL_LATENCY_MS = 200;

/** `slow-tail`: one call in this many (the 20th, 40th… — 5%) is a tail call… */
export const SLOW_TAIL_PERIOD = 20;

/** …taking this many times the normal latency. */
export const SLOW_TAIL_FACTOR = 10;

/**
 * What every `colluding` miner multiplies each figure by. One shared constant, so colluders
 * agree with each other (and not with the data) without talking: +12%, plausible enough to
 * pass any check that does not compare miners.
 */
export const COLLUSION_FACTOR = 1.12;

/** Ends a call with a 500, as a crashing server does. */
function internalError(res: ServerResponse): void {
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ detail: 'Internal Server Error' }));
}

/** Drops the connection without answering. */
function hangUp(res: ServerResponse): void {
  res.destroy();
}

/** Nesting of `deep-json`'s answer: far past any JSON depth limit and V8's JSON.stringify stack. */
export const HOSTILE_JSON_DEPTH = 100_000;

/** Length of `huge-error`'s status message / error detail, characters. */
export const HOSTILE_TEXT_CHARS = 400_000;

/** Size of `huge-headers`' one header, bytes. */
export const HOSTILE_HEADER_BYTES = 1024 * 1024;

/** `trickle` sends one byte this often, ms. */
export const TRICKLE_INTERVAL_MS = 100;

/** Whether a raw reply answers the SN1 chat route (else a synapse route): hostile replies speak each protocol's form. */
function isChat(res: ServerResponse): boolean {
  return res.req.url === EPISTULA_CHAT_PATH;
}

/**
 * `deep-json`: a 200 whose answer is valid JSON nested HOSTILE_JSON_DEPTH deep. Synapse: the
 * response fields `data` (SN13) and `code` (SN62) are such arrays; SN1: the streamed content is.
 */
function deepJson(res: ServerResponse): void {
  const deep = '['.repeat(HOSTILE_JSON_DEPTH) + ']'.repeat(HOSTILE_JSON_DEPTH);
  if (isChat(res)) return streamRaw(res, [chatChunkEvent('chatcmpl-deep', 'hostile', deep), SSE_DONE]);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`{"data":${deep},"code":${deep}}`);
}

/** `huge-error`: a 500 whose error text (synapse `message`, Epistula/FastAPI `detail`) is HOSTILE_TEXT_CHARS long. */
function hugeError(res: ServerResponse): void {
  const text = `miner failure: ${'E'.repeat(HOSTILE_TEXT_CHARS)}`;
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify(isChat(res) ? { detail: text } : { message: text }));
}

/** `huge-headers`: a 200 whose status-message header is HOSTILE_HEADER_BYTES long. */
function hugeHeaders(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', bt_header_axon_status_message: 'H'.repeat(HOSTILE_HEADER_BYTES) });
  res.end('{}');
}

/** `invalid-utf8`: a 200 whose answer carries bytes that are not UTF-8 (0xff 0xfe, a lone 0xc3). */
function invalidUtf8(res: ServerResponse): void {
  const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28]);
  if (isChat(res)) {
    const [head, tail] = chatChunkEvent('chatcmpl-bytes', 'hostile', '\u0000').split('\\u0000');
    return streamRaw(res, [Buffer.concat([Buffer.from(head), bad, Buffer.from(tail)]), SSE_DONE]);
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(Buffer.concat([Buffer.from('{"data":[{"content":"'), bad, Buffer.from('"}],"code":"'), bad, Buffer.from('"}')]));
}

/** `trickle`: a 200 that sends one byte every TRICKLE_INTERVAL_MS, forever, until the client hangs up. */
function trickle(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': isChat(res) ? 'text/event-stream' : 'application/json' });
  const text = isChat(res) ? chatChunkEvent('chatcmpl-trickle', 'hostile', 'still thinking… ') : '{"data":[';
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(text[i++ % text.length]);
  }, TRICKLE_INTERVAL_MS);
  res.once('close', () => clearInterval(timer));
}

function streamRaw(res: ServerResponse, parts: ReadonlyArray<string | Buffer>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const part of parts.slice(0, -1)) res.write(part);
  res.end(parts.at(-1));
}

/** Writes an endless body until the client hangs up: exercises the response byte cap. */
function endlessBody(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const block = '{"data":"' + 'A'.repeat(64 * 1024);
  const pump = (): void => {
    while (!res.destroyed && res.write(block));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

/** The simulated behaviours (documented in ../README.md). */
export const BEHAVIOURS = {
  good: { description: 'Answers correctly from the real data set.', plan: () => ({ answer: 'good' }) },
  slow: {
    description: 'Answers correctly, but only after `slowMs` (default 15 s, past a typical timeout).',
    plan: (o: BehaviourOptions) => ({ answer: 'good', delayMs: o.slowMs ?? DEFAULT_SLOW_MS }),
  },
  down: { description: 'Never listens: connections to its port are refused.', down: true, plan: () => ({ answer: 'good' }) },
  garbage: { description: 'Answers 200 with text that is not JSON.', plan: () => ({ answer: 'garbage' }) },
  'wrong-schema': { description: 'Answers 200 with valid JSON of the wrong shape.', plan: () => ({ answer: 'wrong-schema' }) },
  huge: { description: 'Answers 200 with an endless body.', plan: () => ({ raw: endlessBody }) },
  redirect: {
    description: 'Answers 302 to another address (default the cloud metadata service).',
    plan: (o: BehaviourOptions) => ({
      raw: (res: ServerResponse) => {
        res.writeHead(302, { location: o.redirectTo ?? 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      },
    }),
  },
  intermittent: {
    description: 'Answers correctly, except every `failEvery`-th call (default 3), which fails: a 500, then a dropped connection, alternately.',
    plan: (o: BehaviourOptions, i: number) => {
      const every = o.failEvery ?? DEFAULT_FAIL_EVERY;
      if ((i + 1) % every !== 0) return { answer: 'good' };
      return { raw: ((i + 1) / every) % 2 === 1 ? internalError : hangUp };
    },
  },
  'slow-tail': {
    description: 'Answers correctly after `latencyMs` (default 200 ms); every 20th call (5%) takes 10× as long.',
    plan: (o: BehaviourOptions, i: number) => {
      const latency = o.latencyMs ?? DEFAULT_TAIL_LATENCY_MS;
      return { answer: 'good', delayMs: (i + 1) % SLOW_TAIL_PERIOD === 0 ? latency * SLOW_TAIL_FACTOR : latency };
    },
  },
  replay: {
    description: 'Answers its first request correctly, then returns that same first answer to every later request.',
    plan: () => ({ answer: 'replay' }),
  },
  colluding: {
    description: 'Answers completely and schema-valid, but with every figure scaled by COLLUSION_FACTOR, like every other colluding miner.',
    plan: () => ({ answer: 'colluding' }),
  },
  'deep-json': { description: 'Hostile: answers 200 with valid JSON nested 100,000 deep.', plan: () => ({ raw: deepJson }) },
  'huge-error': { description: 'Hostile: fails with a 400,000-character status message (synapse) or error detail (Epistula).', plan: () => ({ raw: hugeError }) },
  'huge-headers': { description: 'Hostile: answers 200 with a 1 MiB header.', plan: () => ({ raw: hugeHeaders }) },
  'invalid-utf8': { description: 'Hostile: answers 200 with bytes that are not UTF-8.', plan: () => ({ raw: invalidUtf8 }) },
  trickle: { description: 'Hostile: answers 200, then one byte every 100 ms, forever.', plan: () => ({ raw: trickle }) },
} as const satisfies Record<string, Behaviour>;

/** A behaviour name. */
export type BehaviourName = keyof typeof BEHAVIOURS;

/**
 * Behaviours that attack the client rather than merely fail: answers too deep to walk, too
 * long to store, too large to carry, not text at all, or never finished (`huge` is the
 * endless body). `--hostile` draws from these.
 */
export const HOSTILE_BEHAVIOURS: readonly BehaviourName[] = ['deep-json', 'huge-error', 'huge-headers', 'invalid-utf8', 'huge', 'trickle'];

/** Resolves after `ms`, or early when the signal aborts (the caller went away). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
