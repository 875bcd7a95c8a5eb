import type { JobLimits, JobState, JobStatus, PlanStepSpecSchema } from '@orchestra/contracts';
import type { z } from 'zod';

/** The wire types of the API (its OpenAPI document at /openapi.json describes each). */

export type { JobLimits, JobStatus };

/** A step of an explicit plan as a client writes it (`deps` may be left out). */
export type PlanStepSpec = z.input<typeof PlanStepSpecSchema>;

/** `POST /v1/jobs`'s body. */
export interface SubmitRequest {
  readonly goal: string;
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly plan?: readonly PlanStepSpec[];
  readonly limits?: Partial<JobLimits>;
  readonly outputSchema?: Readonly<Record<string, unknown>>;
  readonly dryRun?: boolean;
  readonly approval?: 'none' | 'required';
}

export interface JobLinks {
  readonly self: string;
  readonly events: string;
  readonly cancel: string;
}

/** What submitting, cancelling and approving answer. */
export interface JobAccepted {
  readonly jobId: string;
  readonly status: string;
  readonly links: JobLinks;
}

/** A job as `GET /v1/jobs/:id` shows it: the planner's record, or `queued` while only the submission exists. */
export type Job = JobState | { readonly jobId: string; readonly status: 'queued'; readonly goal: string; readonly submittedAt: string };

export interface JobSummary {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly goal: string;
  readonly submittedAt: string;
  readonly updatedAt?: string;
  readonly spend?: { readonly totalTao: number; readonly totalUsd?: number };
  readonly error?: { readonly code: string; readonly message: string };
}

export interface JobPage {
  readonly tenant: string;
  readonly jobs: JobSummary[];
  readonly nextCursor?: string;
}

/** One progress event of a job. */
export interface JobEvent {
  /** The event's id in the job's stream: resume after it with `Last-Event-ID`. */
  readonly id: string;
  /** `job.accepted`, `step.dispatched`, `step.verified`, `job.succeeded`… */
  readonly type: string;
  readonly message: string;
  readonly stepId?: string;
  readonly attempt?: number;
  readonly data?: Readonly<Record<string, unknown>>;
  /** The whole event envelope as the API sent it. */
  readonly envelope: Readonly<Record<string, unknown>>;
}

export type Scope = 'submit' | 'read' | 'cancel' | 'admin';

export interface ApiKey {
  readonly id: string;
  readonly tenant: string;
  readonly scopes: Scope[];
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
}

export interface TenantQuotas {
  readonly jobsPerMinute?: number;
  readonly concurrentJobs?: number;
  readonly maxSpendPerJob?: { readonly tao?: number };
  readonly spendPerDay?: { readonly tao?: number };
  readonly excludedProviders?: string[];
}

export interface Tenant {
  readonly tenant: string;
  readonly quotas: Required<TenantQuotas>;
  readonly overrides: TenantQuotas;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

export interface Usage {
  readonly tenant: string;
  readonly running: number;
  readonly days: Array<{ readonly day: string; readonly jobs: number; readonly spent: { readonly tao: number }; readonly reserved: { readonly tao: number } }>;
}

export interface SubnetSource {
  readonly source: string;
  readonly incentiveShare?: number;
  readonly observed?: { calls: number; answered: number; judged: number; accepted: number; latencyMs: number | null; updatedAt: string };
}

export interface Subnets {
  readonly capabilities: Array<{
    readonly capability: string;
    readonly providers: Array<{ provider: string; netuid: number; access?: { eligible: boolean; reason: string }; block?: number; sources: SubnetSource[] }>;
  }>;
}
