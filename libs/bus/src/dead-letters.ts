import { DeadLetter, DeadLetterPayload, DeadLetterV1, FAILED_STEP_LETTERS, Streams, OrchestraError } from '@orchestra/contracts';
import { z } from 'zod';
import { Bus } from './bus';

/** A dead-letter record as an operator sees it. */
export interface DeadLetterEntry {
  /** Sequence in the dead-letter stream: the handle for replay. */
  readonly seq: number;
  readonly at: string;
  readonly jobId: string;
  /** The letter's payload version: 2 refers to the original in its stream, 1 (older letters) embeds its body. */
  readonly version: 1 | 2;
  readonly letter: DeadLetterPayload | z.infer<typeof DeadLetterV1.payload>;
}

/** A dead letter cannot be replayed (missing, its original gone, or a record of a finished job). */
export class DeadLetterReplayError extends OrchestraError {
  override readonly name = 'DeadLetterReplayError';
  readonly retryable = false;
}

/** Lists dead letters, oldest first, optionally only one consumer's. */
export async function listDeadLetters(bus: Bus, opts: { consumer?: string; limit?: number } = {}): Promise<DeadLetterEntry[]> {
  const info = await bus.jsm.streams.info(Streams.deadLetters.name);
  const entries: DeadLetterEntry[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && entries.length < (opts.limit ?? 1_000); seq++) {
    const entry = await readDeadLetter(bus, seq);
    if (entry && (!opts.consumer || entry.letter.consumer === opts.consumer)) entries.push(entry);
  }
  return entries;
}

/**
 * Publishes a dead letter's original message again, to its original subject, so the
 * consumer gets another go (after the cause was fixed). A version 2 letter holds only an
 * excerpt: the original is read from its stream by sequence, and when the stream no
 * longer has it (aged out, deleted) that is said plainly. Its message id is derived from
 * the letter, so replaying the same letter twice delivers it once. With `remove`, the
 * letter is deleted from the dead-letter stream afterwards.
 */
export async function replayDeadLetter(bus: Bus, seq: number, opts: { remove?: boolean } = {}): Promise<DeadLetterEntry> {
  const entry = await readDeadLetter(bus, seq);
  if (!entry) throw new DeadLetterReplayError(`no dead letter #${seq} in ${Streams.deadLetters.name}`);
  if (entry.letter.consumer === FAILED_STEP_LETTERS) {
    throw new DeadLetterReplayError(
      `dead letter #${seq} records step failures of job ${entry.jobId}, which has ended: there is nothing to redeliver; fix the cause (its reason lists every attempt) and submit the job again`,
    );
  }
  const body = 'body' in entry.letter ? v1Body(seq, entry.letter) : await originalBody(bus, seq, entry.letter);
  await bus.js.publish(entry.letter.subject, body, { msgID: `replay:${Streams.deadLetters.name}:${seq}` });
  if (opts.remove) await bus.jsm.streams.deleteMessage(Streams.deadLetters.name, seq);
  return entry;
}

function v1Body(seq: number, letter: z.infer<typeof DeadLetterV1.payload>): string {
  if (letter.truncated) throw new DeadLetterReplayError(`dead letter #${seq} (version 1) holds a truncated body and cannot be replayed`);
  return letter.body;
}

/** The original message of a version 2 letter, from its stream. */
async function originalBody(bus: Bus, seq: number, letter: DeadLetterPayload): Promise<Uint8Array> {
  const where = `message #${letter.streamSequence} of stream ${letter.stream}`;
  if (!letter.stream) throw new DeadLetterReplayError(`dead letter #${seq} names no stream to replay from`);
  const stored = await bus.jsm.streams.getMessage(letter.stream, { seq: letter.streamSequence }).catch((error: unknown) => {
    if (error instanceof Error && /not found|no message/i.test(error.message)) return null;
    throw error;
  });
  if (!stored) {
    throw new DeadLetterReplayError(
      `dead letter #${seq} cannot be replayed: its original, ${where}, is no longer there (aged out of the stream's retention, or deleted); its excerpt is all that is left (npm run orchestra -- dlq show ${seq})`,
    );
  }
  if (stored.subject !== letter.subject) {
    throw new DeadLetterReplayError(`dead letter #${seq} cannot be replayed: ${where} is on ${stored.subject}, not ${letter.subject} (was the stream recreated?)`);
  }
  return stored.data;
}

/** One dead letter by its sequence (either version); undefined when there is none. */
export async function readDeadLetter(bus: Bus, seq: number): Promise<DeadLetterEntry | undefined> {
  const stored = await bus.jsm.streams.getMessage(Streams.deadLetters.name, { seq }).catch(() => null);
  if (!stored) return undefined;
  let json: unknown;
  try {
    json = stored.json();
  } catch {
    return undefined;
  }
  const v2 = DeadLetter.envelope.safeParse(json);
  if (v2.success) return { seq, at: v2.data.ts, jobId: v2.data.jobId, version: 2, letter: v2.data.payload };
  const v1 = DeadLetterV1.envelope.safeParse(json);
  return v1.success ? { seq, at: v1.data.ts, jobId: v1.data.jobId, version: 1, letter: v1.data.payload } : undefined;
}
