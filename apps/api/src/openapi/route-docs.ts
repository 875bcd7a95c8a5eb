import { JOB_STATUSES, JobApproved, JobCancelRequested, JobIdSchema, JobStateSchema } from '@orchestra/contracts';
import { z } from 'zod';
import { ApiKeyRecordSchema, KeyIdSchema, type Scope } from '../keys';
import { LIST_MAX_LIMIT } from '../jobs.service';
import { SubmitJobBodySchema } from '../submission';
import { SubnetsViewSchema } from '../subnets';
import { TenantQuotasPatchSchema, TenantQuotasSchema, TenantSchema } from '../tenants';
import { CreateKeyBodySchema } from '../tenants.controller';

/**
 * What the OpenAPI document says about each route the API registers: one entry per
 * `METHOD /fastify/url`. The document is generated from the routes Fastify actually
 * registered (openapi.ts), so a route added to a controller without an entry here makes
 * the spec test fail naming it: document its schemas here, and it is in the spec.
 */

/** A named schema: it becomes `#/components/schemas/<name>`. */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

/** A parameter (path, query or header). */
export interface ParamDoc {
  readonly description: string;
  readonly schema: z.ZodType;
  readonly required?: boolean;
}

/** A non-problem response. `body` absent: no body (204) or a body that is not JSON (`contentType`). */
export interface ResponseDoc {
  readonly description: string;
  readonly body?: NamedSchema;
  /** Media type when it is not `application/json`. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tag: 'jobs' | 'admin' | 'usage' | 'schemas' | 'health' | 'docs' | 'subnets';
  /** The scope the route needs, or `public` (no key). */
  readonly scope: Scope | 'public';
  readonly path?: Readonly<Record<string, ParamDoc>>;
  readonly query?: Readonly<Record<string, ParamDoc>>;
  readonly headers?: Readonly<Record<string, ParamDoc>>;
  /** A JSON request body; `required: false` for routes that accept none. */
  readonly body?: NamedSchema & { readonly required: boolean };
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /**
   * The problem types (slugs) the route answers itself, by status (400 `validation-error`
   * for a parameter it validates). Those of authentication and of reading a JSON body are
   * added by the generator.
   */
  readonly problems?: Readonly<Record<number, readonly string[]>>;
}

// Response bodies. They describe what the handlers return; the spec test checks real answers against them.

const JobLinksSchema = z.object({ self: z.string(), events: z.string(), cancel: z.string() });
const JobAcceptedSchema = z.object({ jobId: JobIdSchema, status: z.enum(JOB_STATUSES), links: JobLinksSchema });
const JobActionSchema = z.object({ jobId: JobIdSchema, status: z.enum(['cancel_requested', 'approve_requested']), links: JobLinksSchema });
const QueuedJobSchema = z.object({ jobId: JobIdSchema, status: z.literal('queued'), goal: z.string(), submittedAt: z.iso.datetime() });
const JobViewSchema = z.union([JobStateSchema, QueuedJobSchema]);
const JobSummarySchema = z.object({
  jobId: JobIdSchema,
  status: z.enum(JOB_STATUSES),
  goal: z.string(),
  submittedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime().optional(),
  spend: JobStateSchema.shape.spend.optional(),
  error: JobStateSchema.shape.error,
});
const JobListSchema = z.object({ tenant: TenantSchema, jobs: z.array(JobSummarySchema), nextCursor: JobIdSchema.optional() });
const JobDeletedSchema = z.object({ jobId: JobIdSchema, deleted: z.literal(true) });
const ApiKeyViewSchema = ApiKeyRecordSchema.omit({ sha256: true });
const ApiKeyCreatedSchema = ApiKeyViewSchema.extend({ key: z.string() });
const TenantViewSchema = z.object({
  tenant: TenantSchema,
  quotas: TenantQuotasSchema,
  overrides: TenantQuotasPatchSchema,
  updatedAt: z.iso.datetime().optional(),
  updatedBy: z.string().optional(),
});
const AmountsSchema = z.object({ tao: z.number() });
const UsageSchema = z.object({
  tenant: TenantSchema,
  running: z.number().int().nonnegative(),
  days: z.array(z.object({ day: z.string(), jobs: z.number().int().nonnegative(), spent: AmountsSchema, reserved: AmountsSchema })),
});
const HealthSchema = z.object({ status: z.literal('ok') });
const ReadySchema = z.object({ ready: z.boolean(), checks: z.object({ nats: z.string() }) });

