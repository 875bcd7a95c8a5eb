import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import { Bus } from '@orchestra/bus';
import { JobEvent, Streams, Subjects, TERMINAL_JOB_EVENTS, type JobEventType } from '@orchestra/contracts';
import type { ServerResponse } from 'node:http';

/** A comment line every this often keeps proxies and load balancers from closing an idle stream. */
export const KEEP_ALIVE_MS = 15_000;

/** Headers of an SSE response; `no-transform` and `X-Accel-Buffering` stop proxies from buffering it. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** An open read of one job's events: an ordered consumer and the messages it delivers. */
export class EventSubscription {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    readonly messages: ConsumerMessages,
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
   * Whether the client has already seen the end of the job's stream: the event it last
   * received (sequence `after`) is this job's terminal event. Such a client gets 204,
   * which tells an EventSource to stop reconnecting.
   */
  async isFinished(jobId: string, after: number): Promise<boolean> {
    if (after === 0) return false;
    const last = await this.bus.jsm.streams.getMessage(Streams.events.name, { seq: after });
    return last !== null && last.subject === Subjects.jobEvents(jobId) && isTerminal(eventName(last.string()));
  }

  /**
   * Starts reading the job's events after sequence `after`. Done before the response
   * head is sent, so a failure here can still be answered with a problem response.
   */
  async subscribe(jobId: string, after: number): Promise<EventSubscription> {
    const consumer = await this.bus.js.consumers.get(Streams.events.name, {
      filter_subjects: Subjects.jobEvents(jobId),
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    return new EventSubscription(consumer, await consumer.consume());
  }

  /**
   * Writes the subscribed events to `res` (whose head it sends) until a terminal event has
   * been written, the client goes away or the service shuts down; then closes the
   * subscription and ends the response. Resolves when the stream is over.
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
        const data = msg.string();
        const event = eventName(data);
        if (event === undefined) {
          this.logger.warn({ msg: 'skipping a malformed progress event', jobId, seq: msg.seq });
          continue;
        }
        res.write(`id: ${msg.seq}\nevent: ${event}\n${data.split('\n').map((line) => `data: ${line}\n`).join('')}\n`);
        if (isTerminal(event)) break;
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
  try {
    const parsed = JobEvent.envelope.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data.payload.event : undefined;
  } catch {
    return undefined;
  }
}

function isTerminal(event: JobEventType | undefined): boolean {
  return event !== undefined && TERMINAL_JOB_EVENTS.includes(event);
}
