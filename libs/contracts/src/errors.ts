/**
 * The base of every error Orchestra defines. Each states whether trying the same thing
 * again can help (`retryable`), as Temporal's ApplicationFailure does, so callers decide
 * with `instanceof` and that flag, never by comparing names or messages:
 * - retryable: a dependency is down or busy, a race was lost, a timeout passed;
 * - not retryable: the input, the configuration or a stranger's answer is wrong, and
 *   the same call will fail the same way.
 */
export abstract class OrchestraError extends Error {
  abstract readonly retryable: boolean;
}

/**
 * Whether `error` says it is worth retrying: an OrchestraError by its flag; anything else
 * (a bug, a library's error that was not classified where it arose) is `undefined`, for
 * the caller to decide.
 */
export function retryableOf(error: unknown): boolean | undefined {
  return error instanceof OrchestraError ? error.retryable : undefined;
}
