import { z } from 'zod';

/** Who produced a step's accepted output, and what it cost. */
export const ProvenanceSchema = z
  .object({
    stepId: z.string(),
    capability: z.string(),
    schemaId: z.string(),
    /** The subnet the output was bought from. */
    netuid: z.number().int().nonnegative(),
    /** Where it was bought (`axon`, `chutes`, `desearch`, `constellation`) and from which source (model, endpoint, `uid<N>`). */
    provider: z.enum(['axon', 'chutes', 'desearch', 'constellation']).optional(),
    source: z.string().optional(),
    /** Axon sources only. */
    uid: z.number().int().nonnegative().optional(),
    hotkey: z.string().optional(),
    attempt: z.number().int().positive(),
    latencyMs: z.number().nonnegative(),
    costTao: z.number().nonnegative(),
    costUsd: z.number().nonnegative().optional(),
  })
  .strict();

/**
 * The assembled, verified result of a job. `outputs` holds each step's accepted output,
 * already validated against that step's schema (`provenance[].schemaId`).
 */
export const ReportSchema = z
  .object({
    jobId: z.string().min(1),
    goal: z.string().min(1),
    completedAt: z.iso.datetime(),
    outputs: z.record(z.string(), z.unknown()),
    /** The job's output: its final step's (or each final step's, by id); what a client's `outputSchema` judges. */
    output: z.unknown().optional(),
    /** Empty only for a plan whose every step fanned out over an empty list. */
    provenance: z.array(ProvenanceSchema),
    spend: z
      .object({ totalTao: z.number().nonnegative(), budgetTao: z.number().positive(), totalUsd: z.number().nonnegative().optional(), budgetUsd: z.number().positive().optional() })
      .strict(),
  })
  .strict();
export type Report = z.infer<typeof ReportSchema>;
