import { JetStreamStatusError, jserrors } from '@nats-io/jetstream/internal';
import { errors as natsErrors } from '@nats-io/transport-node';
import { OrchestraError } from '@orchestra/contracts';

/**
 * How a handler tells the transport what to do with a message it could not handle.
 * The transport acks on success; on a PoisonMessageError it terminates the message
 * and dead-letters it at once (retrying cannot help); on anything else it naks with
 * backoff until the consumer's `maxDeliver`, then dead-letters it with the last error.
 */
export class PoisonMessageError extends OrchestraError {
  override readonly name = 'PoisonMessageError';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A transient failure (a dependency down, a lost compare-and-set race): retry later. */
export class RetryableError extends OrchestraError {
  override readonly name = 'RetryableError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The bus could not be reached or set up. */
export class BusConnectionError extends OrchestraError {
  override readonly name = 'BusConnectionError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A bus setting in the environment is malformed. */
export class BusConfigError extends OrchestraError {
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
export class PayloadTooLargeError extends OrchestraError {
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
export class ObjectRefError extends OrchestraError {
  override readonly name = 'ObjectRefError';
  constructor(
    message: string,
    /** Missing objects may appear (a replica behind); damaged ones do not. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Errors of the NATS client or server (the bus itself failing), as opposed to a handler's own. */
const BUS_FAILURE_TYPES: ReadonlyArray<abstract new (...args: never[]) => Error> = [
  natsErrors.ConnectionError,
  natsErrors.TimeoutError,
  natsErrors.RequestError,
  natsErrors.NoRespondersError,
  natsErrors.DrainingConnectionError,
  natsErrors.ClosedConnectionError,
  jserrors.JetStreamNotEnabled,
  JetStreamStatusError,
  BusConnectionError,
];

/**
 * Whether `error` is the bus failing (NATS restarting, a leader election, a timeout):
 * nobody's fault, worth retrying, and not counted against a message's deliveries. A refusal
 * of our permissions or credentials arrives as a RequestError too, but retrying cannot cure
 * it: it is not a bus failure, so its message runs out of deliveries and is dead-lettered
 * with the reason instead of looping forever.
 */
export function isBusFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (causedBy(error, natsErrors.PermissionViolationError) || causedBy(error, natsErrors.AuthorizationError)) return false;
  return BUS_FAILURE_TYPES.some((type) => error instanceof type);
}

/**
 * The NATS client's own refusal of an oversized message (a write that skipped the bus's
 * checks, e.g. a raw KV put): as hopeless as PayloadTooLargeError. The client has no code
 * for it, so its InvalidArgumentError is told apart by what it is about.
 */
export function isClientSizeRefusal(error: unknown): boolean {
  return error instanceof natsErrors.InvalidArgumentError && /max_payload/.test(error.message);
}

function causedBy(error: unknown, type: abstract new (...args: never[]) => Error): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof type) return true;
    e = (e as Error).cause;
  }
  return false;
}
