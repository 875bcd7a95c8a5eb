import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Bus } from '@orchestra/bus';
import { PROBLEM_HEADER, Subjects, tenantOfSubmitSubject } from '@orchestra/contracts';
import { Match, type Msg, canonicalMIMEHeaderKey, type Subscription, headers as natsHeaders } from '@nats-io/transport-node';
import { parseJsonBody } from './body';
import { submitJob } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ApiProblem, PROBLEM_CONTENT_TYPE } from './problem';
import { IDEMPOTENCY_HEADER } from './submission';
import { API_SETTINGS, type ApiSettings } from './settings';

/**
 * NATS-native submission (docs/nats-submission.md): a request on `orch.v1.jobs.submit` in a
 * tenant's account arrives here, in Orchestra's account, on `orch.v1.jobs.submit.<tenant>`
 * (the tenant account's service import names the tenant, libs/contracts tenant-accounts.ts).
 * It takes the same path as POST /v1/jobs (submitJob: validation, caps, quotas) and is
 * answered with the same JSON, or with a problem+json body marked by the Orchestra-Problem
 * header (its value the HTTP status the request would have had).
 *
 * Replicas share the requests (one queue group), and each replica answers at most
 * MAX_IN_FLIGHT at once: past that a request is refused with 503 and Retry-After, so a
 * flood of requests cannot queue unbounded work in one process.
 */
const QUEUE = 'orch-api-submit';
export const MAX_IN_FLIGHT = 64;

const overloaded = () =>
  new ApiProblem(503, 'overloaded', 'Service overloaded', 'Too many submissions are being handled right now; retry in a second.', undefined, { 'Retry-After': '1' });

const internalProblem = () =>
  new ApiProblem(500, 'internal-error', 'Internal server error', 'The server failed to handle this submission; retry later, with the same Idempotency-Key header.');

@Injectable()
export class NatsSubmissionResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('NatsSubmission');
  private subscription?: Subscription;
  private inFlight = 0;

  constructor(
    private readonly bus: Bus,
    private readonly jobs: JobsService,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.bus.nc.subscribe(Subjects.allSubmitRequests, {
      queue: QUEUE,
      callback: (error, msg) => (error ? this.logger.error({ msg: 'submission subscription failed', err: error }) : void this.handle(msg)),
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  private async handle(msg: Msg): Promise<void> {
    // A request nobody waits for (a plain publish) is not a submission: nothing to answer.
    if (!msg.reply) return;
    if (this.inFlight >= MAX_IN_FLIGHT) return this.reply(msg, overloaded());
    this.inFlight++;
    try {
      this.reply(msg, await this.submit(msg));
    } catch (error) {
      if (!(error instanceof ApiProblem)) this.logger.error({ msg: 'submission over NATS failed', subject: msg.subject, err: error });
      this.reply(msg, error instanceof ApiProblem ? error : internalProblem());
    } finally {
      this.inFlight--;
    }
  }

  private async submit(msg: Msg): Promise<unknown> {
    // The server wrote the tenant into the subject; it cannot be a stranger's claim.
    const tenant = tenantOfSubmitSubject(msg.subject);
    if (tenant === undefined)
      throw new ApiProblem(400, 'unknown-tenant', 'Unknown tenant', `Submissions arrive on ${Subjects.allSubmitRequests} with a tenant id; "${msg.subject}" names none.`);
    const body = parseJsonBody(Buffer.from(msg.data), this.settings.limits);
    const idempotencyKey = msg.headers?.get('Idempotency-Key', Match.IgnoreCase);
    const { accepted } = await submitJob(this.jobs, this.settings, tenant, idempotencyKey ? { [IDEMPOTENCY_HEADER]: idempotencyKey } : {}, body);
    return accepted;
  }

  private reply(msg: Msg, answer: unknown): void {
    if (answer instanceof ApiProblem) {
      const h = natsHeaders();
      h.set(PROBLEM_HEADER, String(answer.status));
      h.set('Content-Type', PROBLEM_CONTENT_TYPE);
      // Problem headers (Retry-After) in their usual spelling, whatever the problem's builder wrote.
      for (const [name, value] of Object.entries(answer.headers ?? {})) h.set(canonicalMIMEHeaderKey(name), value);
      msg.respond(JSON.stringify(answer.toProblem(Subjects.submitRequest)), { headers: h });
      return;
    }
    msg.respond(JSON.stringify(answer));
  }
}
