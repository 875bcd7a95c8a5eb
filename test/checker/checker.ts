import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';

/**
 * A history checker in the manner of Jepsen's: it judges what the system *did* — every
 * message the streams kept and every job record — against what clients were promised,
 * and trusts none of the services' own counters. Pure: `checkHistory` takes a recorded
 * History (see history.ts for recording one from a live NATS) and returns the anomalies.
 *
 * It reads only the few fields it needs, with its own small schemas, so that it keeps
 * judging histories while the contracts grow fields.
 */

/** One message as stored in a stream. */
export interface StoredMessage {
  readonly stream: string;
  readonly subject: string;
  readonly seq: number;
  /** The parsed body (an envelope), or undefined when it was not JSON. */
  readonly body: unknown;
}

/** One revision of a job record, as stored in (or observed on) the jobs KV bucket. */
export interface JobRevision {
  readonly jobId: string;
  readonly revision: number;
  readonly record: unknown;
}

/** Everything the checker judges. */
export interface History {
  /** Job ids the driver submitted and got 202 for. */
  readonly submitted: readonly string[];
  /** Every message of ORCH_JOBS, ORCH_TASKS and ORCH_EVENTS. */
  readonly messages: readonly StoredMessage[];
  /** The final record of every job in the jobs bucket. */
  readonly finalRecords: readonly JobRevision[];
  /** Revisions observed while the run went on (a watcher may miss some; it never invents any). */
  readonly observedRevisions?: readonly JobRevision[];
}

/** The four ways a run can break its promises. */
export const ANOMALY_KINDS = ['lost', 'finishedTwice', 'multipleCommits', 'unverifiedResult'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** One broken promise, with the job (and step) and a sentence saying what is wrong. */
export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly jobId: string;
  readonly stepId?: string;
  readonly detail: string;
}

/** What the checker found. */
export interface CheckReport {
  readonly anomalies: readonly Anomaly[];
  /** Anomalies per kind (every kind present, 0 when none). */
  readonly counts: Readonly<Record<AnomalyKind, number>>;
  /** Submitted jobs by final status (`missing` when the bucket has no record). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Stored messages by envelope type. */
  readonly messageTypes: Readonly<Record<string, number>>;
}

const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'];
const TERMINAL_EVENTS: Record<string, string> = { 'job.succeeded': 'succeeded', 'job.failed': 'failed', 'job.cancelled': 'cancelled' };

const EnvelopeHead = z.object({ type: z.string(), id: z.string(), jobId: z.string(), payload: z.unknown() });
const StepAttempt = z.object({ stepId: z.string(), attempt: z.number() });
const VerifiedPayload = StepAttempt.extend({ uid: z.number(), hotkey: z.string(), output: z.unknown() });
const ResultPayload = StepAttempt.extend({ uid: z.number().nullable(), hotkey: z.string().nullable(), ok: z.boolean() });
const EventPayload = z.object({ event: z.string() });
const AttemptRecord = z.object({ attempt: z.number(), status: z.string(), uid: z.number().optional(), hotkey: z.string().optional() });
const StepRecord = z.object({ id: z.string(), status: z.string(), attempts: z.array(AttemptRecord), output: z.unknown().optional() });
const JobRecord = z.object({ jobId: z.string(), status: z.string(), steps: z.array(StepRecord), result: z.unknown().optional() });
const ReportRecord = z.object({
  outputs: z.record(z.string(), z.unknown()),
  provenance: z.array(z.object({ stepId: z.string(), attempt: z.number(), uid: z.number(), hotkey: z.string() })),
});
type JobRecordT = z.infer<typeof JobRecord>;
type Verified = z.infer<typeof VerifiedPayload> & { msgId: string };
type Result = z.infer<typeof ResultPayload> & { msgId: string };

