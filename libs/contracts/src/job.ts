import { z } from 'zod';
import { PROVIDER_IDS, ProviderIdSchema, SourceIdSchema } from './sources';

/** A job id: `job_` + 26 base32 characters (time-ordered), or a client-chosen id of the same alphabet. */
export const JobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'job ids use letters, digits, _ and - (at most 64)');

/** A step id within a plan: short, stable, usable in a JSON pointer. */
export const StepIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'step ids are lower-case identifiers (a-z, 0-9, _ -), at most 32 characters');

/**
 * A step's input is JSON in which any object of the form `{ "$ref": "<pointer>" }` is
 * replaced, just before dispatch, by the value at that JSON pointer: `/inputs/...` for
 * the job's inputs, `/steps/<id>/output/...` for a verified output of a step it depends on.
 */
export const RefSchema = z.object({ $ref: z.string().regex(/^\/(inputs|item|steps\/[a-z][a-z0-9_-]*\/output)(\/.*)?$/) }).strict();

/**
 * Fan-out: the step runs once per item of the array at `$ref` (a dependency's output or the
 * job's inputs), at most MAX_FAN_OUT times; in its input `{ "$ref": "/item/..." }` reads the
 * item. Steps that depend on it wait for every run and read its output as the array of the
 * runs' outputs, in the items' order (fan-in).
 */
export const ForEachSchema = RefSchema;
export type ForEach = z.infer<typeof ForEachSchema>;

/** Most runs of one fan-out step: beyond it the step fails, naming the list and its length. */
export const MAX_FAN_OUT = 20;

/**
 * k-of-n agreement: the step is verified once `agree` accepted answers agree under the
 * named checker (libs/schemas AGREEMENT_CHECKERS: `same-rows`, `same-citations`,
 * `same-json`); n is the step's `maxAttempts`. Miners whose answers lose lose reputation.
 */
export const QuorumSchema = z
  .object({
    agree: z.number().int().min(2).max(5),
    checker: z.enum(['same-rows', 'same-citations', 'same-json']),
  })
  .strict();
export type Quorum = z.infer<typeof QuorumSchema>;

export const ReaskSchema = z.enum(['next', 'same']);

/** One step of a client-supplied plan. */
export const PlanStepSpecSchema = z
  .object({
    id: StepIdSchema,
    capability: z.string().min(1).max(100),
    /** Subnet to hire on; defaults to the capability's configured subnet. */
    netuid: z.number().int().min(0).max(65535).optional(),
    input: z.unknown(),
    deps: z.array(StepIdSchema).default([]),
    /** Attempts before the step fails; defaults to the job's `maxAttemptsPerStep`. */
    maxAttempts: z.number().int().min(1).max(20).optional(),
    /** Require this many agreeing answers (from miners of distinct coldkeys) before the step is verified. */
    quorum: QuorumSchema.optional(),
    /**
     * Who is re-asked after an answer is rejected for its content (not JSON, wrong shape,
     * failed semantic check): `next` (default) the next-best UID; `same` the same miner once
     * more, with the errors, before moving on.
     */
    reask: ReaskSchema.optional(),
    /** Run once per item of this array (fan-out); see ForEachSchema. */
    forEach: ForEachSchema.optional(),
  })
  .strict();
export type PlanStepSpec = z.infer<typeof PlanStepSpecSchema>;

/** Steps a plan may have at most. */
export const MAX_PLAN_STEPS = 64;

/**
 * `plan@1`: a plan as a planning model returns it (and as a client may submit or approve it).
 * Checked structurally by the planner before anything is hired.
 */
export const PLAN_SCHEMA_ID = 'plan@1';
export const PlanSchema = z.object({ steps: z.array(PlanStepSpecSchema).min(1).max(MAX_PLAN_STEPS) }).strict();
export type Plan = z.infer<typeof PlanSchema>;

/** `approval: "required"`: the job stops at `awaiting_approval` with its plan until approved (or cancelled). */
export const ApprovalSchema = z.enum(['none', 'required']);

/** Limits every job runs under. A job that would exceed one fails with that reason. */
export const JobLimitsSchema = z
  .object({
    maxTao: z.number().positive().max(1_000_000).default(1),
    /** Spend in USD (what gateways charge; miner hires are counted at ORCH_TAO_USD_RATE); no USD budget when absent. */
    maxUsd: z.number().positive().max(1_000_000).optional(),
    maxAttemptsPerStep: z.number().int().min(1).max(20).default(4),
    /** Time from submission after which the job fails with reason `deadline`. */
    deadlineMs: z.number().int().min(1_000).max(86_400_000).default(300_000),
    /** Miner calls the job may make in all, hedges included; the job fails with `budget_exceeded` beyond it. */
    maxMinerCalls: z.number().int().min(1).max(10_000).default(32),
    /**
     * Providers the job must not buy from (`axon`, `chutes`, `desearch`, `constellation`): the
     * client's own and its tenant's `excludedProviders`, joined by the api. The dispatcher hires
     * none of their sources; a step only they sell fails with nobody to hire, saying so. Absent
     * when empty, so records stay as they were for jobs that exclude nothing.
     */
    excludedProviders: z.array(ProviderIdSchema).max(PROVIDER_IDS.length).optional(),
  })
  .strict();
