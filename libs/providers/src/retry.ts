import { ProviderAbortedError, ProviderError } from './errors';

/**
 * Retrying one source the way its gateway asks: only failures that are retryable and the
 * source's (a rate limit, an outage, a timeout), waiting the gateway's Retry-After when it gave
 * one and an exponential backoff otherwise. A wait longer than `maxWaitMs` is not worth it here:
 * the error is thrown so the caller can move to another source instead.
 */
export interface RetryOptions {
  /** Calls at most, the first included (default 3). */
  readonly maxAttempts?: number;
  /** Longest single wait, ms (default 30000). */
  readonly maxWaitMs?: number;
  /** First backoff when the gateway gave no Retry-After, ms (default 250; doubles each time). */
  readonly baseDelayMs?: number;
  readonly signal?: AbortSignal;
  /** Told about each wait (logs, metrics). */
  readonly onRetry?: (error: ProviderError, waitMs: number, attempt: number) => void;
}

export async function callWithRetry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 3;
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const base = options.baseDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable || error.blame !== 'source' || attempt >= maxAttempts) throw error;
      const waitMs = error.retryAfterMs ?? base * 2 ** (attempt - 1);
      if (waitMs > maxWaitMs) throw error;
      options.onRetry?.(error, waitMs, attempt);
      await delay(waitMs, options.signal);
    }
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ProviderAbortedError('retry aborted by the caller', { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ProviderAbortedError('retry aborted by the caller', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
