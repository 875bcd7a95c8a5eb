import { Bus, listDeadLetters, readDeadLetter, replayDeadLetter } from '@orchestra/bus';
import { parseArgs } from 'node:util';
import { operatorNats } from './connection';

const USAGE = `usage: npm run dlq -- list [--consumer <name>] [--limit <n>]
       npm run dlq -- show <seq>
       npm run dlq -- replay <seq> [--remove]
Reads the dead-letter stream (ORCH_DLQ) of the NATS at ORCH_NATS_URL (with the ORCH_NATS_* operator
credentials), or of the running devnet (tmp/devnet/connection.json), or of nats://127.0.0.1:4222.
A letter keeps the reason, an excerpt and where the original is (stream and sequence); replay
reads the original from that stream (older, version 1 letters from their own copy).`;

/** The operator's view of dead letters: list them, read one whole, replay one after fixing its cause. */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { consumer: { type: 'string' }, limit: { type: 'string' }, remove: { type: 'boolean', default: false } },
  });
  const [command, seqArg] = positionals;
  const seq = Number(seqArg);
  if (!['list', 'show', 'replay'].includes(command) || (command !== 'list' && !Number.isSafeInteger(seq))) {
    console.error(USAGE);
    return 2;
  }
  const bus = await Bus.connect({ ...operatorNats(), name: 'dlq-cli' });
  try {
    if (command === 'list') {
      const entries = await listDeadLetters(bus, { consumer: values.consumer, limit: values.limit ? Number(values.limit) : undefined });
      if (entries.length === 0) console.log('no dead letters');
      for (const e of entries) {
        const where = 'stream' in e.letter && e.letter.stream ? `  ${e.letter.stream} #${e.letter.streamSequence}, ${e.letter.bytes} bytes` : '';
        console.log(
          `#${e.seq}  ${e.at}  ${e.letter.consumer.padEnd(10)} ${e.jobId.padEnd(32)} ${e.letter.subject}${where}  (${e.letter.deliveries} deliveries)\n      ${e.letter.reason}`,
        );
      }
    } else if (command === 'show') {
      const entry = await readDeadLetter(bus, seq);
      if (!entry) throw new Error(`no dead letter #${seq}`);
      console.log(JSON.stringify(entry, null, 2));
    } else {
      const entry = await replayDeadLetter(bus, seq, { remove: values.remove });
      console.log(`replayed #${seq} to ${entry.letter.subject}${values.remove ? ' and removed it from the dead-letter stream' : ''}`);
    }
    return 0;
  } finally {
    await bus.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`dlq: ${(error as Error).message}`);
    process.exit(1);
  },
);
