import { createHash } from 'node:crypto';
import { ApprovalSchema, JobLimitsSchema, JobSpecSchema, MAX_PLAN_STEPS, PlanStepSpecSchema, SizeLimits } from '@orchestra/contracts';
import { canonicalJson, compileClientSchema } from '@orchestra/schemas';
import { z } from 'zod';
import { JSON_MEDIA_TYPE } from './body';
import { FieldError, bodyFieldErrors, unsupportedMediaType, validationProblem } from './problem';
import { assertRecordFits } from './record-budget';

/**
 * The body of `POST /v1/jobs`, before defaults: the client-facing part of JobSpec.
 * Unknown fields are rejected so a typo (`limit` for `limits`) is not silently ignored.
 */
export const SubmitJobBodySchema = z
  .object({
    goal: JobSpecSchema.shape.goal,
    inputs: z.record(z.string(), z.unknown()).optional(),
    plan: z.array(PlanStepSpecSchema).min(1).max(MAX_PLAN_STEPS).optional(),
    limits: JobLimitsSchema.partial().optional(),
    /** A JSON Schema (draft 2020-12) the job's `result.output` must conform to: compiled here, 400 when it is not one. */
    outputSchema: z.record(z.string(), z.unknown()).optional(),
    /** Plan and estimate only, nobody hired: the job ends `planned`. */
    dryRun: z.boolean().optional(),
    /** `required`: the job waits at `awaiting_approval` with its plan until `POST /v1/jobs/:id/approve`. */
    approval: ApprovalSchema.optional(),
  })
  .strict();
export type SubmitJobBody = z.infer<typeof SubmitJobBodySchema>;

/** Header carrying the client's idempotency key. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

const MAX_IDEMPOTENCY_KEY = 255;

/** A validated submission request (its tenant is the caller's, from the API key). */
export interface SubmitRequest {
  readonly tenant: string;
  readonly idempotencyKey: string | undefined;
  readonly body: SubmitJobBody;
  /** sha256 of the body's canonical JSON: what "the same request" means for idempotency. */
  readonly bodyHash: string;
}

/**
 * Validates the headers and body of a submission, collecting every problem at once so
 * the client can fix them in one go. Throws a 400 ApiProblem naming each bad field, or a
 * 422 naming the largest field when the job's record could not fit its budget.
 */
export function parseSubmitRequest(
  tenant: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: unknown,
  limits: Pick<SizeLimits, 'recordBudgetBytes' | 'inlineOutputBytes'>,
): SubmitRequest {
  const idempotencyKey = singleHeader(headers[IDEMPOTENCY_HEADER]);
  const errors: FieldError[] = [];
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    errors.push({ header: 'Idempotency-Key', detail: `idempotency keys are 1-${MAX_IDEMPOTENCY_KEY} characters` });
  }
  const parsed = SubmitJobBodySchema.safeParse(rawBody);
  if (!parsed.success) errors.push(...bodyFieldErrors(parsed.error));
  else if (parsed.data.outputSchema) {
    // A stranger's schema: bounded and compiled now, so a job is never accepted with one that cannot judge its output.
    const compiled = compileClientSchema(parsed.data.outputSchema);
    if (!compiled.ok) errors.push(...compiled.errors.map((detail) => ({ pointer: '/outputSchema', detail })));
  }
  if (errors.length > 0 || !parsed.success) {
    const fields = errors.map((e) => (e.pointer === undefined ? e.header : e.pointer || 'the body')).join(', ');
    throw validationProblem(`The job request is invalid at ${fields}; fix these fields and resubmit.`, errors);
  }
  assertRecordFits(parsed.data, limits);
  return { tenant, idempotencyKey, body: parsed.data, bodyHash: sha256Hex(canonicalJson(rawBody)) };
}

/** Rejects a request whose body is not declared JSON (including one with no body and no Content-Type). */
export function requireJson(contentType: string | undefined): void {
  const type = contentType?.split(';')[0].trim() ?? '';
  if (!JSON_MEDIA_TYPE.test(type)) throw unsupportedMediaType();
}

/** sha256 of a string, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
