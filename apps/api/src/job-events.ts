import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import { Bus } from '@orchestra/bus';
import { Streams, Subjects, TERMINAL_JOB_EVENTS, TERMINAL_JOB_STATUSES, type JobEventType, type JobStatus } from '@orchestra/contracts';
import type { ServerResponse } from 'node:http';
import { clientEvent } from './client-view';

/** A comment line every this often keeps proxies and load balancers from closing an idle stream. */
export const KEEP_ALIVE_MS = 15_000;

/** Headers of an SSE response; `no-transform` and `X-Accel-Buffering` stop proxies from buffering it. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Where a client resuming after event `after` stands:
 * - `finished`: it has seen the end of a finished job; nothing more will come;
 * - `stream`: events follow, until the terminal event or, for a finished job, `endSeq`
 *   (its last event: the stream ends there even if no terminal event was ever written);
 * - `unknown`: `after` is past the end of the events stream, so no event of a running job
 *   can follow it (they are numbered below it): the id was never sent by this stream.
 */
export type ResumePoint = { kind: 'finished' } | { kind: 'stream'; endSeq?: number } | { kind: 'unknown'; lastSeq: number };

/** An open read of one job's events: an ordered consumer and the messages it delivers. */
export class EventSubscription {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    readonly messages: ConsumerMessages,
    /** Stream sequence after which nothing is delivered (a finished job's last event). */
    readonly endSeq?: number,
  ) {}

  /**
   * Stops delivery and deletes the server-side consumer, which would otherwise linger
   * for its 5-minute inactivity threshold after every client. Idempotent.
   */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.messages.close().catch(() => undefined);
      await this.consumer.delete().catch(() => undefined);
    })());
  }
}

/**
 * Streams a job's progress events as Server-Sent Events, from the events stream through
 * an ordered (ephemeral, gap-free) consumer filtered to the job's subject. The SSE id of
 * each event is its stream sequence, so `Last-Event-ID` resumes exactly after it.
 */
@Injectable()
export class JobEventsStreamer implements BeforeApplicationShutdown {
  private readonly logger = new Logger('JobEventsStreamer');
  private readonly open = new Set<EventSubscription>();

  constructor(private readonly bus: Bus) {}

  /**
   * Where a client that last received event `after` (0: none) of a job in `status`
   * resumes (see ResumePoint). A client that has seen the end gets 204, which tells an
   * EventSource to stop reconnecting; without this check a Last-Event-ID at or past a
   * finished job's last event would open a stream that never receives anything.
   */
  async resumePoint(jobId: string, after: number, status: JobStatus): Promise<ResumePoint> {
    const subject = Subjects.jobEvents(jobId);
    const events = Streams.events.name;
    if (after > 0) {
      const seen = await this.bus.jsm.streams.getMessage(events, { seq: after });
      if (seen !== null && seen.subject === subject && isTerminal(eventName(seen.string()))) return { kind: 'finished' };
    }
    if (TERMINAL_JOB_STATUSES.includes(status)) {
      const last = await this.bus.jsm.streams.getMessage(events, { last_by_subj: subject });
      const endSeq = last?.seq ?? 0;
      return after >= endSeq ? { kind: 'finished' } : { kind: 'stream', endSeq };
    }
    if (after > 0) {
      const lastSeq = (await this.bus.jsm.streams.info(events)).state.last_seq;
      if (after > lastSeq) return { kind: 'unknown', lastSeq };
    }
    return { kind: 'stream' };
  }

  /**
   * Starts reading the job's events after sequence `after`, up to `endSeq` if given. Done
   * before the response head is sent, so a failure here can still be answered with a
   * problem response.
   */
  async subscribe(jobId: string, after: number, endSeq?: number): Promise<EventSubscription> {
    const consumer = await this.bus.js.consumers.get(Streams.events.name, {
      filter_subjects: Subjects.jobEvents(jobId),
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    return new EventSubscription(consumer, await consumer.consume(), endSeq);
  }

  /**
   * Writes the subscribed events to `res` (whose head it sends) until a terminal event or
   * the subscription's end has been written, the client goes away or the service shuts
   * down; then closes the subscription and ends the response. Resolves when the stream is
   * over.
   */
  async stream(jobId: string, subscription: EventSubscription, res: ServerResponse): Promise<void> {
    this.open.add(subscription);
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    // 'close' fires on the response when the client disconnects as well as after end().
    const stop = () => void subscription.close();
    res.once('close', stop);
    if (res.destroyed) stop();
    try {
      for await (const msg of subscription.messages) {
        // The tenant's view of the event (client-view.ts): no miner addresses or coldkeys.
        const view = clientEvent(msg.string());
        const event = view?.event;
        if (view === undefined) this.logger.warn({ msg: 'skipping a malformed progress event', jobId, seq: msg.seq });
        else
          res.write(
            `id: ${msg.seq}\nevent: ${view.event}\n${view.data
              .split('\n')
              .map((line) => `data: ${line}\n`)
              .join('')}\n`,
          );
        if (isTerminal(event) || (subscription.endSeq !== undefined && msg.seq >= subscription.endSeq)) break;
      }
    } finally {
      clearInterval(keepAlive);
      this.open.delete(subscription);
      await subscription.close();
      res.end();
    }
  }

  /**
   * Ends every open stream before the HTTP server closes, which would otherwise wait for
   * them until the shutdown grace period ran out. Clients reconnect (with Last-Event-ID)
   * to another replica.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.open].map((subscription) => subscription.close()));
  }
}

/** The event name of an envelope on the events stream; undefined if it is not a valid progress event. */
function eventName(data: string): JobEventType | undefined {
  return clientEvent(data)?.event;
}

function isTerminal(event: JobEventType | undefined): boolean {
  return event !== undefined && TERMINAL_JOB_EVENTS.includes(event);
}
