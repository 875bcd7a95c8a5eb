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
export type BehaviourPlan =
  | { readonly answer: AnswerKind; readonly delayMs?: number }
  | { readonly raw: (res: ServerResponse) => void };

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
} as const satisfies Record<string, Behaviour>;

/** A behaviour name. */
export type BehaviourName = keyof typeof BEHAVIOURS;

/** Resolves after `ms`, or early when the signal aborts (the caller went away). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
