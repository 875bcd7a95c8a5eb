import { OrchestraError } from '@orchestra/contracts';
/** The subtensor endpoint could not be reached (or did not finish the handshake) in time. */
export class ChainConnectError extends OrchestraError {
  readonly retryable = true;
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot connect to subtensor node at ${url}: ${message}`, options);
    this.name = 'ChainConnectError';
  }
}

/**
 * A read against a connected node failed: retryable when the node may be restarting or
 * behind (the default), not when its runtime lacks what the reader needs.
 */
export class ChainReadError extends OrchestraError {
  readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options);
    this.name = 'ChainReadError';
    this.retryable = options?.retryable ?? true;
  }
}

/** The subnet is not registered (NetworksAdded is false) at the block read. */
export class SubnetNotFoundError extends ChainReadError {
  constructor(
    readonly netuid: number,
    readonly block: number,
  ) {
    super(`Subnet ${netuid} does not exist at block ${block}`, { retryable: false });
    this.name = 'SubnetNotFoundError';
  }
}
