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

/**
 * A setting (an environment variable a service was started with) whose value cannot be
 * used. Not retryable: the same value fails the same way until an operator changes it.
 */
export class SettingError extends OrchestraError {
  override readonly name = 'SettingError';
  readonly retryable = false;
}

/** What an error about several bad settings at once carries: each problem on its own line. */
export interface SettingProblems {
  readonly problems: readonly string[];
}

/**
 * `error` (whose message lists `problems`) with each problem also kept on its own, so a
 * service's config can name every bad variable one by one in its single start-up error.
 */
export function listingProblems<E extends Error>(error: E, problems: readonly string[]): E & SettingProblems {
  return Object.assign(error, { problems: [...problems] });
}

/** The problems an error lists one by one ({@link listingProblems}), if it does. */
export function problemsOf(error: unknown): readonly string[] | undefined {
  const problems = (error as Partial<SettingProblems> | null)?.problems;
  return Array.isArray(problems) && problems.every((p) => typeof p === 'string') ? problems : undefined;
}
