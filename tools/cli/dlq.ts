import { Bus, listDeadLetters, readDeadLetter, replayDeadLetter } from '@orchestra/bus';
import { operatorNats } from '../connection';
import type { Output } from './output';

/**
 * `orchestra dlq`: the operator's view of dead letters over NATS (not the API) — list them,
 * read one whole, replay one after fixing its cause. Connects as the operator:
 * ORCH_NATS_URL with the ORCH_NATS_* credentials, or the running devnet's connection file.
 */
export const DLQ_USAGE = `usage: orchestra dlq list [--consumer <name>] [--limit <n>]
       orchestra dlq show <seq>
       orchestra dlq replay <seq> [--remove]
Reads the dead-letter stream (ORCH_DLQ) of the NATS at ORCH_NATS_URL (with the ORCH_NATS_* operator
credentials), or of the running devnet (tmp/devnet/connection.json), or of nats://127.0.0.1:4222.
A letter keeps the reason, an excerpt and where the original is (stream and sequence); replay
reads the original from that stream (older, version 1 letters from their own copy).`;

export async function dlq(command: string | undefined, seq: number, options: { consumer?: string; limit?: number; remove: boolean }, out: Output): Promise<number> {
  const bus = await Bus.connect({ ...operatorNats(), name: 'orchestra-cli' });
  try {
    if (command === 'list') {
      const entries = await listDeadLetters(bus, { consumer: options.consumer, limit: options.limit });
      out.result(entries, () => {
        if (entries.length === 0) return 'no dead letters';
        return entries
          .map((e) => {
            const where = 'stream' in e.letter && e.letter.stream ? `  ${e.letter.stream} #${e.letter.streamSequence}, ${e.letter.bytes} bytes` : '';
            return `#${e.seq}  ${e.at}  ${e.letter.consumer.padEnd(10)} ${e.jobId.padEnd(32)} ${e.letter.subject}${where}  (${e.letter.deliveries} deliveries)\n      ${e.letter.reason}`;
          })
          .join('\n');
      });
    } else if (command === 'show') {
      const entry = await readDeadLetter(bus, seq);
      if (!entry) {
        out.error(`no dead letter #${seq} (orchestra dlq list shows them)`);
        return 1;
      }
      out.result(entry, () => JSON.stringify(entry, null, 2));
    } else {
      const entry = await replayDeadLetter(bus, seq, { remove: options.remove });
      out.result(
        { replayed: seq, subject: entry.letter.subject, removed: options.remove },
        () => `replayed #${seq} to ${entry.letter.subject}${options.remove ? ' and removed it from the dead-letter stream' : ''}`,
      );
    }
    return 0;
  } finally {
    await bus.close();
  }
}
