import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem, PROBLEM_CONTENT_TYPE } from './problem';

/**
 * What the client is told for HTTP errors raised outside our handlers: by Fastify while
 * reading the body (bad JSON, too large, unsupported type) or by Nest's router (no route).
 */
const FRAMEWORK_PROBLEMS: Record<number, { kind: string; title: string; detail: (message: string) => string }> = {
  400: {
    kind: 'malformed-body',
    title: 'Malformed request body',
    detail: (message) => `The request body could not be parsed (${message}); send a valid JSON document.`,
  },
  404: {
    kind: 'not-found',
    title: 'Not found',
    detail: () => 'There is no endpoint at this method and path; the API lives under /v1 (see GET /v1/schemas).',
  },
  405: { kind: 'method-not-allowed', title: 'Method not allowed', detail: () => 'This endpoint does not support this method.' },
  413: {
    kind: 'payload-too-large',
    title: 'Payload too large',
    detail: () => 'The request body is larger than the 1 MiB limit; send smaller inputs or reference them instead.',
  },
  415: {
    kind: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: () => 'The request body must be JSON; send it with Content-Type: application/json.',
  },
};

const internalProblem = new ApiProblem(
  500,
  'internal-error',
  'Internal server error',
  'The server failed to handle this request; retry later, with the same Idempotency-Key for job submissions.',
);

/**
 * Renders every error as `application/problem+json` (RFC 9457). Unexpected errors are
 * logged in full and answered with a generic 500, so no internals reach the client.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = this.toProblem(exception, request);
    // A streaming response (SSE) has already sent its head; all we can do is end it.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    const instance = request.url.split('?')[0];
    void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem.toProblem(instance)));
  }

  private toProblem(exception: unknown, request: FastifyRequest): ApiProblem {
    if (exception instanceof ApiProblem) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const known = FRAMEWORK_PROBLEMS[status];
      if (known) return new ApiProblem(status, known.kind, known.title, known.detail(exception.message));
      if (status < 500) return new ApiProblem(status, 'http-error', exception.name, `${exception.message}.`);
    }
    this.logger.error({ msg: 'unhandled error', method: request.method, url: request.url, err: exception });
    return internalProblem;
  }
}