export type JobLimits = z.infer<typeof JobLimitsSchema>;

/** What a client asked for: the body of `POST /v1/jobs`, after validation and defaults. */
export const JobSpecSchema = z
  .object({
    jobId: JobIdSchema,
    tenant: z.string().min(1).max(64),
    goal: z.string().trim().min(1).max(4000),
    inputs: z.record(z.string(), z.unknown()).default({}),
    plan: z.array(PlanStepSpecSchema).min(1).max(MAX_PLAN_STEPS).optional(),
    limits: JobLimitsSchema,
    submittedAt: z.iso.datetime(),
    /** A JSON Schema (checked by the api: size, depth, compiles) the job's `result.output` must conform to. */
    outputSchema: z.record(z.string(), z.unknown()).optional(),
    /** Plan and estimate only: the job ends `planned` without hiring anyone. */
    dryRun: z.boolean().optional(),
    approval: ApprovalSchema.optional(),
  })
  .strict();
export type JobSpec = z.infer<typeof JobSpecSchema>;

/**
 * `awaiting_approval`: planned, waiting for `POST /v1/jobs/:id/approve` (its deadline not yet
 * running); `planned`: a dry run's end, the plan and its estimate without hiring anyone.
 */
export const JOB_STATUSES = ['queued', 'awaiting_approval', 'running', 'planned', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['planned', 'succeeded', 'failed', 'cancelled'];

/** One try at a step: which source (a gateway's model or endpoint, or a miner UID) was hired and what became of it. */
export const AttemptStateSchema = z.object({
  attempt: z.number().int().positive(),
  /** `outvoted`: accepted by the verifier, but outvoted by a quorum that agreed on another answer. */
  status: z.enum(['dispatched', 'rejected', 'verified', 'outvoted']),
  /** For parallel attempts of a quorum step: hire the n-th best untried UID, so they do not pick the same one. */
  rankOffset: z.number().int().nonnegative().default(0),
  dispatchedAt: z.iso.datetime(),
  /** Where it was bought (absent in records written before providers: those were all `axon`). */
  provider: ProviderIdSchema.optional(),
  /** The model, endpoint, platform or `uid<N>` hired. */
  source: SourceIdSchema.optional(),
  /** The subnet it was bought from (64 for Chutes, 22 Desearch, 13 Constellation, the step's for axons); absent before providers: the step's. */
  netuid: z.number().int().nonnegative().optional(),
  /** Set for axon sources only. */
  uid: z.number().int().nonnegative().optional(),
  hotkey: z.string().optional(),
  /** One line: why it was rejected (miner fault or validation failure). */
  reason: z.string().optional(),
  /** The verifier's rejection kind (not_json, schema, semantic, miner_error, …). */
  rejectedAs: z.string().optional(),
  /** Validation errors, `path: message`, fed back to the next miner. */
  errors: z.array(z.string()).optional(),
  latencyMs: z.number().nonnegative().optional(),
  costTao: z.number().nonnegative().optional(),
  /** The same cost in USD: what a gateway charged, or a miner hire's TAO at ORCH_TAO_USD_RATE. */
  costUsd: z.number().nonnegative().optional(),
  /** Other UIDs the dispatcher called for this attempt (hedges): excluded from later attempts. */
  hedgedUids: z.array(z.number().int().nonnegative()).default([]),
  /** Every other source called for this attempt (hedges), by source key (`axon:uid7`, `chutes:<model>`): excluded from later attempts, counted as calls. */
  hedgedSources: z.array(z.string()).optional(),
  /** Owner of the hired hotkey: miners under one coldkey count once in a quorum. */
  coldkey: z.string().optional(),
  /** A quorum step's accepted answer and its agreement fingerprint, kept until the vote is decided. */
  output: z.unknown().optional(),
  fingerprint: z.string().optional(),
});
export type AttemptState = z.infer<typeof AttemptStateSchema>;

/** A run of a fan-out step is `<parent>[<index>]`. */
export const RunStepIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}(\[\d{1,3}\])?$/, 'step ids are lower-case identifiers, runs of a fan-out step <id>[<index>]');