/** Judges a history; see the module comment. */
export function checkHistory(history: History): CheckReport {
  const anomalies: Anomaly[] = [];
  const add = (kind: AnomalyKind, jobId: string, detail: string, stepId?: string) => anomalies.push({ kind, jobId, detail, ...(stepId ? { stepId } : {}) });

  const index = indexMessages(history.messages);
  const finals = new Map<string, JobRecordT>();
  for (const revision of history.finalRecords) {
    const parsed = JobRecord.safeParse(revision.record);
    if (parsed.success) finals.set(revision.jobId, parsed.data);
    else add('lost', revision.jobId, `its record in the jobs bucket is not a job record: ${parsed.error.issues[0]?.message}`);
  }
  const statuses: Record<string, number> = {};

  for (const jobId of new Set(history.submitted)) {
    const record = finals.get(jobId);
    const status = record?.status ?? 'missing';
    statuses[status] = (statuses[status] ?? 0) + 1;
    const terminalEvents = index.terminalEvents.get(jobId) ?? [];

    // Lost: the client was promised an outcome and never got one.
    if (!record) add('lost', jobId, 'submitted (202) but the jobs bucket has no record of it');
    else if (!TERMINAL_STATUSES.includes(record.status)) {
      const steps = record.steps.map((s) => `${s.id}=${s.status}[${s.attempts.map((a) => `#${a.attempt}:${a.status}${a.uid === undefined ? '' : `@${a.uid}`}`).join(',')}]`);
      // Where each outstanding attempt's trail stops: which of its messages the streams hold.
      const trails = record.steps.flatMap((s) =>
        s.attempts.filter((a) => a.status === 'dispatched').map((a) => `${s.id}#${a.attempt}: ${trailOf(history.messages, jobId, s.id, a.attempt).join(', ') || 'no messages'}`),
      );
      add('lost', jobId, `still ${record.status} at the end of the run (${steps.join(' ')}; ${trails.join('; ')})`);
    } else if (terminalEvents.length === 0) add('lost', jobId, `${record.status} in the bucket, but no terminal event on its progress stream`);

    // Finished twice: more than one terminal event, or an outcome that changed.
    if (terminalEvents.length > 1) add('finishedTwice', jobId, `${terminalEvents.length} terminal events: ${terminalEvents.join(', ')}`);
    const announced = terminalEvents[0] && TERMINAL_EVENTS[terminalEvents[0]];
    if (record && announced && TERMINAL_STATUSES.includes(record.status) && announced !== record.status) {
      add('finishedTwice', jobId, `announced ${terminalEvents[0]} but the record says ${record.status}`);
    }
    const revisions = revisionsOf(jobId, history, record);
    checkTerminalStable(jobId, revisions, add);

    // One committed result per step, never replaced.
    checkCommits(jobId, revisions, index.verified.get(jobId) ?? [], add);

    // Every output in the report is what a verified miner answered.
    if (record?.status === 'succeeded') checkReport(jobId, record, index, add);
  }

  const counts = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, anomalies.filter((a) => a.kind === k).length])) as Record<AnomalyKind, number>;
  return { anomalies, counts, statuses, messageTypes: index.types };
}

interface MessageIndex {
  readonly types: Record<string, number>;
  /** jobId → terminal event types, one per stored message. */
  readonly terminalEvents: Map<string, string[]>;
  /** jobId → stored step.verified payloads. */
  readonly verified: Map<string, Verified[]>;
  /** jobId → stored task.result payloads. */
  readonly results: Map<string, Result[]>;
}

