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

/**
 * A message or KV value larger than the NATS server accepts (`max_payload`), or than its
 * own budget. Retrying cannot shrink it, so it is never retried: the transport
 * dead-letters the message whose handler tried to write it, at once.
 */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  readonly retryable = false;
  constructor(
    /** What was to be written: `subject orch.task.result`, `KV orch_jobs/<key>`, `object orch_outputs/<name>`. */
    readonly target: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`${target}: ${bytes} bytes exceed the limit of ${limitBytes} bytes; the value must be made smaller (or stored by reference), retrying cannot help`);
  }
}

/** A stored object (ObjectRef) is missing, damaged, or its pointer selects nothing. */
export class ObjectRefError extends Error {
  override readonly name = 'ObjectRefError';
  constructor(
    message: string,
    /** Missing objects may appear (a replica behind); damaged ones do not. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
