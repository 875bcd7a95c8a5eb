import { z } from 'zod';
import { Envelope, envelope, messageKind } from './envelope';
import { JobSpecSchema, PlanStepSpecSchema, MAX_PLAN_STEPS } from './job';
import { DEFAULT_LIMITS, SizeLimits, utf8Bytes } from './limits';
import { ProviderIdSchema, SourceIdSchema } from './sources';
import { truncateText } from './untrusted';

/** api → planner: a new job. */
export const JobSubmitted = messageKind('job.submitted', 1, z.object({ job: JobSpecSchema }).strict());

/** api → planner: stop the job. */
export const JobCancelRequested = messageKind('job.cancel', 1, z.object({ reason: z.string().max(500).default('cancelled by client') }).strict());

/**
 * api → planner: run a job that awaits approval, with its plan or an edited one (checked
 * as the first was). One message per job: a second approval is a duplicate.
 */
export const JobApproved = messageKind('job.approve', 1, z.object({ plan: z.array(PlanStepSpecSchema).min(1).max(MAX_PLAN_STEPS).optional() }).strict());

const stepAttempt = { stepId: z.string(), attempt: z.number().int().positive() };

/** What a task is: the attempt, the capability and subnet it hires for, its schema and (resolved) input. */
const stepTask = {
  ...stepAttempt,
  capability: z.string(),
  netuid: z.number().int().nonnegative(),
  schemaId: z.string(),
  input: z.unknown(),
};

/**
 * Other sources called for this attempt (hedges), which the step must not hire again: by source
 * key (`axon:uid7`, `chutes:<model>`), and for axon sources also by UID (what older planners read).
 */
const hedged = { hedgedUids: z.array(z.number().int().nonnegative()).default([]), hedgedSources: z.array(z.string().max(400)).max(64).optional() };

/**
 * Who answered and what it cost. Messages written before providers lack these and were all
 * miner hires: `axon`, the source then being the UID's (sourceKeyOf), nothing in USD. Optional
 * rather than defaulted, so older writers' messages and records type-check as they are.
 */
const bought = {
  /** Absent: `axon`. */
  provider: ProviderIdSchema.optional(),
  /** The model, endpoint, platform or `uid<N>` hired; null or absent when nobody was (or, before providers, see `uid`). */
  source: SourceIdSchema.nullable().optional(),
  costTao: z.number().nonnegative(),
  /** The cost in USD: what a gateway charged, or a miner hire's TAO at ORCH_TAO_USD_RATE; absent: 0. */
  costUsd: z.number().nonnegative().optional(),
};

/** planner → dispatcher: hire a source (a gateway's model or a miner) for this attempt of a step. `input` is fully resolved. */
export const TaskReady = messageKind(
  'task.ready',
  1,
  z
    .object({
      ...stepTask,
      /** UIDs already tried for this step: never hire them again for it. */
      excludeUids: z.array(z.number().int().nonnegative()),
      /** Sources already tried for this step, by source key (`chutes:<model>`, `axon:uid7`): never hire them again for it. */
      excludeSources: z.array(z.string().max(400)).max(256).optional(),
      /** The step's subnet was chosen by the plan (`netuid` given): hire only from providers of that subnet. */
      netuidPinned: z.boolean().optional(),
      /** Skip this many of the best remaining UIDs (parallel attempts of a quorum step each take their own). */
      rankOffset: z.number().int().nonnegative().default(0),
      /** Hire this UID first if it is eligible: the re-ask of a step with `reask: same`. */
      preferUid: z.number().int().nonnegative().optional(),
      /** Hire this source first if it is eligible (source key): the re-ask of a step with `reask: same`. */
      preferSource: z.string().max(400).optional(),
      /** Why earlier attempts were rejected, for the re-ask. */
      feedback: z.array(z.string()),
      deadlineAt: z.iso.datetime(),
    })
    .strict(),
);

/** dispatcher → verifier: what a miner answered (or why there was no answer). */
export const TaskResult = messageKind(
  'task.result',
  1,
  z
    .object({
      // The task's input too, for checks that compare the answer with the question.
      ...stepTask,
      /** The miner's UID for axon sources; null for gateway sources and when nobody could be hired. */
      uid: z.number().int().nonnegative().nullable(),
      hotkey: z.string().nullable(),
      /** The hotkey's owner on chain. */
      coldkey: z.string().nullable().default(null),
      ok: z.boolean(),
      /** Dendrite-style status code: 200 answered, 408 timeout, 503 unreachable, … 0 when nobody was hired. */
      statusCode: z.number().int(),
      statusMessage: z.string(),
      /**
       * Why the call gave no usable answer, when !ok (the dispatcher's CallFault: `timeout`,
       * `too_large`, `bad_response`…), so the verifier can tell an oversized answer from others.
       */
      fault: z.string().max(64).optional(),
      raw: z.string().optional(),
      /**
       * Set when the dispatcher's hedge race already ran the verifier's checks on `raw` and they
       * passed: the SHA-256 (hex) of `raw` they passed on. The verifier then skips only the
       * Python parse, and only when the digest matches the `raw` it received.
       */
      prechecked: z
        .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) })
        .strict()
        .optional(),
      latencyMs: z.number().nonnegative(),
      ...bought,
      ...hedged,
    })
    .strict(),
);

/** verifier → planner: this attempt's output is schema-valid; here it is. */
export const StepVerified = messageKind(
  'step.verified',
  1,
  z
    .object({
      ...stepAttempt,
      /** Axon sources only (null for gateway sources). */
      uid: z.number().int().nonnegative().nullable(),
      hotkey: z.string().nullable(),
      coldkey: z.string().nullable().default(null),
      /** The subnet the answer was bought from. */
      netuid: z.number().int().nonnegative(),
      output: z.unknown(),
      latencyMs: z.number().nonnegative(),
      ...bought,
      ...hedged,
    })
    .strict(),
);

