import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { JobApproved } from '@orchestra/contracts';
import { tagActiveSpanWithJob } from '@orchestra/service';
import type { FastifyRequest } from 'fastify';
import { jobLinks, parseJobId } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ApiProblem, bodyFieldErrors, jobNotFound, validationProblem } from './problem';
import { Caller, RequireScope } from './auth.guard';
import type { Principal } from './keys';
import { requireJson } from './submission';

/** Approving a job submitted with `approval: "required"`: its own route, beside submission and cancellation. */
@Controller('v1/jobs')
export class ApprovalController {
  constructor(private readonly jobs: JobsService) {}

  /**
   * Runs a job that awaits approval: body `{}` (its plan as shown) or `{ "plan": [...] }` (an
   * edited plan, checked by the planner as the first was: an invalid one leaves the job waiting,
   * with the reasons in `rejectedPlans` and its events). 409 when the job is not awaiting approval.
   */
  @Post(':id/approve')
  @HttpCode(202)
  @RequireScope('submit')
  async approve(@Caller() caller: Principal, @Param('id') id: string, @Req() req: FastifyRequest, @Body() body: unknown) {
    const jobId = parseJobId(id);
    requireJson(req.headers['content-type']);
    const parsed = JobApproved.payload.safeParse(body ?? {});
    if (!parsed.success) {
      throw validationProblem('The approval is invalid; send `{}` to run the plan as shown, or `{ "plan": [ ...steps ] }` to run an edited one.', bodyFieldErrors(parsed.error));
    }
    tagActiveSpanWithJob(jobId);
    const job = await this.jobs.find(jobId, caller);
    if (!job) throw jobNotFound(jobId);
    if (job.status !== 'awaiting_approval') {
      throw new ApiProblem(
        409,
        'not-awaiting-approval',
        'Job not awaiting approval',
        `Job "${jobId}" is ${job.status}, not awaiting approval; only a job submitted with "approval": "required" can be approved, once, while it waits.`,
      );
    }
    await this.jobs.approve(jobId, parsed.data.plan);
    return { jobId, status: 'approve_requested', links: jobLinks(jobId) };
  }
}
