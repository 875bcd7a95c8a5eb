import { SpanKind } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, withSpan, type SpanAttributes, type TraceCarrierReader, type TraceCarrierWriter } from './tracing';

/**
 * Header naming the job a bus message belongs to, so a consumer's span carries
 * `orchestra.job_id` before (and whether or not) its body parses.
 */
export const JOB_ID_HEADER = 'Orch-Job-Id';

/** Job ids as the services make them; anything else in the header is ignored, not trusted. */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The subject with the job id replaced by `{jobId}` (`orch.event.{jobId}`): span names must
 * stay few, so a span name never contains an id.
 */
export function subjectTemplate(subject: string, jobId: string | undefined): string {
  return jobId
    ? subject
        .split('.')
        .map((token) => (token === jobId ? '{jobId}' : token))
        .join('.')
    : subject;
}

/** What a publish is, for {@link withPublishSpan}. */
export interface PublishSpanInfo {
  subject: string;
  jobId?: string;
  messageId: string;
  bodyBytes: number;
}

/**
 * Runs `publish` in a PRODUCER span (`send <subject template>`, messaging semantic
 * conventions) after writing that span's trace context and the job id into `headers`, so
 * the consumer's span is its child.
 */
export function withPublishSpan<T>(info: PublishSpanInfo, headers: TraceCarrierWriter, publish: () => Promise<T>): Promise<T> {
  const jobId = info.jobId && JOB_ID.test(info.jobId) ? info.jobId : undefined;
  const template = subjectTemplate(info.subject, jobId);
  const attributes: SpanAttributes = {
    jobId,
    'messaging.system': 'nats',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
    'messaging.destination.name': info.subject,
    'messaging.destination.template': template,
    'messaging.message.id': info.messageId,
    'messaging.message.body.size': info.bodyBytes,
  };
  return withSpan(
    `send ${template}`,
    attributes,
    () => {
      injectTraceContext(headers);
      if (jobId) headers.set(JOB_ID_HEADER, jobId);
      return publish();
    },
    { kind: SpanKind.PRODUCER },
  );
}

/** What a delivery is, for {@link withConsumeSpan}. */
export interface ConsumeSpanInfo {
  subject: string;
  /** The durable consumer: `messaging.consumer.group.name`. */
  consumer: string;
  headers: TraceCarrierReader;
  deliveryCount: number;
  streamSequence: number;
  bodyBytes: number;
}

/**
 * Runs `handle` in a CONSUMER span (`process <subject template>`) whose parent is the
 * producer's span named by the message's `traceparent` (a new trace when there is none),
 * carrying the job id of the message's header.
 */
export function withConsumeSpan<T>(info: ConsumeSpanInfo, handle: () => Promise<T>): Promise<T> {
  const header = info.headers.get(JOB_ID_HEADER);
  const jobId = header && JOB_ID.test(header) ? header : undefined;
  const template = subjectTemplate(info.subject, jobId);
  return withSpan(
    `process ${template}`,
    {
      jobId,
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': info.subject,
      'messaging.destination.template': template,
      'messaging.consumer.group.name': info.consumer,
      'messaging.message.body.size': info.bodyBytes,
      'messaging.nats.delivery_count': info.deliveryCount,
      'messaging.nats.stream_sequence': info.streamSequence,
    },
    handle,
    { kind: SpanKind.CONSUMER, parent: extractTraceContext(info.headers) },
  );
}
