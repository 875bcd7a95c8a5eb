/**
 * How a handler tells the transport what to do with a message it could not handle.
 * The transport acks on success; on a PoisonMessageError it terminates the message
 * and dead-letters it at once (retrying cannot help); on anything else it naks with
 * backoff until the consumer's `maxDeliver`, then dead-letters it with the last error.
 */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A transient failure (a dependency down, a lost compare-and-set race): retry later. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The bus could not be reached or set up. */
export class BusConnectionError extends Error {
  override readonly name = 'BusConnectionError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A bus setting in the environment is malformed. */
export class BusConfigError extends Error {
  override readonly name = 'BusConfigError';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
