import { OrchestraError } from '@orchestra/contracts';
/** A hire's hold on its job's cancellation: abort when the job is cancelled, release when done. */
export interface JobTicket {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * The hires in flight per job, so a cancellation aborts all of them at once. A hire takes
 * its ticket before it checks the job's status, so a cancellation that lands between the
 * check and the call still reaches it.
 */
export class JobCancellations {
  private readonly inFlight = new Map<string, Set<AbortController>>();

  /** Registers a hire of `jobId`. */
  track(jobId: string): JobTicket {
    const controller = new AbortController();
    let set = this.inFlight.get(jobId);
    if (!set) this.inFlight.set(jobId, (set = new Set()));
    set.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        set.delete(controller);
        if (set.size === 0 && this.inFlight.get(jobId) === set) this.inFlight.delete(jobId);
      },
    };
  }

  /** Aborts every hire of `jobId` in flight; returns how many. */
  cancel(jobId: string, reason: string): number {
    const set = this.inFlight.get(jobId);
    if (!set) return 0;
    for (const controller of set) controller.abort(new JobCancelledError(jobId, reason));
    return set.size;
  }
}

/** The reason a hire's signal aborts: its job was cancelled. */
export class JobCancelledError extends OrchestraError {
  override readonly name = 'JobCancelledError';
  readonly retryable = false;
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`job ${jobId} was cancelled: ${reason}`);
  }
}
