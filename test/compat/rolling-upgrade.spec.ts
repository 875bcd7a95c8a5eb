import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeadLetter,
  DeadLetterV1,
  JobCancelRequested,
  JobEvent,
  JobSpecSchema,
  JobStateSchema,
  JobSubmitted,
  MetagraphSchema,
  ReputationSchema,
  StepRejected,
  StepVerified,
  TaskReady,
  TaskResult,
} from '@orchestra/contracts';

/**
 * Rolling upgrades: while replicas of version n start, the streams and buckets still hold
 * what version n-1 wrote, and n-1 replicas keep writing it. Every message and record of the
 * landed version before this one (recorded from its devnet, `fixtures/cafe98f.json`) must
 * still be read by this version's schemas — or, where a kind's version was bumped, by the
 * reader of the older version that this version keeps.
 */
interface Recording {
  readonly messages: Record<string, { subject: string; body: { type: string; version: number; payload: unknown } }>;
  readonly kv: Record<string, unknown>;
}
const recording = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'cafe98f.json'), 'utf8')) as Recording;

const KINDS = [JobSubmitted, JobCancelRequested, TaskReady, TaskResult, StepVerified, StepRejected, JobEvent, DeadLetter];
/** Older versions of bumped kinds that this version still reads (the dlq tool shows and replays v1 letters). */
const OLDER_KINDS = [DeadLetterV1];

describe('version n reads what version n-1 wrote', () => {
  it('has a recording of every message kind', () => {
    const recorded = new Set(Object.values(recording.messages).map((m) => m.body.type));
    expect([...recorded].sort()).toEqual(KINDS.map((k) => k.type).sort());
  });

  it.each(Object.entries(recording.messages))('message %s', (_key, { body }) => {
    const kind = [...KINDS, ...OLDER_KINDS].find((k) => k.type === body.type && k.version === body.version);
    // A kind whose version was bumped must keep a reader for the version before.
    expect(kind).toBeDefined();
    const parsed = kind?.envelope.safeParse(body);
    expect(parsed?.success ? [] : parsed?.error.issues).toEqual([]);
  });

  it.each(Object.entries(recording.kv))('record %s', (key, value) => {
    const bucket = key.split('/')[0];
    const schema = {
      orch_jobs: JobStateSchema,
      orch_submissions: JobSpecSchema,
      orch_metagraph: MetagraphSchema,
      orch_reputation: ReputationSchema,
    }[bucket];
    if (bucket === 'orch_idempotency') {
      // The api's record of a key: the job it created and the hash of the body that created it.
      expect(JSON.parse(value as string)).toEqual({ jobId: expect.stringMatching(/^job_[0-9A-Z]+$/), bodyHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      return;
    }
    expect(schema).toBeDefined();
    const parsed = schema?.safeParse(value);
    expect(parsed?.success ? [] : parsed?.error.issues).toEqual([]);
  });
});
