/**
 * Every error the SDK throws is an {@link OrchestraError}; each condition has its own class,
 * so callers branch with `instanceof` (as with nats.js), and `retryable` says whether the
 * same call may succeed later unchanged.
 */

/** The RFC 9457 body of an API error (the OpenAPI document's `Problem`). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: ReadonlyArray<{ readonly pointer?: string; readonly header?: string; readonly parameter?: string; readonly detail: string }>;
}

export class OrchestraError extends Error {
  override name = 'OrchestraError';
  readonly retryable: boolean = false;
}

/** Neither options, environment nor the devnet's connection file say where the API is or which key to use. */
export class ConfigurationError extends OrchestraError {
  override name = 'ConfigurationError';
}

/** The API could not be reached, or the connection broke before an answer. */
export class ConnectionError extends OrchestraError {
  override name = 'ConnectionError';
  override readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The API answered something it does not document (not JSON, oversized, an event frame past the bound). */
export class ProtocolError extends OrchestraError {
  override name = 'ProtocolError';
}

/** `wait` (or `run`) gave up before the job reached the awaited state. */
export class TimeoutError extends OrchestraError {
  override name = 'TimeoutError';
  override readonly retryable = true;
}

/** An API answer that is an error: `status`, the problem's `type` slug (`kind`) and the whole problem. */
export class ApiError extends OrchestraError {
  override name = 'ApiError';
  /** The last segment of the problem's type, e.g. `job-not-found`. */
  readonly kind: string;
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${problem.title} (${status}): ${problem.detail}`);
    this.kind = problem.type.split('/').pop() ?? problem.type;
  }
}

/** 400 or 415: the request is invalid; `problem.errors` names each bad field. */
export class ValidationError extends ApiError {
  override name = 'ValidationError';
}
/** 401: no key, or a malformed, unknown, revoked or expired one. */
export class AuthenticationError extends ApiError {
  override name = 'AuthenticationError';
}
/** 403: the key lacks the scope the request needs. */
export class PermissionDeniedError extends ApiError {
  override name = 'PermissionDeniedError';
}
/** 404: no such job, key, schema or route (another tenant's job too). */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}
/** 409: the job is not in a state that allows this (not finished, not awaiting approval). */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}
/** 413: the request body is over the API's limit; the problem names its largest field. */
export class PayloadTooLargeError extends ApiError {
  override name = 'PayloadTooLargeError';
}
/** 422: a limit over the tenant's cap, a job record too large, an Idempotency-Key reused with another body. */
export class UnprocessableError extends ApiError {
  override name = 'UnprocessableError';
}
/** 429: a quota is exhausted; retry after `retryAfterMs`. */
export class RateLimitedError extends ApiError {
  override name = 'RateLimitedError';
  override readonly retryable = true;
  constructor(
    status: number,
    problem: Problem,
    readonly retryAfterMs: number | undefined,
  ) {
    super(status, problem);
  }
}
/** 5xx: the API failed; retry later (with the same Idempotency-Key for submissions). */
export class ServerError extends ApiError {
  override name = 'ServerError';
  override readonly retryable = true;
}

/** A job awaited with `run` ended `failed`: `job` has its error and attempts. */
export class JobFailedError extends OrchestraError {
  override name = 'JobFailedError';
  constructor(readonly job: { readonly jobId: string; readonly error?: { readonly code?: string; readonly message?: string } }) {
    super(`Job ${job.jobId} failed${job.error ? `: ${job.error.code ?? ''} ${job.error.message ?? ''}`.trimEnd() : ''}`);
  }
}

/** A job awaited with `run` ended `cancelled`. */
export class JobCancelledError extends OrchestraError {
  override name = 'JobCancelledError';
  constructor(readonly job: { readonly jobId: string }) {
    super(`Job ${job.jobId} was cancelled`);
  }
}

/** An approval's edited plan failed the plan checks: the job still awaits approval of its plan. */
export class PlanRejectedError extends OrchestraError {
  override name = 'PlanRejectedError';
  constructor(
    readonly job: { readonly jobId: string },
    reason: string,
  ) {
    super(`Job ${job.jobId}: ${reason}`);
  }
}

/** The error for a problem response of `status`. */
export function apiError(status: number, problem: Problem, retryAfter: string | null): ApiError {
  switch (status) {
    case 400:
    case 415:
      return new ValidationError(status, problem);
    case 401:
      return new AuthenticationError(status, problem);
    case 403:
      return new PermissionDeniedError(status, problem);
    case 404:
      return new NotFoundError(status, problem);
    case 409:
      return new ConflictError(status, problem);
    case 413:
      return new PayloadTooLargeError(status, problem);
    case 422:
      return new UnprocessableError(status, problem);
    case 429: {
      const seconds = retryAfter === null ? NaN : Number(retryAfter);
      return new RateLimitedError(status, problem, Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined);
    }
    default:
      return status >= 500 ? new ServerError(status, problem) : new ApiError(status, problem);
  }
}