/**
 * Why an attempt was rejected: nobody to hire, the miner failed, its output was not JSON, the JSON
 * had the wrong shape, or the right shape but did not answer the input (`semantic`). `unverifiable`:
 * the verifier could not run a check (python3 missing, invalid task input) — a configuration
 * problem, not the miner's fault, that no other miner can fix, so the planner does not retry it.
 */
export const REJECTION_KINDS = ['no_candidate', 'miner_error', 'too_large', 'not_json', 'schema', 'semantic', 'unverifiable'] as const;

/** verifier → planner: this attempt failed; the planner decides whether to retry elsewhere. */
export const StepRejected = messageKind(
  'step.rejected',
  1,
  z
    .object({
      ...stepAttempt,
      uid: z.number().int().nonnegative().nullable(),
      hotkey: z.string().nullable(),
      kind: z.enum(REJECTION_KINDS),
      reason: z.string(),
      errors: z.array(z.string()),
      latencyMs: z.number().nonnegative(),
      /** The subnet the answer was bought from (absent before providers: the step's). */
      netuid: z.number().int().nonnegative().optional(),
      ...bought,
      ...hedged,
    })
    .strict(),
);

/** What a job's progress stream says. Each service emits the events of its own actions. */
export const JOB_EVENT_TYPES = [
  'job.accepted',
  'job.planned',
  /** Planned and waiting for `POST /v1/jobs/:id/approve`. */
  'job.awaiting_approval',
  'job.approved',
  /** A dry run's end: the plan and its estimate, nobody hired. */
  'job.dry_run',
  'step.dispatched',
  'step.hired',
  'step.answered',
  'step.rejected',
  'step.retrying',
  'step.verified',
  'step.quorum',
  'step.failed',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];
export const TERMINAL_JOB_EVENTS: readonly JobEventType[] = ['job.dry_run', 'job.succeeded', 'job.failed', 'job.cancelled'];

/** A progress event: a sentence for people plus the structured facts behind it. */
export const JobEvent = messageKind(
  'job.event',
  1,
  z
    .object({
      event: z.enum(JOB_EVENT_TYPES),
      service: z.string(),
      message: z.string(),
      stepId: z.string().optional(),
      attempt: z.number().int().positive().optional(),
      uid: z.number().int().nonnegative().optional(),
      /** The provider and source an event about a hire names. */
      provider: ProviderIdSchema.optional(),
      source: SourceIdSchema.optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
);
export type JobEventPayload = z.infer<typeof JobEvent.payload>;

/**
 * The `consumer` of dead letters that record a failed step (every attempt exhausted)
 * rather than an undeliverable message. They are for reading: the step's job has ended.
 */
export const FAILED_STEP_LETTERS = 'steps';

/**
 * A message that could not be handled, kept with the reason (the dead-letter record).
 *
 * Version 2 refers to the original by its stream and sequence and keeps only a bounded
 * excerpt of it, so a letter always fits a message whatever the original's size (version 1
 * embedded the whole body as an escaped string, larger than the original: a big poison
 * message could not be dead-lettered at all). Replay reads the original from its stream.
 */
export const DeadLetter = messageKind(
  'dead.letter',
  2,
  z
    .object({
      consumer: z.string(),
      subject: z.string(),
      /** The stream holding the original message; empty when there is none (a failed-step record). */
      stream: z.string(),
      streamSequence: z.number().int().nonnegative(),
      deliveries: z.number().int().nonnegative(),
      reason: z.string(),
      /** Size of the original body, bytes. */
      bytes: z.number().int().nonnegative(),
      /** The start of the original body as text, at most `deadLetterExcerptChars` (plus a truncation marker). */
      excerpt: z.string(),
    })
    .strict(),
);
export type DeadLetterPayload = z.infer<typeof DeadLetter.payload>;

/** Dead letters written before version 2 (whole body inline); still listed and shown, replayed from their body. */
export const DeadLetterV1 = messageKind(
  'dead.letter',
  1,
  z
    .object({
      consumer: z.string(),
      subject: z.string(),
      streamSequence: z.number().int().nonnegative(),
      deliveries: z.number().int().nonnegative(),
      reason: z.string(),
      body: z.string(),
      truncated: z.boolean(),
    })
    .strict(),
);

/**
 * A dead letter's payload with its texts bounded: the excerpt to `deadLetterExcerptChars`,
 * the reason to `reasonChars` (the one place that decides what a letter may hold).
 */
export function deadLetterPayload(
  letter: Omit<DeadLetterPayload, 'excerpt' | 'bytes' | 'reason'> & { reason: string; body: string },
  limits: Pick<SizeLimits, 'deadLetterExcerptChars' | 'textLimitChars'> = DEFAULT_LIMITS,
): DeadLetterPayload {
  const { body, reason, ...rest } = letter;
  // A failed step's reason lists every attempt's; a few texts' worth keeps that readable.
  return { ...rest, reason: truncateText(reason, limits.textLimitChars * 4), bytes: utf8Bytes(body), excerpt: truncateText(body, limits.deadLetterExcerptChars) };
}

/**
 * Builds a progress event. Its id is `job.event:<jobId>:<event>:<stepId>:<attempt>`, so
 * an event re-emitted after a crash is deduplicated by the events stream.
 */
export function jobEvent(jobId: string, payload: JobEventPayload): Envelope<'job.event', JobEventPayload> {
  return envelope(JobEvent, jobId, payload, [payload.event, payload.stepId ?? '-', payload.attempt ?? 0]);
}
