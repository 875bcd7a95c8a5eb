import { OrchestraError } from '@orchestra/contracts';
/**
 * The axon's priority stage: at most `concurrency` handlers run at once; waiting requests are
 * admitted highest priority first (the SDK feeds `priority_fn` into a PriorityThreadPoolExecutor).
 * A request that waits past its deadline gets a PriorityTimeoutError (the SDK's 408).
 */
export class PriorityTimeoutError extends OrchestraError {
  override readonly name = 'PriorityTimeoutError';
  readonly retryable = true;
}

interface Waiter {
  readonly priority: number;
  readonly admit: () => void;
}

/** A priority-ordered semaphore. */
export class PriorityGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new Error('concurrency must be at least 1');
  }

  /** Resolves with a release function once admitted; rejects after `timeoutMs` of waiting. */
  acquire(priority: number, timeoutMs: number): Promise<() => void> {
    const release = (): void => {
      this.running--;
      const next = this.waiting.shift();
      if (next) next.admit();
    };
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        admit: () => {
          clearTimeout(timer);
          this.running++;
          resolve(once(release));
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new PriorityTimeoutError(`waited ${timeoutMs} ms for a slot`));
      }, timeoutMs);
      // Stable insert: after every waiter of equal or higher priority.
      const at = this.waiting.findIndex((w) => w.priority < priority);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, waiter);
    });
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