const jobId: Record<string, ParamDoc> = { id: { description: 'The job id `POST /v1/jobs` returned.', schema: JobIdSchema, required: true } };
const tenantParam: Record<string, ParamDoc> = { tenant: { description: 'The tenant (1-64 of a-z, 0-9, _ and -).', schema: TenantSchema, required: true } };
const otherTenant: Record<string, ParamDoc> = { tenant: { description: "Admins only: another tenant's (default: the key's own).", schema: TenantSchema } };
const badParameter = { 400: ['validation-error'] };
const jobNotFound = { ...badParameter, 404: ['job-not-found'] };

export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  'POST /v1/jobs': {
    tag: 'jobs',
    scope: 'submit',
    summary: 'Submit a job',
    description:
      'A goal, optionally with inputs, an explicit plan, limits, an output schema, `dryRun` (plan and estimate only) or `approval: "required"` (wait for POST /v1/jobs/{id}/approve). Within the tenant\'s quotas.',
    headers: { 'Idempotency-Key': { description: 'Same key and body within 24 hours: the same job (200 instead of 202).', schema: z.string().min(1).max(255) } },
    body: { name: 'SubmitJobRequest', schema: SubmitJobBodySchema, required: true },
    responses: {
      202: { description: 'Accepted: the job is queued.', body: { name: 'JobAccepted', schema: JobAcceptedSchema }, headers: { Location: 'The job: /v1/jobs/{id}' } },
      200: { description: 'An Idempotency-Key replay: the job the first request created.', body: { name: 'JobAccepted', schema: JobAcceptedSchema } },
    },
    problems: {
      422: ['limit-exceeds-cap', 'job-record-too-large', 'idempotency-key-reused'],
      429: ['rate-limited', 'too-many-concurrent-jobs', 'daily-spend-exhausted', 'deployment-spend-exhausted'],
    },
  },
  'GET /v1/jobs': {
    tag: 'jobs',
    scope: 'read',
    summary: "List the tenant's jobs, newest first",
    query: {
      status: { description: 'Only jobs in this status.', schema: z.enum(JOB_STATUSES) },
      limit: { description: `Page size (1-${LIST_MAX_LIMIT}, default 20).`, schema: z.string().regex(/^\d+$/) },
      cursor: { description: "A page's `nextCursor`; follow it until absent (a filtered page may be short).", schema: JobIdSchema },
      ...otherTenant,
    },
    responses: { 200: { description: 'A page of jobs.', body: { name: 'JobList', schema: JobListSchema } } },
    problems: badParameter,
  },
  'GET /v1/jobs/:id': {
    tag: 'jobs',
    scope: 'read',
    summary: 'Read a job',
    description: "Status, plan with each step's attempts, result, error and spend; `queued` while only the submission exists.",
    path: jobId,
    responses: { 200: { description: 'The job.', body: { name: 'Job', schema: JobViewSchema } } },
    problems: jobNotFound,
  },
  'DELETE /v1/jobs/:id': {
    tag: 'jobs',
    scope: 'cancel',
    summary: "Delete a finished job's record, outputs, events and Idempotency-Key",
    path: jobId,
    responses: { 200: { description: 'Deleted.', body: { name: 'JobDeleted', schema: JobDeletedSchema } } },
    problems: { ...jobNotFound, 409: ['job-not-finished'] },
  },
  'GET /v1/jobs/:id/events': {
    tag: 'jobs',
    scope: 'read',
    summary: "Follow a job's progress (Server-Sent Events)",
    description:
      'Each event is `id: <seq>`, `event: <type>`, `data: <the event envelope as JSON>`; the stream ends after the terminal event. Resume with `Last-Event-ID` (or `?lastEventId=`).',
    path: jobId,
    headers: { 'Last-Event-ID': { description: 'The id of the last event received.', schema: z.string().regex(/^\d+$/) } },
    query: { lastEventId: { description: 'Same as the Last-Event-ID header, for clients that cannot set headers.', schema: z.string().regex(/^\d+$/) } },
    responses: {
      200: { description: 'The event stream.', contentType: 'text/event-stream' },
      204: { description: 'The job has finished and the client has seen its end: nothing more to send.' },
    },
    problems: jobNotFound,
  },
  'POST /v1/jobs/:id/cancel': {
    tag: 'jobs',
    scope: 'cancel',
    summary: 'Cancel a job',
    path: jobId,
    body: { name: 'CancelRequest', schema: JobCancelRequested.payload, required: false },
    responses: { 202: { description: 'Cancellation requested.', body: { name: 'JobAction', schema: JobActionSchema } } },
    problems: jobNotFound,
  },
  'POST /v1/jobs/:id/approve': {
    tag: 'jobs',
    scope: 'submit',
    summary: 'Approve a job waiting at awaiting_approval',
    description:
      '`{}` runs the plan as shown; `{ "plan": [...] }` runs an edited one (checked as any plan: an invalid one leaves the job waiting, its reasons in `rejectedPlans`).',
    path: jobId,
    body: { name: 'ApproveRequest', schema: JobApproved.payload, required: true },
    responses: { 202: { description: 'Approval requested.', body: { name: 'JobAction', schema: JobActionSchema } } },
    problems: { ...jobNotFound, 409: ['not-awaiting-approval'] },
  },
  'GET /v1/usage': {
    tag: 'usage',
    scope: 'read',
    summary: "The tenant's jobs and spend (settled and reserved) per UTC day",
    query: otherTenant,
    responses: { 200: { description: 'Usage per day, newest first.', body: { name: 'Usage', schema: UsageSchema } } },
    problems: badParameter,
  },
  'GET /v1/subnets': {
    tag: 'subnets',
    scope: 'read',
    summary: 'Who each capability is bought from',
    description:
      "Per capability, its providers in order and each one's best sources: a subnet's top miners by incentive (with our axon access), a gateway's sources by Orchestra's own record of them (decayed calls, answers, acceptances, latency).",
    responses: { 200: { description: 'The providers and sources per capability.', body: { name: 'Subnets', schema: SubnetsViewSchema } } },
  },
  'POST /v1/keys': {
    tag: 'admin',
    scope: 'admin',
    summary: 'Issue an API key',
    body: { name: 'CreateKeyRequest', schema: CreateKeyBodySchema, required: true },
    responses: { 201: { description: 'The key, shown this once.', body: { name: 'ApiKeyCreated', schema: ApiKeyCreatedSchema } } },
  },
  'GET /v1/keys': {
    tag: 'admin',
    scope: 'admin',
    summary: 'List API keys (never the keys themselves)',
    query: { tenant: { description: "Only this tenant's keys.", schema: TenantSchema } },
    responses: { 200: { description: 'The keys.', body: { name: 'ApiKeyList', schema: z.object({ keys: z.array(ApiKeyViewSchema) }) } } },
    problems: badParameter,
  },
  'DELETE /v1/keys/:id': {
    tag: 'admin',
    scope: 'admin',
    summary: 'Revoke an API key',
    path: { id: { description: 'The key id (16 hex digits).', schema: KeyIdSchema, required: true } },
    responses: { 200: { description: 'The revoked key.', body: { name: 'ApiKey', schema: ApiKeyViewSchema } } },
    problems: { ...badParameter, 404: ['key-not-found'], 409: ['bootstrap-key'] },
  },
  'GET /v1/tenants/:tenant': {
    tag: 'admin',
    scope: 'admin',
    summary: "A tenant's quotas in force",
    path: tenantParam,
    responses: { 200: { description: 'The quotas, and which an admin set.', body: { name: 'Tenant', schema: TenantViewSchema } } },
    problems: badParameter,
  },
  'PUT /v1/tenants/:tenant': {
    tag: 'admin',
    scope: 'admin',
    summary: "Merge changes into a tenant's quotas",
    path: tenantParam,
    body: { name: 'TenantQuotasPatch', schema: TenantQuotasPatchSchema, required: true },
    responses: { 200: { description: 'The quotas now in force.', body: { name: 'Tenant', schema: TenantViewSchema } } },
  },
  'GET /v1/schemas': {
    tag: 'schemas',
    scope: 'public',
    summary: 'The output schema ids',
    responses: { 200: { description: 'Every id, e.g. `data.financials@2`.', body: { name: 'SchemaList', schema: z.object({ schemas: z.array(z.string()) }) } } },
  },
  'GET /v1/schemas/:id': {
    tag: 'schemas',
    scope: 'public',
    summary: 'One output schema (JSON Schema 2020-12)',
    path: { id: { description: 'A schema id from GET /v1/schemas.', schema: z.string(), required: true } },
    responses: { 200: { description: 'The JSON Schema.', contentType: 'application/schema+json' } },
    problems: { 404: ['schema-not-found'] },
  },
  'GET /healthz': {
    tag: 'health',
    scope: 'public',
    summary: 'Liveness',
    responses: { 200: { description: 'The process serves requests.', body: { name: 'Health', schema: HealthSchema } } },
  },
  'GET /readyz': {
    tag: 'health',
    scope: 'public',
    summary: 'Readiness',
    responses: {
      200: { description: 'Connected to NATS: submissions can be accepted.', body: { name: 'Readiness', schema: ReadySchema } },
      503: { description: 'Not connected to NATS.', body: { name: 'Readiness', schema: ReadySchema } },
    },
  },
  'GET /openapi.json': {
    tag: 'docs',
    scope: 'public',
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'The OpenAPI document.', contentType: 'application/json' } },
  },
  'GET /docs': {
    tag: 'docs',
    scope: 'public',
    summary: 'This document as a page',
    responses: { 200: { description: 'A self-contained HTML page rendering /openapi.json.', contentType: 'text/html' } },
  },
};
