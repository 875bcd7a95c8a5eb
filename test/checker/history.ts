import { Buckets, Streams } from '@orchestra/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { KV, KvWatchInclude, Kvm } from '@nats-io/kv';
import { NatsConnection } from '@nats-io/transport-node';
import { History, JobRevision, StoredMessage } from './checker';

/** The streams whose every message the checker reads. */
export const CHECKED_STREAMS = [Streams.jobs.name, Streams.tasks.name, Streams.events.name] as const;

const decoder = new TextDecoder();

/**
 * Watches the jobs bucket for the whole run and keeps every revision it sees, so the
 * checker can tell a terminal status that later changed (the bucket itself keeps only
 * the last revision). Across a reconnect it may miss revisions; it never invents any.
 */
export class RevisionRecorder {
  private readonly revisions: JobRevision[] = [];
  private stopWatching?: () => void;
  private done?: Promise<void>;

  /** Starts watching (from the bucket's current content onward). */
  async start(nc: NatsConnection): Promise<void> {
    const kv = await new Kvm(nc).open(Buckets.jobs);
    const watch = await kv.watch({ include: KvWatchInclude.AllHistory });
    this.stopWatching = () => watch.stop();
    this.done = (async () => {
      for await (const entry of watch) {
        if (entry.operation !== 'PUT') continue;
        this.revisions.push({ jobId: entry.key, revision: entry.revision, record: entry.json() });
      }
    })();
  }

  /** Stops watching and returns what was seen. */
  async stop(): Promise<JobRevision[]> {
    this.stopWatching?.();
    await this.done;
    return [...this.revisions];
  }
}

/**
 * Reads a History from a live NATS: every message of the checked streams (through an
 * ordered consumer, up to each stream's last sequence at the time of the call) and the
 * final record of every job in the jobs bucket.
 */
export async function readHistory(nc: NatsConnection, submitted: readonly string[], observedRevisions?: readonly JobRevision[]): Promise<History> {
  const messages: StoredMessage[] = [];
  for (const stream of CHECKED_STREAMS) messages.push(...(await readStream(nc, stream)));
  const kv = await new Kvm(nc).open(Buckets.jobs);
  return { submitted, messages, finalRecords: await readBucket(kv), observedRevisions };
}

async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  const last = info.state.last_seq;
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: StoredMessage[] = [];
  const messages = await consumer.consume({ max_messages: 512 });
  for await (const msg of messages) {
    out.push({ stream, subject: msg.subject, seq: msg.seq, body: parseJson(decoder.decode(msg.data)) });
    if (msg.seq >= last) break;
  }
  messages.stop();
  return out;
}

async function readBucket(kv: KV): Promise<JobRevision[]> {
  const records: JobRevision[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT') records.push({ jobId: key, revision: entry.revision, record: entry.json() });
  }
  return records;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
