import { resolveConnection, type Connection, type ConnectionOptions } from './connection';
import { ConnectionError, JobCancelledError, JobFailedError, PlanRejectedError, ProtocolError, RateLimitedError, TimeoutError, apiError, type Problem } from './errors';
import { sseFrames } from './sse';
import type { ApiKey, Job, JobAccepted, JobEvent, JobPage, JobStatus, PlanStepSpec, Scope, SubmitRequest, Subnets, Tenant, TenantQuotas, Usage } from './types';

/** Statuses after which a job changes no more. */
export const FINAL_STATUSES: readonly string[] = ['planned', 'succeeded', 'failed', 'cancelled'];
/** Events after which a job's stream has nothing more (the API closes it). */
const FINAL_EVENTS = ['job.dry_run', 'job.succeeded', 'job.failed', 'job.cancelled'];

export interface ClientOptions extends ConnectionOptions {
  /** Largest JSON answer read, bytes (default 32 MiB): a bigger one is a ProtocolError, not memory spent. */
  readonly maxResponseBytes?: number;
  /** Largest single event, bytes (default 1 MiB). */
  readonly maxEventBytes?: number;
  /** Reconnections of an event stream in a row without a new event before giving up (default 5). */
  readonly maxReconnects?: number;
  /** Pause before a reconnection, ms (default 250, doubling per attempt in a row). */
  readonly reconnectDelayMs?: number;
}

export interface EventsOptions {
  /** Resume after this event id (the last one received). */
  readonly lastEventId?: string;
  readonly signal?: AbortSignal;
}

export interface WaitOptions {
  /** Give up after this long, ms (TimeoutError). Default: no bound but the job's own deadline. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called with each progress event as it arrives. */
  readonly onEvent?: (event: JobEvent) => void;
  /** Also stop at `awaiting_approval` (default true: nothing happens until someone approves). */
  readonly stopAtApproval?: boolean;
}

/**
 * A client of Orchestra's API. Without options it finds the API in the environment
 * (`ORCHESTRA_URL`, `ORCHESTRA_API_KEY`) or in the running devnet's `tmp/devnet/connection.json`.
 */
export class Orchestra {
  readonly connection: Connection;
  private readonly maxResponseBytes: number;
  private readonly maxEventBytes: number;
  private readonly maxReconnects: number;
  private readonly reconnectDelayMs: number;

  constructor(options: ClientOptions = {}) {
    this.connection = resolveConnection(options);
    this.maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
    this.maxEventBytes = options.maxEventBytes ?? 1024 * 1024;
    this.maxReconnects = options.maxReconnects ?? 5;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 250;
  }

  /** Submits a job; resolves with its id and links. `idempotencyKey`: the same key and body give the same job. */
  submit(request: SubmitRequest, options: { idempotencyKey?: string } = {}): Promise<JobAccepted> {
    return this.request('POST', '/v1/jobs', { body: request, headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {} });
  }

  /** Plans the job and estimates its cost without hiring anyone: resolves with the job ended `planned`. */
  async dryRun(request: Omit<SubmitRequest, 'dryRun' | 'approval'>, options: WaitOptions = {}): Promise<Job> {
    const { jobId } = await this.submit({ ...request, dryRun: true });
    return this.wait(jobId, options);
  }

  /** Submits and waits: resolves with the finished job; JobFailedError or JobCancelledError when it did not succeed. */
  async run(request: SubmitRequest, options: WaitOptions & { idempotencyKey?: string } = {}): Promise<Job> {
    const { jobId } = await this.submit(request, options);
    const job = await this.wait(jobId, options);
    if (job.status === 'failed') throw new JobFailedError(job as { jobId: string; error?: { code?: string; message?: string } });
    if (job.status === 'cancelled') throw new JobCancelledError(job);
    return job;
  }

  /** A page of the tenant's jobs, newest first. */
  list(query: { status?: JobStatus; limit?: number; cursor?: string; tenant?: string } = {}): Promise<JobPage> {
    return this.request('GET', `/v1/jobs${queryString(query)}`);
  }

