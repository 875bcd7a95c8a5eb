/**
 * What a fake provider does with one request, whatever its protocol. A model (Chutes) or an API
 * key (Desearch, Constellation) names a behaviour; `planOf` decides per request, so stateful ones
 * (intermittent, rate-limited) follow a fixed, testable rhythm:
 *
 * - `good`: a real answer, read from the request (the text engine, the seeded corpus);
 * - `garbage`: 200 with a body that is not the protocol at all (HTML, broken SSE, undecodable protobuf);
 * - `wrong-schema`: well-formed JSON/protobuf of the wrong shape (missing the documented fields);
 * - `slow`: a good answer after `slowMs` (longer than a sane call timeout);
 * - `down`: the service is unavailable (HTTP 503, gRPC UNAVAILABLE);
 * - `intermittent`: every `failEvery`-th request fails as unavailable (HTTP 500, gRPC UNAVAILABLE), the rest are good;
 * - `rate-limited`: odd requests (1st, 3rd…) are refused with 429 / RESOURCE_EXHAUSTED and
 *   `Retry-After: retryAfterSeconds`; the others are good.
 * A key the fake does not know gets 401 / UNAUTHENTICATED on every endpoint.
 */
export const PROVIDER_BEHAVIOURS = ['good', 'garbage', 'wrong-schema', 'slow', 'down', 'intermittent', 'rate-limited'] as const;
export type ProviderBehaviour = (typeof PROVIDER_BEHAVIOURS)[number];

export interface BehaviourTuning {
  /** Delay of `slow`, ms (default 15000). */
  readonly slowMs?: number;
  /** `intermittent` fails every `failEvery`-th request (default 2). */
  readonly failEvery?: number;
  /** Retry-After of `rate-limited`, seconds (default 1). */
  readonly retryAfterSeconds?: number;
}

export type Plan =
  | { readonly kind: 'good'; readonly delayMs: number }
  | { readonly kind: 'garbage' }
  | { readonly kind: 'wrong-schema' }
  | { readonly kind: 'unavailable'; readonly intermittent: boolean }
  | { readonly kind: 'rate-limited'; readonly retryAfterSeconds: number };

/** The plan for the `index`-th request (0-based) that reached a source of this behaviour. */
export function planOf(behaviour: ProviderBehaviour, index: number, tuning: BehaviourTuning = {}): Plan {
  switch (behaviour) {
    case 'good':
      return { kind: 'good', delayMs: 0 };
    case 'slow':
      return { kind: 'good', delayMs: tuning.slowMs ?? 15_000 };
    case 'garbage':
      return { kind: 'garbage' };
    case 'wrong-schema':
      return { kind: 'wrong-schema' };
    case 'down':
      return { kind: 'unavailable', intermittent: false };
    case 'intermittent': {
      const every = Math.max(1, tuning.failEvery ?? 2);
      return (index + 1) % every === 0 ? { kind: 'unavailable', intermittent: true } : { kind: 'good', delayMs: 0 };
    }
    case 'rate-limited':
      return index % 2 === 0 ? { kind: 'rate-limited', retryAfterSeconds: tuning.retryAfterSeconds ?? 1 } : { kind: 'good', delayMs: 0 };
  }
}

/** Per-source request counters (the `index` of planOf). */
export class RequestCounter {
  private readonly counts = new Map<string, number>();
  next(key: string): number {
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return n;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (the client went away). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
