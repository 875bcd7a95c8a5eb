import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { JobCancelRequested, JobIdSchema } from '@orchestra/contracts';
import { tagActiveSpanWithJob } from '@orchestra/service';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JobEventsStreamer } from './job-events';
import { JobView, JobsService } from './jobs.service';
import { recordRequest } from './metrics';
import { bodyFieldErrors, jobNotFound, validationProblem } from './problem';
import { API_SETTINGS, ApiSettings } from './settings';
import { parseSubmitRequest, parseTenant, requireJson } from './submission';

/** Links a client follows from a job: itself, its progress stream, its cancellation. */
export function jobLinks(jobId: string) {
  const self = `/v1/jobs/${jobId}`;
  return { self, events: `${self}/events`, cancel: `${self}/cancel` };
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

/** The job endpoints: submit, read, follow and cancel. */
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly progress: JobEventsStreamer,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  /** Submits a job: 202 with its id and links, or 200 with the original job when an Idempotency-Key is replayed. */
  @Post()
  async submit(@Req() req: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    requireJson(req.headers['content-type']);
    const request = parseSubmitRequest(req.headers, body, this.settings.limits);
    const outcome = await this.jobs.submit(request);
    // The request's server span is the root of the job's trace.
    tagActiveSpanWithJob(outcome.jobId);
    const links = jobLinks(outcome.jobId);
    void reply.status(outcome.created ? 202 : 200).header('location', links.self);
    return { jobId: outcome.jobId, status: outcome.status, links };
  }

  /** The job's state: the planner's record, or `queued` while only the submission exists. */
  @Get(':id')
  async get(@Param('id') id: string, @Req() req: FastifyRequest): Promise<JobView> {
    const jobId = parseJobId(id);
    const job = await this.jobs.find(jobId, parseTenant(req.headers));
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
  async events(
    @Param('id') id: string,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Query('lastEventId') lastEventIdQuery: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const jobId = parseJobId(id);
    const after = parseLastEventId(lastEventIdHeader, lastEventIdQuery);
    // Everything that can fail with a problem response happens before the stream starts.
    const job = await this.jobs.find(jobId, parseTenant(req.headers));
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
  @HttpCode(202)
  async cancel(@Param('id') id: string, @Req() req: FastifyRequest, @Body() body: unknown) {
    const jobId = parseJobId(id);
    if (body !== undefined && body !== null) requireJson(req.headers['content-type']);
    const parsed = JobCancelRequested.payload.safeParse(body ?? {});
    if (!parsed.success) {
      throw validationProblem('The cancellation request is invalid; send `{ "reason": "<at most 500 characters>" }` or no body.', bodyFieldErrors(parsed.error));
    }
    tagActiveSpanWithJob(jobId);
    if (!(await this.jobs.find(jobId, parseTenant(req.headers)))) throw jobNotFound(jobId);
    await this.jobs.cancel(jobId, parsed.data.reason);
    return { jobId, status: 'cancel_requested', links: jobLinks(jobId) };
  }
}
