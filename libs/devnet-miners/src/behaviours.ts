import type { ServerResponse } from 'node:http';

/** What a well-formed answer contains: the real thing, JSON of the wrong shape, or not JSON at all. */
export type AnswerKind = 'good' | 'wrong-schema' | 'garbage';

/** Tunables shared by all behaviours. */
export interface BehaviourOptions {
  /** How long `slow` waits before answering, ms (longer than a typical hire timeout). */
  readonly slowMs?: number;
  /** Where `redirect` points. */
  readonly redirectTo?: string;
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

/** The simulated behaviours; add entries here (intermittent, slow-tail, replay, colluding…). */
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
