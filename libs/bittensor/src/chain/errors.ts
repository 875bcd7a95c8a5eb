/** The subtensor endpoint could not be reached (or did not finish the handshake) in time. */
export class ChainConnectError extends Error {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot connect to subtensor node at ${url}: ${message}`, options);
    this.name = 'ChainConnectError';
  }
}

/** A storage read against a connected node failed. */
export class ChainReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChainReadError';
  }
}

/** The subnet is not registered (NetworksAdded is false) at the block read. */
export class SubnetNotFoundError extends ChainReadError {
  constructor(
    readonly netuid: number,
    readonly block: number,
  ) {
    super(`Subnet ${netuid} does not exist at block ${block}`);
    this.name = 'SubnetNotFoundError';
  }
}
