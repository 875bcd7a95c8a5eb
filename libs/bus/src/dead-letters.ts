import { DeadLetter, FAILED_STEP_LETTERS, Streams } from '@orchestra/contracts';
import { z } from 'zod';
import { Bus } from './bus';

/** A dead-letter record as an operator sees it. */
export interface DeadLetterEntry {
  /** Sequence in the dead-letter stream: the handle for replay. */
  readonly seq: number;
  readonly at: string;
  readonly jobId: string;
  readonly letter: z.infer<typeof DeadLetter.payload>;
}

/** A dead letter cannot be replayed (missing, or its body was truncated). */
export class DeadLetterReplayError extends Error {
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
 * consumer gets another go (after the cause was fixed). Its message id is derived from
 * the letter, so replaying the same letter twice delivers it once. With `remove`, the
 * letter is deleted from the dead-letter stream afterwards.
 */
export async function replayDeadLetter(bus: Bus, seq: number, opts: { remove?: boolean } = {}): Promise<DeadLetterEntry> {
  const entry = await readDeadLetter(bus, seq);
  if (!entry) throw new DeadLetterReplayError(`no dead letter #${seq} in ${Streams.deadLetters.name}`);
  if (entry.letter.truncated) throw new DeadLetterReplayError(`dead letter #${seq} holds a truncated body and cannot be replayed`);
  if (entry.letter.consumer === FAILED_STEP_LETTERS) {
    throw new DeadLetterReplayError(
      `dead letter #${seq} records step failures of job ${entry.jobId}, which has ended: there is nothing to redeliver; fix the cause (its reason lists every attempt) and submit the job again`,
    );
  }
  await bus.js.publish(entry.letter.subject, entry.letter.body, { msgID: `replay:${Streams.deadLetters.name}:${seq}` });
  if (opts.remove) await bus.jsm.streams.deleteMessage(Streams.deadLetters.name, seq);
  return entry;
}

/** One dead letter by its sequence; undefined when there is none. */
export async function readDeadLetter(bus: Bus, seq: number): Promise<DeadLetterEntry | undefined> {
  const stored = await bus.jsm.streams.getMessage(Streams.deadLetters.name, { seq }).catch(() => null);
  if (!stored) return undefined;
  const parsed = DeadLetter.envelope.safeParse(stored.json());
  return parsed.success ? { seq, at: parsed.data.ts, jobId: parsed.data.jobId, letter: parsed.data.payload } : undefined;
}
