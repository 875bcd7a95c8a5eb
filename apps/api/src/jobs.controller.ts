import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { JOB_STATUSES, JobCancelRequested, JobIdSchema, type JobStatus } from '@orchestra/contracts';
import { tagActiveSpanWithJob } from '@orchestra/service';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Caller, RequireScope } from './auth.guard';
import { JobEventsStreamer } from './job-events';
import { JobView, JobsService, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT } from './jobs.service';
import { Principal } from './keys';
import { recordRequest } from './metrics';
import { FieldError, bodyFieldErrors, jobNotFound, validationProblem } from './problem';
import { API_SETTINGS, ApiSettings } from './settings';
import { parseSubmitRequest, requireJson } from './submission';
import { tenantFor } from './tenants.controller';

/** Links a client follows from a job: itself, its progress stream, its cancellation. */
export function jobLinks(jobId: string) {
  const self = `/v1/jobs/${jobId}`;
  return { self, events: `${self}/events`, cancel: `${self}/cancel` };
}

/** What a submission is answered with (the HTTP body, and the NATS-native reply). */
export interface AcceptedJob {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly links: ReturnType<typeof jobLinks>;
}

/**
 * The one submission path, over HTTP and NATS alike: validates the body for `tenant`
 * (whom the transport authenticated, never the body), then submits under the tenant's
 * caps and quotas. `created` is false for a replayed Idempotency-Key. Throws ApiProblem.
 */
export async function submitJob(
  jobs: JobsService,
  settings: ApiSettings,
  tenant: string,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
): Promise<{ created: boolean; accepted: AcceptedJob }> {
  const outcome = await jobs.submit(parseSubmitRequest(tenant, headers, body, settings.limits));
  // The request's server span (HTTP) is the root of the job's trace.
  tagActiveSpanWithJob(outcome.jobId);
  return { created: outcome.created, accepted: { jobId: outcome.jobId, status: outcome.status, links: jobLinks(outcome.jobId) } };
}

/** Validates a job id from the path (400 if malformed). */
export function parseJobId(id: string): string {
  if (!JobIdSchema.safeParse(id).success) {
    throw validationProblem(`"${id}" is not a job id; job ids are 1-64 letters, digits, _ and -.`, [
      { parameter: 'id', detail: 'job ids use letters, digits, _ and - (at most 64)' },
    ]);
  }
  return id;
}

/** Parses the SSE resume point: `Last-Event-ID` header, else `?lastEventId=`; 0 = from the start. */
function parseLastEventId(header: string | undefined, query: string | undefined): number {
  const raw = header ?? query;
  if (raw === undefined || raw === '') return 0;
  const seq = Number(raw);
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw validationProblem(`Last-Event-ID "${raw}" is not an event id; send the id of the last event you received.`, [
      { header: 'Last-Event-ID', detail: 'must be a non-negative integer (an event id from this stream)' },
    ]);
  }
  return seq;
}

/** Parses `GET /v1/jobs` query parameters (400 naming each bad one). */
function parseListQuery(query: Record<string, unknown>): { status?: JobStatus; cursor?: string; limit: number } {
  const errors: FieldError[] = [];
  const single = (name: string) => (Array.isArray(query[name]) ? undefined : (query[name] as string | undefined));
  const status = single('status');
  if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) errors.push({ parameter: 'status', detail: `one of ${JOB_STATUSES.join(', ')}` });
  const cursor = single('cursor');
  if (cursor !== undefined && !JobIdSchema.safeParse(cursor).success) errors.push({ parameter: 'cursor', detail: 'the nextCursor of a previous page' });
  const rawLimit = single('limit');
  const limit = rawLimit === undefined ? LIST_DEFAULT_LIMIT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) errors.push({ parameter: 'limit', detail: `an integer from 1 to ${LIST_MAX_LIMIT}` });
  if (errors.length > 0) throw validationProblem(`The job listing query is invalid at ${errors.map((e) => e.parameter).join(', ')}.`, errors);
  return { ...(status === undefined ? {} : { status: status as JobStatus }), ...(cursor === undefined ? {} : { cursor }), limit };
}

