import { z } from 'zod';

/**
 * Every message on the bus is an envelope: what it is (type + version), which job it
 * belongs to, when it was made, and a typed payload. `id` is also the message's
 * `Nats-Msg-Id`, built deterministically from what the message means (not when it was
 * sent), so a republish after a crash is dropped by the stream's duplicate window.
 */
export interface Envelope<T extends string = string, P = unknown> {
  readonly type: T;
  readonly version: number;
  readonly id: string;
  readonly jobId: string;
  readonly ts: string;
  readonly payload: P;
}

/** A message kind: its type name, schema version, and payload schema. */
export interface MessageKind<T extends string, P> {
  readonly type: T;
  readonly version: number;
  readonly payload: z.ZodType<P>;
  /** The zod schema of the whole envelope, for validating what arrives off the wire. */
  readonly envelope: z.ZodType<Envelope<T, P>>;
}

/** Declares a message kind. Bump `version` on any breaking change of the payload. */
export function messageKind<T extends string, P>(type: T, version: number, payload: z.ZodType<P>): MessageKind<T, P> {
  const envelope = z
    .object({
      type: z.literal(type),
      version: z.literal(version),
      id: z.string().min(1).max(512),
      jobId: z.string().min(1).max(128),
      ts: z.iso.datetime(),
      payload,
    })
    .strict() as unknown as z.ZodType<Envelope<T, P>>;
  return { type, version, payload, envelope };
}

/**
 * The deterministic message id: `<type>:<jobId>[:<part>…]`. Two publishes that mean
 * the same thing (e.g. attempt 2 of step `data` of job J is ready) get the same id.
 */
export function messageId(type: string, jobId: string, ...parts: Array<string | number>): string {
  return [type, jobId, ...parts].join(':');
}

/** Wraps a payload into an envelope of the given kind. */
export function envelope<T extends string, P>(
  kind: MessageKind<T, P>,
  jobId: string,
  payload: P,
  idParts: Array<string | number> = [],
  now: Date = new Date(),
): Envelope<T, P> {
  return {
    type: kind.type,
    version: kind.version,
    id: messageId(kind.type, jobId, ...idParts),
    jobId,
    ts: now.toISOString(),
    payload,
  };
}
