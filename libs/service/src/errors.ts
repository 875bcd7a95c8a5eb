import { OrchestraError } from '@orchestra/contracts';
/**
 * Typed errors raised by the service runtime. Each carries the underlying failure as
 * `cause` so the JSON logger can print the whole chain.
 */

/** An environment variable or option has a value the runtime cannot use. */
export class ServiceConfigError extends OrchestraError {
  readonly retryable = false;
  override readonly name = 'ServiceConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A metric name is already registered with a different type or label set. */
export class MetricConflictError extends OrchestraError {
  readonly retryable = false;
  override readonly name = 'MetricConflictError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The service could not start (Nest bootstrap, listen, or the ops server failed). */
export class ServiceStartError extends OrchestraError {
  readonly retryable = false;
  override readonly name = 'ServiceStartError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