/** The job endpoints: submit, list, read, follow, cancel and delete. */
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly progress: JobEventsStreamer,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  /** Submits a job: 202 with its id and links, or 200 with the original job when an Idempotency-Key is replayed. */
  @Post()
  @RequireScope('submit')
  async submit(@Caller() caller: Principal, @Req() req: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    requireJson(req.headers['content-type']);
    const { created, accepted } = await submitJob(this.jobs, this.settings, caller.tenant, req.headers, body);
    void reply.status(created ? 202 : 200).header('location', accepted.links.self);
    return accepted;
  }

  /**
   * The tenant's jobs, newest first: `?status=` filters, `?limit=` (1-100, default 20)
   * sizes the page, `?cursor=` continues from a page's `nextCursor`. An admin may list
   * another tenant's with `?tenant=`.
   */
  @Get()
  @RequireScope('read')
  async list(@Caller() caller: Principal, @Query() query: Record<string, unknown>) {
    const tenant = tenantFor(caller, query.tenant);
    return { tenant, ...(await this.jobs.list(tenant, parseListQuery(query))) };
  }

  /** The job's state: the planner's record, or `queued` while only the submission exists. */
  @Get(':id')
  @RequireScope('read')
  async get(@Param('id') id: string, @Caller() caller: Principal): Promise<JobView> {
    const jobId = parseJobId(id);
    const job = await this.jobs.find(jobId, caller);
    if (!job) throw jobNotFound(jobId);
    return job;
  }

  /**
   * The job's progress as Server-Sent Events, closed after the terminal event (or, for a
   * finished job, after its last event). A client that has already seen the end of a
   * finished job (its Last-Event-ID is the terminal event, the job's last event, or
   * anything past it) gets 204 at once; for a running job an id past every event sent is
   * a 400.
   */
  @Get(':id/events')
  @RequireScope('read')
  async events(
    @Caller() caller: Principal,
    @Param('id') id: string,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Query('lastEventId') lastEventIdQuery: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const jobId = parseJobId(id);
    const after = parseLastEventId(lastEventIdHeader, lastEventIdQuery);
    // Everything that can fail with a problem response happens before the stream starts.
    const job = await this.jobs.find(jobId, caller);
    if (!job) throw jobNotFound(jobId);
    const resume = await this.progress.resumePoint(jobId, after, job.status);
    if (resume.kind === 'finished') {
      await reply.status(204).send();
      return;
    }
    if (resume.kind === 'unknown') {
      throw validationProblem(
        `Last-Event-ID ${after} is past the last event this API has sent (${resume.lastSeq}); reconnect without it to receive the job's events from the start.`,
        [{ header: 'Last-Event-ID', detail: `no event has this id yet; the latest is ${resume.lastSeq}` }],
      );
    }
    const messages = await this.progress.subscribe(jobId, after, resume.endSeq);
    // From here on we own the raw response; Fastify's hooks (metrics included) no longer run.
    reply.hijack();
    const route = req.routeOptions.url ?? '/v1/jobs/:id/events';
    reply.raw.once('close', () => recordRequest(req.method, route, 200, reply.elapsedTime / 1000));
    await this.progress.stream(jobId, messages, reply.raw);
  }

  /** Asks the planner to cancel the job. Body (optional): `{ reason?: string }`. */
  @Post(':id/cancel')
  @RequireScope('cancel')
  @HttpCode(202)
  async cancel(@Caller() caller: Principal, @Param('id') id: string, @Req() req: FastifyRequest, @Body() body: unknown) {
    const jobId = parseJobId(id);
    if (body !== undefined && body !== null) requireJson(req.headers['content-type']);
    const parsed = JobCancelRequested.payload.safeParse(body ?? {});
    if (!parsed.success) {
      throw validationProblem('The cancellation request is invalid; send `{ "reason": "<at most 500 characters>" }` or no body.', bodyFieldErrors(parsed.error));
    }
    tagActiveSpanWithJob(jobId);
    if (!(await this.jobs.find(jobId, caller))) throw jobNotFound(jobId);
    await this.jobs.cancel(jobId, parsed.data.reason);
    return { jobId, status: 'cancel_requested', links: jobLinks(jobId) };
  }

  /** Deletes a finished job's records, stored outputs and events (409 while it runs). */
  @Delete(':id')
  @RequireScope('cancel')
  async remove(@Caller() caller: Principal, @Param('id') id: string) {
    const jobId = parseJobId(id);
    tagActiveSpanWithJob(jobId);
    const deleted = await this.jobs.delete(jobId, caller);
    if (!deleted) throw jobNotFound(jobId);
    return deleted;
  }
}