function indexMessages(messages: readonly StoredMessage[]): MessageIndex {
  const index: MessageIndex = { types: {}, terminalEvents: new Map(), verified: new Map(), results: new Map() };
  const push = <T>(map: Map<string, T[]>, key: string, value: T) => map.set(key, [...(map.get(key) ?? []), value]);
  for (const message of messages) {
    const head = EnvelopeHead.safeParse(message.body);
    const type = head.success ? head.data.type : '(not an envelope)';
    index.types[type] = (index.types[type] ?? 0) + 1;
    if (!head.success) continue;
    const { jobId, payload, id } = head.data;
    if (type === 'job.event') {
      const event = EventPayload.safeParse(payload);
      if (event.success && event.data.event in TERMINAL_EVENTS) push(index.terminalEvents, jobId, event.data.event);
    } else if (type === 'step.verified') {
      const verified = VerifiedPayload.safeParse(payload);
      if (verified.success) push(index.verified, jobId, { ...verified.data, msgId: id });
    } else if (type === 'task.result') {
      const result = ResultPayload.safeParse(payload);
      if (result.success) push(index.results, jobId, { ...result.data, msgId: id });
    }
  }
  return index;
}

/** The job's observed revisions in revision order, ending with its final record. */
function revisionsOf(jobId: string, history: History, final: JobRecordT | undefined): JobRecordT[] {
  const observed = (history.observedRevisions ?? [])
    .filter((r) => r.jobId === jobId)
    .sort((a, b) => a.revision - b.revision)
    .flatMap((r) => {
      const parsed = JobRecord.safeParse(r.record);
      return parsed.success ? [parsed.data] : [];
    });
  return final ? [...observed, final] : observed;
}

type Add = (kind: AnomalyKind, jobId: string, detail: string, stepId?: string) => void;

/** Once a revision is terminal, every later one has the same status and result. */
function checkTerminalStable(jobId: string, revisions: JobRecordT[], add: Add): void {
  const first = revisions.findIndex((r) => TERMINAL_STATUSES.includes(r.status));
  if (first < 0) return;
  const settled = revisions[first];
  const changed = revisions.slice(first + 1).find((r) => r.status !== settled.status || !isDeepStrictEqual(r.result, settled.result));
  if (changed) add('finishedTwice', jobId, `terminal status ${settled.status} later became ${changed.status}${changed.status === settled.status ? ' with another result' : ''}`);
}

/**
 * A step may have several step.verified messages (redeliveries, or attempts the planner
 * had moved past), but the planner must commit exactly one: one verified attempt, whose
 * verified output is the step's output and never changes afterwards.
 */
function checkCommits(jobId: string, revisions: JobRecordT[], verified: Verified[], add: Add): void {
  const committed = new Map<string, unknown>();
  for (const revision of revisions) {
    for (const step of revision.steps) {
      const verifiedAttempts = step.attempts.filter((a) => a.status === 'verified');
      if (verifiedAttempts.length > 1) {
        add('multipleCommits', jobId, `attempts ${verifiedAttempts.map((a) => a.attempt).join(', ')} are all committed as verified`, step.id);
      }
      if (step.output === undefined) continue;
      if (committed.has(step.id) && !isDeepStrictEqual(committed.get(step.id), step.output)) {
        add('multipleCommits', jobId, 'its committed output was replaced by another', step.id);
      }
      committed.set(step.id, step.output);
    }
  }
  const final = revisions.at(-1);
  for (const step of final?.steps ?? []) {
    const messages = verified.filter((v) => v.stepId === step.id);
    const attempts = new Set(messages.map((v) => v.attempt));
    const outputsPerAttempt = [...attempts].filter((a) => distinct(messages.filter((v) => v.attempt === a).map((v) => v.output)).length > 1);
    for (const attempt of outputsPerAttempt) add('multipleCommits', jobId, `attempt ${attempt} has step.verified messages with different outputs`, step.id);
    const commit = step.attempts.find((a) => a.status === 'verified');
    if (step.output !== undefined && !messages.some((v) => v.attempt === commit?.attempt && isDeepStrictEqual(v.output, step.output))) {
      add('multipleCommits', jobId, `its committed output is not the output of a step.verified message of its verified attempt`, step.id);
    }
  }
}

/**
 * For a succeeded job, each output in the report must equal the step's committed output
 * and the output of the step.verified message of the attempt its provenance names; and
 * that attempt's task.result must come from the uid and hotkey the provenance names.
 */
