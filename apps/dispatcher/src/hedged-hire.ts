import { performance } from 'node:perf_hooks';

/** What a race needs of a reply: whether the call succeeded at the protocol level. */
export interface RaceReply {
  readonly ok: boolean;
}

/** One call of an attempt (to a miner or a gateway's source). */
export interface HedgeCall<C, R extends RaceReply = RaceReply> {
  readonly candidate: C;
  /** When it started, ms after the attempt started. */
  readonly startedAtMs: number;
  /** What the source answered; undefined when the call was aborted. */
  reply?: R;
  /** Whether the answer passed the verifier's checks (undefined when there was none). */
  acceptable?: boolean;
  /** Aborted by us: another call won, or the job was cancelled. */
  aborted: boolean;
  /** Time from its start to its end, ms. */
  elapsedMs: number;
}

/** How an attempt's race ended. */
export interface HedgeOutcome<C, R extends RaceReply = RaceReply> {
  /** Every call made, in the order they started (the first is the primary). */
  readonly calls: HedgeCall<C, R>[];
  /** The call whose answer goes to the verifier: the first acceptable one, else the most useful failure; undefined when cancelled. */
  readonly chosen?: HedgeCall<C, R>;
  /** The job was cancelled: every call was aborted. */
  readonly cancelled: boolean;
  /** Time from the first call's start to the chosen answer, ms. */
  readonly elapsedMs: number;
}

/** What one race needs. */
export interface HedgeRaceOptions<C, R extends RaceReply> {
  /** Ranked, best first: the first is hired at once, the next ones as hedges. */
  readonly candidates: readonly C[];
  /** Calls at most (1 = no hedging). */
  readonly maxCalls: number;
  /** Time without an acceptable answer after which the next candidate is called, ms. */
  readonly delayMs: number;
  /** Aborts every call (the job was cancelled). */
  readonly signal: AbortSignal;
  /** One call; `index` 0 is the primary, 1… the hedges. */
  readonly call: (candidate: C, signal: AbortSignal, index: number) => Promise<R>;
  /** The verifier's checks on an answered call. */
  readonly accept: (reply: R) => Promise<boolean>;
  /** Told when a hedge fires, before its call starts. */
  readonly onHedge?: (candidate: C, index: number) => void;
  /**
   * A failed reply that says nothing about the work (the gateway asked us to slow down, or
   * refused our key): the next candidate is called at once instead of ending the attempt, up to
   * `maxMoves` times. Such moves come on top of `maxCalls`.
   */
  readonly moveOn?: (reply: R) => boolean;
  readonly maxMoves?: number;
  /** Candidates to pass over when their turn comes (a provider turned off, a source resting meanwhile). */
  readonly skip?: (candidate: C) => boolean;
}

/**
 * Hires the first candidate; whenever `delayMs` passes with no acceptable answer and
 * calls in flight, hires the next one too (up to `maxCalls`). The first acceptable answer
 * wins and every other call is aborted. An answer that fails the checks does not end the
 * race while other calls are in flight; when none is left the attempt ends with its
 * failure (an answered-but-invalid reply preferred, as its errors make the best re-ask),
 * and the planner retries — unless the failure says nothing about the work (`moveOn`: a
 * 429, a refused key), when the next candidate is called at once instead. A call that throws
 * our own error (bad configuration) aborts the rest and rethrows.
 */
export function hedgedHire<C, R extends RaceReply>(opts: HedgeRaceOptions<C, R>): Promise<HedgeOutcome<C, R>> {
  const start = performance.now();
  const calls: HedgeCall<C, R>[] = [];
  const pending = new Map<HedgeCall<C, R>, AbortController>();
  let timer: NodeJS.Timeout | undefined;
  /** The next candidate to consider, and how many calls were moves (not hedges). */
  let cursor = 0;
  let moves = 0;
  const nextCandidate = (): C | undefined => {
    while (cursor < opts.candidates.length && opts.skip?.(opts.candidates[cursor])) cursor++;
    return cursor < opts.candidates.length ? opts.candidates[cursor++] : undefined;
  };

  return new Promise<HedgeOutcome<C, R>>((resolve, reject) => {
    let done = false;
    const finish = (outcome: { chosen?: HedgeCall<C, R>; cancelled?: boolean } | { error: unknown }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onCancel);
      const now = performance.now() - start;
      for (const [record, controller] of pending) {
        record.aborted = true;
        record.elapsedMs = now - record.startedAtMs;
        controller.abort();
      }
      pending.clear();
      if ('error' in outcome) return reject(outcome.error);
      const chosen = outcome.chosen;
      resolve({
        calls,
        chosen,
        cancelled: outcome.cancelled ?? false,
        elapsedMs: chosen ? chosen.startedAtMs + chosen.elapsedMs : performance.now() - start,
      });
    };
    const onCancel = (): void => finish({ cancelled: true });

    /** Calls the next candidate (`move`: in place of a failed call rather than as a hedge); false when none is left. */
    const launch = (move = false): boolean => {
      const candidate = nextCandidate();
      if (candidate === undefined) return false;
      const index = calls.length;
      if (move) moves++;
      else if (index > 0) opts.onHedge?.(candidate, index);
      const controller = new AbortController();
      const record: HedgeCall<C, R> = { candidate, startedAtMs: performance.now() - start, aborted: false, elapsedMs: 0 };
      calls.push(record);
      pending.set(record, controller);
      // Once the race is decided, `finish` has marked the calls still pending as aborted.
      opts.call(candidate, controller.signal, index).then(
        async (reply) => {
          if (done) return;
          record.elapsedMs = performance.now() - start - record.startedAtMs;
          record.reply = reply;
          // Still pending while its answer is checked, so a slower call cannot end the race meanwhile.
          record.acceptable = reply.ok && (await opts.accept(reply));
          pending.delete(record);
          if (done) return;
          if (record.acceptable) return finish({ chosen: record });
          if (opts.moveOn?.(reply) && moves < (opts.maxMoves ?? 0) && launch(true)) return;
          if (pending.size === 0) finish({ chosen: mostUseful(calls) });
        },
        (error: unknown) => {
          if (done) return;
          pending.delete(record);
          finish({ error });
        },
      );
      schedule();
      return true;
    };

    const schedule = (): void => {
      clearTimeout(timer);
      if (calls.length - moves >= opts.maxCalls || cursor >= opts.candidates.length) return;
      timer = setTimeout(() => {
        if (!done && pending.size > 0) launch();
      }, opts.delayMs);
    };

    if (opts.signal.aborted) return finish({ cancelled: true });
    opts.signal.addEventListener('abort', onCancel, { once: true });
    // Every candidate passed over before the first call: nobody was hired.
    if (!launch()) finish({});
  });
}

/** With no acceptable answer: an answered one (its validation errors feed the re-ask), else the primary. */
function mostUseful<C, R extends RaceReply>(calls: HedgeCall<C, R>[]): HedgeCall<C, R> {
  return calls.find((c) => c.reply?.ok) ?? calls.find((c) => c.reply) ?? calls[0];
}