/** The id of run `index` of fan-out step `parent`. */
export function runStepId(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

export const StepStateSchema = z.object({
  id: RunStepIdSchema,
  capability: z.string(),
  netuid: z.number().int().nonnegative(),
  /** The plan named `netuid`: only providers of that subnet may serve the step (else any of the capability's providers). */
  netuidPinned: z.boolean().optional(),
  schemaId: z.string(),
  input: z.unknown(),
  deps: z.array(StepIdSchema),
  maxAttempts: z.number().int().positive(),
  status: z.enum(['pending', 'running', 'verified', 'failed']),
  attempts: z.array(AttemptStateSchema),
  output: z.unknown().optional(),
  quorum: QuorumSchema.optional(),
  reask: ReaskSchema.optional(),
  /** A fan-out step: its runs are the steps whose `parent` it is; its output is their outputs' array. */
  forEach: ForEachSchema.optional(),
  /** A run of a fan-out step (id `<parent>[<index>]`), and the index of its item. */
  parent: StepIdSchema.optional(),
  item: z.number().int().nonnegative().optional(),
});
export type StepState = z.infer<typeof StepStateSchema>;

/** Why a job did not succeed: a machine-readable code and a sentence for people. */
export const JobErrorSchema = z.object({
  /** `too_large`: the job's record could not be kept within its size budget (ORCH_RECORD_BUDGET_BYTES). */
  /** `invalid_output`: every step was verified but the result does not conform to the client's `outputSchema`. */
  code: z.enum(['invalid_plan', 'step_failed', 'no_candidates', 'budget_exceeded', 'deadline', 'cancelled', 'too_large', 'invalid_output']),
  message: z.string(),
  stepId: z.string().optional(),
});
export type JobError = z.infer<typeof JobErrorSchema>;

export const PlanSourceSchema = z.enum(['client', 'model', 'playbook']);
export type PlanSource = z.infer<typeof PlanSourceSchema>;

export const RejectedPlanSchema = z
  .object({
    /** `model:<id>`, `client`, `approval` or `playbook:<name>`. */
    by: z.string().max(200),
    reasons: z.array(z.string()).max(20),
  })
  .strict();
export type RejectedPlan = z.infer<typeof RejectedPlanSchema>;

export const PlanEstimateSchema = z
  .object({
    /** Estimated TAO for one accepted answer per step run (fan-outs counted at their known or maximum length). */
    tao: z.number().nonnegative(),
    /** Miner calls that estimate assumes. */
    calls: z.number().int().nonnegative(),
  })
  .strict();
export type PlanEstimate = z.infer<typeof PlanEstimateSchema>;

/**
 * The job record in the jobs KV bucket. The planner is its only writer and updates it
 * only by compare-and-set on the entry's revision.
 */
export const JobStateSchema = z.object({
  jobId: JobIdSchema,
  tenant: z.string(),
  goal: z.string(),
  inputs: z.record(z.string(), z.unknown()),
  limits: JobLimitsSchema,
  status: z.enum(JOB_STATUSES),
  submittedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  deadlineAt: z.iso.datetime(),
  steps: z.array(StepStateSchema),
  spend: z.object({ totalTao: z.number().nonnegative(), totalUsd: z.number().nonnegative().optional() }),
  result: z.unknown().optional(),
  error: JobErrorSchema.optional(),
  /** Where the plan came from: the client's, a planning model's, or a vetted playbook's (after the models' were rejected or unavailable). */
  planSource: PlanSourceSchema.optional(),
  /** Plans rejected on the way, each with the model that made it and every reason. */
  rejectedPlans: z.array(RejectedPlanSchema).max(8).optional(),
  /** The plan's estimated spend before hiring (see the planner's cost estimate). */
  estimate: PlanEstimateSchema.optional(),
  /** The client's JSON Schema for `result.output`, when it gave one. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  dryRun: z.boolean().optional(),
  approval: ApprovalSchema.optional(),
});
export type JobState = z.infer<typeof JobStateSchema>;

/**
 * Calls a job has made, as its attempt records tell: the hired source of every finished
 * attempt plus its hedges, whatever the provider. What `limits.maxMinerCalls` bounds.
 * (Records before providers list hedges as UIDs only; newer ones list them as sources too.)
 */
export function minerCallsOf(steps: readonly StepState[]): number {
  return steps.reduce(
    (sum, s) => sum + s.attempts.reduce((n, a) => n + (a.uid === undefined && a.source === undefined ? 0 : 1) + Math.max(a.hedgedUids.length, a.hedgedSources?.length ?? 0), 0),
    0,
  );
}
