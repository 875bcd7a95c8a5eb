import { OrchestraError } from '@orchestra/contracts';
/**
 * A check could not be run, so nothing can be said about the answer: the checker is missing
 * or failed (python3 not installed, timed out on an overloaded host), or the task input it
 * compares the answer with is invalid. Never the miner's fault, so never a rejection of its
 * answer. `retryable` says whether running the same check again later may succeed (a
 * timeout) or needs an operator (a missing python3, an invalid input).
 */
export class UnverifiableError extends OrchestraError {
  override readonly name = 'UnverifiableError';
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}
