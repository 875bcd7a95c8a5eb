import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { ConsumerSpec, DeadLetter, Subjects, deadLetterPayload, envelope } from '@orchestra/contracts';
import { withConsumeSpan } from '@orchestra/service';
import { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { Observable, isObservable, lastValueFrom, throwError } from 'rxjs';
import { Bus } from './bus';
import { BusConfigError, BusConnectionError, PayloadTooLargeError, PoisonMessageError, isBusFailure, isClientSizeRefusal } from './errors';
import { InboundMessage } from './inbound';

/** How long one pull waits for messages before the next is issued, ms. */
const PULL_EXPIRES_MS = 5_000;
/** Deliveries, in multiples of the consumer's maxDeliver, after which a message nobody ever settled is dead-lettered. */
const UNSETTLED_LIMIT = 3;
/** Longest a handler keeps renewing its message's lease, ms. */
const MAX_LEASE_MS = 10 * 60_000;
/** Pause after a failed pull (NATS restarting, leader election), ms. */
const PULL_RETRY_MS = 1_000;

/** Default of `ORCH_STUCK_HANDLER_MS`: how long every handler slot of a consumer may stay busy before /readyz says so, ms. */
export const DEFAULT_STUCK_HANDLER_MS = 5 * 60_000;

export interface JetStreamTransportOptions {
  /** Handlers running at once per consumer in this replica. */
  readonly concurrency?: number;
  /** Longest wait for in-flight handlers on close, ms. */
  readonly drainTimeoutMs?: number;
  /** Consumer specs to look handlers up in (default: the bus's, see `consumersFromEnv`); tests shorten backoffs here. */
  readonly consumers?: readonly ConsumerSpec[];
  /** A consumer whose every handler slot has been busy this long is reported not ready, ms (`ORCH_STUCK_HANDLER_MS`). */
  readonly stuckHandlerMs?: number;
}

/** What the transport knows about its own health, for /healthz and /readyz. */
export interface TransportHealth {
  /** False once a consumer's pump has stopped for good: only a restart brings it back. */
  readonly live: boolean;
  /** False while some consumer has every handler slot stuck past the threshold. */
  readonly ready: boolean;
  /** Per consumer: `pumping`, `stopped: <why>`, or `stuck: <what>`. */
  readonly checks: Record<string, string>;
}

/** One consumer's pump as the health checks see it. */
interface PumpState {
  readonly limit: number;
  /** Start time (ms) of each running handler, by message. */
  readonly running: Map<JsMsg, number>;
  stopped?: string;
}

/**
 * A Nest microservice transport over JetStream durable pull consumers.
 *
 * A controller method decorated `@EventPattern('<durable>')` (a consumer name from
 * `Consumers` in libs/contracts) receives each message of that consumer as an
 * InboundMessage. Resolving acks it; throwing PoisonMessageError terminates and
 * dead-letters it; any other error naks it with the consumer's backoff, and after the
 * last delivery dead-letters it with the error. While a handler runs, the transport
 * calls `working()` so long handlers keep their lease. `close()` stops pulling, lets
 * in-flight handlers finish (naking what arrives meanwhile), then returns.
 *
 * It pulls only as many messages as it has free handler slots. A client-side buffer
 * would hold delivered messages nobody is working on: their ack deadline runs out, the
 * server redelivers them, and under load the copies pile up behind each other.
 *
 * Controllers must let errors through Nest unchanged: decorate them
 * `@UseFilters(BusErrorFilter)`.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  /** The pull in progress per consumer, to stop on close. */
  private readonly pulls = new Set<ConsumerMessages>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pumps = new Map<string, PumpState>();
  private closing = false;

  constructor(
    private readonly bus: Bus,
    private readonly options: JetStreamTransportOptions = {},
  ) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const durable of this.messageHandlers.keys()) {
        const spec = (this.options.consumers ?? this.bus.consumers).find((c) => c.durable === durable);
        if (!spec) throw new Error(`@EventPattern('${durable}') names no consumer in Consumers (libs/contracts)`);
        const consumer = await this.bus.js.consumers.get(spec.stream, spec.durable);
        const state: PumpState = { limit: this.options.concurrency ?? 16, running: new Map() };
        this.pumps.set(spec.durable, state);
        // A pump that ends while the service is not closing strands its share of the work:
        // it is reported not live (/healthz 503), so the supervisor or the kubelet restarts
        // the process, and logged; an unhandled rejection would exit without saying why.
        this.pump(spec, consumer, state).then(
          () => {
            if (!this.closing) state.stopped = 'the pump returned while the service was running';
          },
          (error: unknown) => {
            state.stopped = describe(error);
            this.logger.error(`${spec.durable}: consuming stopped for good (${state.stopped}); /healthz reports not live until the process is restarted`);
          },
        );
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * Liveness and readiness of the consumers. Not live: a pump stopped. Not ready: every
   * handler slot of a consumer has been busy for `stuckHandlerMs` (handlers hung on a call
   * that never returns; new messages wait). Not live would be wrong there: the handlers
   * may yet finish, and their leases are released after 10 minutes for other replicas.
   */
  health(now = Date.now()): TransportHealth {
    const stuckMs = this.options.stuckHandlerMs ?? DEFAULT_STUCK_HANDLER_MS;
    const checks: Record<string, string> = {};
    let live = true;
    let ready = true;
    for (const [durable, state] of this.pumps) {
      if (state.stopped) {
        live = false;
        checks[`consumer ${durable}`] = `stopped: ${state.stopped}`;
        continue;
      }
      const starts = [...state.running.values()];
      const newest = Math.max(...starts);
      if (starts.length >= state.limit && now - newest > stuckMs) {
        ready = false;
        const oldest = [...state.running.entries()].sort((a, b) => a[1] - b[1])[0];
        checks[`consumer ${durable}`] =
          `stuck: all ${state.limit} handler slots busy for over ${stuckMs} ms (ORCH_STUCK_HANDLER_MS); oldest ${oldest[0].subject} #${oldest[0].info.streamSequence} for ${now - oldest[1]} ms`;
      } else {
        checks[`consumer ${durable}`] = `pumping (${starts.length}/${state.limit} busy)`;
      }
    }
    return { live, ready, checks };
  }

  private async pump(spec: ConsumerSpec, consumer: Consumer, state: PumpState): Promise<void> {
    const limit = state.limit;
    const mine = new Set<Promise<void>>();
    while (!this.closing) {
      if (mine.size >= limit) {
        await Promise.race(mine);
        continue;
      }
      let batch: ConsumerMessages;
      try {
        // A pull for the free slots, held open a while so new messages arrive at once.
        batch = await consumer.fetch({ max_messages: limit - mine.size, expires: PULL_EXPIRES_MS });
      } catch (error) {
        // A replica that stops consuming but stays "ready" would strand its share of the
        // work: when the connection is gone for good, crash and let the supervisor restart
        // a clean process. Anything else (a NATS restart, a leader election) passes.
        if (this.bus.nc.isClosed() && !this.closing)
          throw new BusConnectionError(`${spec.durable}: consuming from ${spec.stream} stopped: the connection closed`, { cause: error });
        this.logger.warn(`${spec.durable}: pull failed, retrying: ${describe(error)}`);
        await new Promise((resolve) => setTimeout(resolve, PULL_RETRY_MS));
        continue;
      }
      this.pulls.add(batch);
      try {
        for await (const msg of batch) {
          if (this.closing) {
            msg.nak();
            continue;
          }
          state.running.set(msg, Date.now());
          const task = this.handle(spec, msg).finally(() => {
            state.running.delete(msg);
            mine.delete(task);
            this.inFlight.delete(task);
          });
          mine.add(task);
          this.inFlight.add(task);
        }
      } catch (error) {
        // A pull cut short (missed heartbeats while a node restarts): the next one takes over;
        // anything it had delivered is being handled, anything it had not is still on the server.
        this.logger.warn(`${spec.durable}: pull ended early: ${describe(error)}`);
      } finally {
        this.pulls.delete(batch);
      }
    }
  }

  private async handle(spec: ConsumerSpec, msg: JsMsg): Promise<void> {
    if (msg.info.deliveryCount > spec.maxDeliver * UNSETTLED_LIMIT) {
      // Every earlier delivery ended without an ack or a nak: the handler crashed its process,
      // or the bus failed, each time. Stop the loop, keeping the message and the reason.
      return this.settleFailure(
        spec,
        msg,
        new PoisonMessageError(`delivered ${msg.info.deliveryCount} times without being settled (handlers crashed, or the bus failed, every time)`),
      );
    }
    const message = new InboundMessage(msg, this.bus.limits);
    const started = Date.now();
    // The lease is renewed while the handler runs, but not forever: a handler stuck on a
    // call that never returns lets its message go back to the consumer for another replica.
    const heartbeat = setInterval(
      () => {
        if (Date.now() - started < MAX_LEASE_MS) return msg.working();
        clearInterval(heartbeat);
        this.logger.error(`${spec.durable}: handler of ${msg.subject} #${msg.info.streamSequence} still running after ${MAX_LEASE_MS} ms; releasing its lease`);
      },
      Math.max(1_000, spec.ackWaitMs / 3),
    );
    const span = {
      subject: msg.subject,
      consumer: spec.durable,
      headers: { get: (k: string) => msg.headers?.get(k) || undefined },
      deliveryCount: msg.info.deliveryCount,
      streamSequence: msg.info.streamSequence,
      bodyBytes: msg.data.length,
    };
    try {
      await withConsumeSpan(span, () => this.invoke(spec.durable, message));
      msg.ack();
    } catch (error) {
      await this.settleFailure(spec, msg, error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async invoke(durable: string, message: InboundMessage): Promise<void> {
    const handler = this.messageHandlers.get(durable);
    if (!handler) throw new Error(`no handler for consumer ${durable}`);
    const result: unknown = await handler(message);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  private async settleFailure(spec: ConsumerSpec, msg: JsMsg, error: unknown): Promise<void> {
    const reason = describe(error);
    // Poison, or a write the server refuses for its size: every delivery would fail alike.
    const poison = error instanceof PoisonMessageError || error instanceof PayloadTooLargeError || isClientSizeRefusal(error);
    // The bus failing (NATS restarting, a leader election) is nobody's fault and passes: it
    // does not use up the message's deliveries, or an outage would dead-letter healthy work.
    const busFailure = isBusFailure(error);
    const lastDelivery = msg.info.deliveryCount >= spec.maxDeliver && !busFailure;
    if (!poison && !lastDelivery) {
      const delay = spec.backoffMs[Math.min(msg.info.deliveryCount - 1, spec.backoffMs.length - 1)];
      const budget = busFailure ? 'the bus failed; not counted' : `delivery ${msg.info.deliveryCount}/${spec.maxDeliver}`;
      this.logger.warn(`${spec.durable}: ${msg.subject} #${msg.info.streamSequence} failed (${budget}), retrying in ${delay} ms: ${reason}`);
      msg.nak(delay);
      return;
    }
    const why = poison ? reason : `gave up after ${msg.info.deliveryCount} deliveries: ${reason}`;
    try {
      await this.deadLetter(spec, msg, why);
      // No reason argument: nats-server 2.9 ignores "+TERM <reason>" and would keep the message pending.
      msg.term();
      this.logger.error(`${spec.durable}: dead-lettered ${msg.subject} #${msg.info.streamSequence}: ${why}`);
    } catch (dlqError) {
      if (isBusFailure(dlqError)) {
        // NATS is down: the letter can be written once it is back, so the message waits for it.
        this.logger.error(`${spec.durable}: could not dead-letter #${msg.info.streamSequence} (${describe(dlqError)}); naking until NATS is back`);
        msg.nak(spec.backoffMs[spec.backoffMs.length - 1]);
        return;
      }
      // A letter is an excerpt and a reference, so this should never happen; if it does,
      // naking would redeliver the message every backoff, forever, holding one of the
      // consumer's ack-pending slots each time (64 such messages stall the planner). The
      // original stays in its stream under the sequence logged here, where an operator
      // finds it (`nats stream get <stream> <seq>`): nothing is lost, and nothing loops.
      msg.term();
      this.logger.error(
        `${spec.durable}: could not dead-letter ${msg.subject} #${msg.info.streamSequence} of stream ${msg.info.stream} (${describe(dlqError)}); terminated it instead of redelivering it forever; reason it failed: ${why}`,
      );
    }
  }

  private async deadLetter(spec: ConsumerSpec, msg: JsMsg, reason: string): Promise<void> {
    const message = new InboundMessage(msg, this.bus.limits);
    const jobId = message.peekJobId() ?? '-';
    const letter = deadLetterPayload(
      {
        consumer: spec.durable,
        subject: msg.subject,
        stream: msg.info.stream,
        streamSequence: msg.info.streamSequence,
        deliveries: msg.info.deliveryCount,
        reason,
        body: message.text(),
      },
      this.bus.limits,
    );
    await this.bus.publish(Subjects.deadLetter(spec.durable), envelope(DeadLetter, jobId, letter, [spec.durable, msg.info.stream, msg.info.streamSequence]));
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const pull of this.pulls) pull.stop();
    const drained = Promise.allSettled([...this.inFlight]);
    const timeout = new Promise((resolve) => setTimeout(resolve, this.options.drainTimeoutMs ?? 15_000).unref());
    await Promise.race([drained, timeout]);
  }

  on(): never {
    throw new Error('JetStreamTransport has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}

/**
 * Lets a handler's error reach JetStreamTransport as thrown, so it can tell a poison
 * message from a transient failure. (Nest's default filter would replace it with a
 * generic "Internal server error".)
 */
@Catch()
export class BusErrorFilter implements RpcExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** `ORCH_STUCK_HANDLER_MS`: how long every handler slot of a consumer may be busy before /readyz reports it stuck. */
export function stuckHandlerMsFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.ORCH_STUCK_HANDLER_MS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_STUCK_HANDLER_MS;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1_000)
    throw new BusConfigError(`ORCH_STUCK_HANDLER_MS must be an integer number of milliseconds, at least 1000; got ${JSON.stringify(raw)}`);
  return value;
}
