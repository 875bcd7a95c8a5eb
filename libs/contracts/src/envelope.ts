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

/**
 * A message kind: its type name, schema version, and payload schema. `P` is the payload
 * as read (defaults applied), `I` as it may be written (fields with defaults optional).
 */
export interface MessageKind<T extends string, P, I = P> {
  readonly type: T;
  readonly version: number;
  readonly payload: z.ZodType<P, I>;
  /** The zod schema of the whole envelope, for validating what arrives off the wire. */
  readonly envelope: z.ZodType<Envelope<T, P>>;
}

/** Declares a message kind. Bump `version` on any breaking change of the payload. */
export function messageKind<T extends string, S extends z.ZodType>(type: T, version: number, payload: S): MessageKind<T, z.output<S>, z.input<S>> {
  const envelope = z
    .object({
      type: z.literal(type),
      version: z.literal(version),
      id: z.string().min(1).max(512),
      jobId: z.string().min(1).max(128),
      ts: z.iso.datetime(),
      payload,
    })
    .strict() as unknown as z.ZodType<Envelope<T, z.output<S>>>;
  return { type, version, payload: payload as z.ZodType<z.output<S>, z.input<S>>, envelope };
}

/**
 * The deterministic message id: `<type>:<jobId>[:<part>…]`. Two publishes that mean
 * the same thing (e.g. attempt 2 of step `data` of job J is ready) get the same id.
 */
export function messageId(type: string, jobId: string, ...parts: Array<string | number>): string {
  return [type, jobId, ...parts].join(':');
}

/** Wraps a payload into an envelope of the given kind. */
export function envelope<T extends string, P, I>(
  kind: MessageKind<T, P, I>,
  jobId: string,
  payload: I,
  idParts: Array<string | number> = [],
  now: Date = new Date(),
): Envelope<T, I> {
  return {
    type: kind.type,
    version: kind.version,
    id: messageId(kind.type, jobId, ...idParts),
    jobId,
    ts: now.toISOString(),
    payload,
  };
}