function checkReport(jobId: string, record: JobRecordT, index: MessageIndex, add: Add): void {
  const report = ReportRecord.safeParse(record.result);
  if (!report.success) {
    add('unverifiedResult', jobId, `succeeded without a readable report: ${report.error.issues[0]?.message}`);
    return;
  }
  const { outputs, provenance } = report.data;
  for (const step of record.steps) {
    if (!provenance.some((p) => p.stepId === step.id)) add('unverifiedResult', jobId, 'the report has no provenance for it', step.id);
  }
  for (const p of provenance) {
    const at = `attempt ${p.attempt} (uid ${p.uid})`;
    const output = outputs[p.stepId];
    const step = record.steps.find((s) => s.id === p.stepId);
    if (!step || !isDeepStrictEqual(step.output, output)) add('unverifiedResult', jobId, `the report's output differs from the step's committed output`, p.stepId);
    const verified = (index.verified.get(jobId) ?? []).filter((v) => v.stepId === p.stepId && v.attempt === p.attempt);
    if (verified.length === 0) {
      add('unverifiedResult', jobId, `${at} has no step.verified message`, p.stepId);
    } else if (!verified.some((v) => isDeepStrictEqual(v.output, output))) {
      add('unverifiedResult', jobId, `the report's output is not what step.verified of ${at} carries`, p.stepId);
    } else if (!verified.every((v) => v.uid === p.uid && v.hotkey === p.hotkey)) {
      add('unverifiedResult', jobId, `step.verified of ${at} names another miner`, p.stepId);
    }
    const results = (index.results.get(jobId) ?? []).filter((r) => r.stepId === p.stepId && r.attempt === p.attempt);
    const miners = distinct(results.map((r) => ({ uid: r.uid, hotkey: r.hotkey })));
    if (results.length === 0) add('unverifiedResult', jobId, `${at} has no task.result message`, p.stepId);
    else if (miners.length > 1) add('unverifiedResult', jobId, `${at} has task.results from ${miners.length} different miners`, p.stepId);
    else if (miners[0].uid !== p.uid || miners[0].hotkey !== p.hotkey || !results.every((r) => r.ok)) {
      add('unverifiedResult', jobId, `the task.result of ${at} came from uid ${miners[0].uid} (${results[0].ok ? 'ok' : 'not ok'})`, p.stepId);
    }
  }
}

function distinct<T>(values: T[]): T[] {
  return values.filter((v, i) => values.findIndex((w) => isDeepStrictEqual(v, w)) === i);
}

/** The report as a plain-text table: anomaly counts, final statuses, and messages by type. */
export function formatReport(report: CheckReport, title = 'history check'): string {
  const rows: Array<[string, string | number]> = [
    ...ANOMALY_KINDS.map((k): [string, number] => [`anomalies: ${k}`, report.counts[k]]),
    ...Object.entries(report.statuses).map(([s, n]): [string, number] => [`jobs ${s}`, n]),
    ...Object.entries(report.messageTypes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, n]): [string, number] => [`messages ${t}`, n]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(6)}`)];
  const shown = report.anomalies.slice(0, 20).map((a) => `  ! ${a.kind} ${a.jobId}${a.stepId ? `/${a.stepId}` : ''}: ${a.detail}`);
  if (report.anomalies.length > shown.length) shown.push(`  … and ${report.anomalies.length - shown.length} more`);
  return [...lines, ...shown].join('\n');
}

/** The types (and stream sequences) of the messages about one attempt of a job's step. */
function trailOf(messages: readonly StoredMessage[], jobId: string, stepId: string, attempt: number): string[] {
  return messages.flatMap((m) => {
    const body = m.body as { type?: string; jobId?: string; payload?: { stepId?: string; attempt?: number; event?: string } } | undefined;
    if (body?.jobId !== jobId || body.payload?.stepId !== stepId || body.payload.attempt !== attempt) return [];
    return [`${body.payload.event ?? body.type}@${m.stream}#${m.seq}`];
  });
}