  /** Every job of the tenant (matching `status`), newest first, page after page. */
  async *jobs(query: { status?: JobStatus; tenant?: string; pageSize?: number } = {}): AsyncGenerator<JobPage['jobs'][number]> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ status: query.status, tenant: query.tenant, limit: query.pageSize, cursor });
      yield* page.jobs;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  get(jobId: string): Promise<Job> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  cancel(jobId: string, reason?: string): Promise<JobAccepted> {
    return this.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`, { body: reason === undefined ? {} : { reason } });
  }

  /**
   * Runs a job waiting at `awaiting_approval` (its plan as shown, or `plan` instead) and
   * resolves once the planner has taken the approval: with the job, now running. An edited
   * plan that fails the plan checks leaves the job waiting: PlanRejectedError with the reasons.
   */
  async approve(jobId: string, plan?: readonly PlanStepSpec[], options: { timeoutMs?: number } = {}): Promise<Job> {
    const before = await this.get(jobId);
    // The planner numbers its awaiting_approval events: the next one after ours means our plan was refused.
    const refusedBefore = rejectedByApproval(before);
    await this.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/approve`, { body: plan === undefined ? {} : { plan } });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      for await (const event of this.events(jobId, { signal })) {
        if (event.type === 'job.awaiting_approval' && (event.attempt ?? 1) > refusedBefore + 1) {
          const job = await this.get(jobId);
          throw new PlanRejectedError(job, event.message);
        }
        if (event.type === 'job.approved' || FINAL_EVENTS.includes(event.type)) break;
      }
    } catch (error) {
      if (signal.aborted) throw new TimeoutError(`The approval of job ${jobId} was not taken within ${timeoutMs} ms; GET the job to see whether it runs.`);
      throw error;
    }
    return this.get(jobId);
  }

  /** Deletes a finished job's record, outputs and events. */
  delete(jobId: string): Promise<{ jobId: string; deleted: true }> {
    return this.request('DELETE', `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  /** The tenant's jobs and spend per UTC day (an admin may name another tenant). */
  usage(tenant?: string): Promise<Usage> {
    return this.request('GET', `/v1/usage${queryString({ tenant })}`);
  }

  /** Per capability, its providers in order and their best sources. */
  subnets(): Promise<Subnets> {
    return this.request('GET', '/v1/subnets');
  }

  /** API keys (admin). */
  readonly keys = {
    create: (request: { tenant: string; scopes: Scope[]; expiresAt?: string }): Promise<ApiKey & { key: string }> => this.request('POST', '/v1/keys', { body: request }),
    list: async (tenant?: string): Promise<ApiKey[]> => (await this.request<{ keys: ApiKey[] }>('GET', `/v1/keys${queryString({ tenant })}`)).keys,
    revoke: (id: string): Promise<ApiKey> => this.request('DELETE', `/v1/keys/${encodeURIComponent(id)}`),
  };

  /** Tenants' quotas (admin). */
  readonly tenants = {
    get: (tenant: string): Promise<Tenant> => this.request('GET', `/v1/tenants/${encodeURIComponent(tenant)}`),
    set: (tenant: string, quotas: TenantQuotas): Promise<Tenant> => this.request('PUT', `/v1/tenants/${encodeURIComponent(tenant)}`, { body: quotas }),
  };

  /**
   * The job's progress events, in order, until its last. A stream that drops (the
   * connection breaks, the server restarts) is resumed after the last event received
   * (`Last-Event-ID`), so no event is lost or repeated; ConnectionError after
   * `maxReconnects` attempts in a row that bring nothing new.
   */
  async *events(jobId: string, options: EventsOptions = {}): AsyncGenerator<JobEvent> {
    let lastEventId = options.lastEventId;
    let failures = 0;
    for (;;) {
      let res: Response;
      try {
        res = await this.send('GET', `/v1/jobs/${encodeURIComponent(jobId)}/events`, {
          headers: { accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) },
          signal: options.signal,
        });
      } catch (error) {
        if (!(error instanceof ConnectionError) || ++failures > this.maxReconnects) throw error;
        await this.pause(failures, options.signal);
        continue;
      }
      if (res.status === 204) return; // the job has ended and its last event was already received
      if (!res.ok) {
        const error = await this.failure(res);
        // A 5xx (an API replica restarting, say) is worth a reconnection; a 4xx is the request's fault and stays so.
        if (!error.retryable || error instanceof RateLimitedError || ++failures > this.maxReconnects) throw error;
        await this.pause(failures, options.signal);
        continue;
      }
      if (!res.body) throw new ProtocolError(`GET /v1/jobs/${jobId}/events answered ${res.status} without a body.`);
      let progressed = false;
      try {
        for await (const frame of sseFrames(res.body as unknown as AsyncIterable<Uint8Array>, this.maxEventBytes)) {
          const event = toEvent(frame);
          if (!event) continue;
          lastEventId = event.id;
          progressed = true;
          failures = 0;
          yield event;
          if (FINAL_EVENTS.includes(event.type)) return;
        }
      } catch (error) {
        if (error instanceof ProtocolError || options.signal?.aborted) throw error;
        // The connection broke mid-stream: resume below.
      }
      // The stream ended without the job's last event: dropped (or a finished job's stream that had no final event, which the resume answers 204).
      if (!progressed && ++failures > this.maxReconnects) {
        throw new ConnectionError(`The event stream of job ${jobId} kept closing without new events (${this.maxReconnects} reconnections); check the API.`);
      }
      await this.pause(failures, options.signal);
    }
  }

  /**
   * Waits until the job has finished (or awaits approval, unless `stopAtApproval: false`)
   * and resolves with it, following its events (resumed if the stream drops).
   */
  async wait(jobId: string, options: WaitOptions = {}): Promise<Job> {
    const stopAtApproval = options.stopAtApproval ?? true;
    const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const signal = timeout && options.signal ? AbortSignal.any([timeout, options.signal]) : (timeout ?? options.signal);
    try {
      let job = await this.get(jobId);
      if (FINAL_STATUSES.includes(job.status) || (stopAtApproval && job.status === 'awaiting_approval')) return job;
      // A job already past planning replays its old awaiting_approval events: only a queued job can still come to wait.
      const mayAwait = stopAtApproval && job.status === 'queued';
      for await (const event of this.events(jobId, { signal })) {
        options.onEvent?.(event);
        if (mayAwait && event.type === 'job.awaiting_approval') break;
      }
      // The record is written before the event is published, so it already shows the end.
      job = await this.get(jobId);
      return job;
    } catch (error) {
      if (timeout?.aborted) throw new TimeoutError(`Job ${jobId} had not finished after ${options.timeoutMs} ms; it keeps running (wait again, or cancel it).`);
      throw error;
    }
  }

  private async request<T>(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await this.send(method, path, {
      headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    if (!res.ok) throw await this.failure(res);
    return (await this.readJson(res, `${method} ${path}`)) as T;
  }

  private async send(method: string, path: string, init: { headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<Response> {
    try {
      return await fetch(`${this.connection.url}${path}`, {
        method,
        headers: { ...init.headers, authorization: `Bearer ${this.connection.key}` },
        body: init.body,
        signal: init.signal,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ConnectionError(`Could not reach the API at ${this.connection.url} (${method} ${path}): ${(error as Error).cause ?? (error as Error).message}`, { cause: error });
    }
  }

  /** The error for a non-2xx answer: its problem when it sent one. */
  private async failure(res: Response) {
    const body = await this.readJson(res, `${res.status} answer`).catch(() => undefined);
    const problem: Problem = isProblem(body)
      ? body
      : { type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail: `The API answered ${res.status} without a problem description.` };
    return apiError(res.status, problem, res.headers.get('retry-after'));
  }

  /** Reads a JSON answer under the size bound. */
  private async readJson(res: Response, what: string): Promise<unknown> {
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.maxResponseBytes) throw new ProtocolError(`${what}: the answer is ${declared} bytes, over the ${this.maxResponseBytes} this client reads.`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > this.maxResponseBytes) throw new ProtocolError(`${what}: the answer is over the ${this.maxResponseBytes} bytes this client reads.`);
        chunks.push(chunk);
      }
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new ProtocolError(`${what}: the answer is not JSON (${JSON.stringify(text.slice(0, 80))}).`);
    }
  }

  private pause(attempt: number, signal: AbortSignal | undefined): Promise<void> {
    const ms = this.reconnectDelayMs * 2 ** Math.min(attempt, 6);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
    });
  }
}

/** Plans an approver submitted that the planner refused. */
function rejectedByApproval(job: Job): number {
  return 'rejectedPlans' in job ? (job.rejectedPlans?.filter((r) => r.by === 'approval').length ?? 0) : 0;
}

function isProblem(body: unknown): body is Problem {
  const p = body as Partial<Problem> | null;
  return typeof p === 'object' && p !== null && typeof p.type === 'string' && typeof p.title === 'string' && typeof p.detail === 'string';
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** An SSE frame as a job event; undefined for a frame that is not one (no id, not JSON). */
function toEvent(frame: { id?: string; event?: string; data: string }): JobEvent | undefined {
  if (frame.id === undefined || frame.event === undefined) return undefined;
  let envelope: Record<string, unknown>;
  try {
    envelope = JSON.parse(frame.data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const payload = (envelope.payload ?? {}) as { message?: unknown; stepId?: unknown; attempt?: unknown; data?: unknown };
  return {
    id: frame.id,
    type: frame.event,
    message: typeof payload.message === 'string' ? payload.message : '',
    ...(typeof payload.stepId === 'string' ? { stepId: payload.stepId } : {}),
    ...(typeof payload.attempt === 'number' ? { attempt: payload.attempt } : {}),
    ...(typeof payload.data === 'object' && payload.data !== null ? { data: payload.data as Record<string, unknown> } : {}),
    envelope,
  };
}
