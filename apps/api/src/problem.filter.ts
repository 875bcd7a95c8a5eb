import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import type { SizeLimits } from '@orchestra/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { malformedBody, payloadTooLarge } from './body';
import { recordConnectionError } from './metrics';
import { ApiProblem, PROBLEM_CONTENT_TYPE, unsupportedMediaType } from './problem';
import type { RouteTable } from './routes';

/**
 * What the client is told for HTTP errors raised outside our handlers: by Fastify while
 * reading the body (too large to read, bad Content-Length, unsupported type) or by Nest's
 * router (no route).
 */
function frameworkProblem(status: number, message: string, limits: Pick<SizeLimits, 'maxBodyBytes'>): ApiProblem | undefined {
  switch (status) {
    case 400:
      return malformedBody(message);
    case 404:
      return new ApiProblem(404, 'not-found', 'Not found', 'There is no endpoint at this method and path; the API lives under /v1 (see GET /v1/schemas).');
    case 413:
      return payloadTooLarge(limits.maxBodyBytes);
    case 415:
      return unsupportedMediaType();
    default:
      return undefined;
  }
}

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

  constructor(
    private readonly limits: Pick<SizeLimits, 'maxBodyBytes'>,
    /** The registered routes, to tell a wrong method (405) from an unknown path (404). */
    private readonly routes?: RouteTable,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const path = request.url.split('?')[0];
    let problem = this.toProblem(exception, request);
    // A streaming response (SSE) has already sent its head; all we can do is end it.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    // The router's "no route" (not a handler's 404, which is an ApiProblem): maybe the path exists with other methods.
    const allowed = exception instanceof NotFoundException ? (this.routes?.allowed(path) ?? []) : [];
    if (allowed.length > 0) {
      problem = new ApiProblem(405, 'method-not-allowed', 'Method not allowed', `${path} does not support ${request.method}; use ${allowed.join(' or ')}.`);
      void reply.header('allow', allowed.join(', '));
    }
    sendProblem(reply, problem, path);
  }

  private toProblem(exception: unknown, request: FastifyRequest): ApiProblem {
    if (exception instanceof ApiProblem) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const known = frameworkProblem(status, exception.message, this.limits);
      if (known) return known;
      if (status < 500) return new ApiProblem(status, 'http-error', exception.name, `${exception.message}.`);
    }
    this.logger.error({ msg: 'unhandled error', method: request.method, url: request.url, err: exception });
    return internalProblem;
  }
}

/** Replies with `problem` as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, problem: ApiProblem, instance?: string): void {
  for (const [name, value] of Object.entries(problem.headers ?? {})) void reply.header(name, value);
  void reply
    .status(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.toProblem(instance)));
}

/**
 * Fastify's `frameworkErrors`: requests its router refuses before any route or Nest
 * handler sees them — a path that is not valid percent-encoding (`/v1/jobs/%E0%A4%A`),
 * a path parameter over the router's length limit.
 */
export function frameworkErrorHandler(error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  // The path is what is wrong, so it is not echoed back as `instance`.
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendProblem(reply, new ApiProblem(414, 'uri-too-long', 'URI too long', 'A segment of the request path is longer than any id the API uses; check the URL.'));
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    sendProblem(reply, new ApiProblem(400, 'bad-url', 'Malformed URL', 'The request path is not valid percent-encoded UTF-8; encode each path segment with encodeURIComponent.'));
    return;
  }
  sendProblem(reply, new ApiProblem(400, 'bad-request', 'Bad request', 'The request could not be routed; check its method, path and headers.'));
}

/**
 * Node's `clientError`: requests that fail before Node has built a request object — a
 * head over `ORCH_HTTP_MAX_HEADER_BYTES` (431), headers or body not received within their
 * timeouts (408), bytes that are not HTTP (400). The response is written straight to the
 * socket, as a problem, and the connection closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way cannot be replaced by another; just close.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  const problem = clientErrorProblem(error.code);
  recordConnectionError(problem.status);
  if (socket.writable && !inFlight?.headersSent) socket.write(problem.toRawResponse());
  socket.destroy();
}

function clientErrorProblem(code: string | undefined): ApiProblem {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiProblem(
        431,
        'headers-too-large',
        'Request header fields too large',
        'The request line and headers are larger than the server accepts; send fewer or shorter headers (cookies included).',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiProblem(408, 'request-timeout', 'Request timeout', 'The request (headers and body) was not received in time; send it at once, and retry on a new connection.');
    default:
      return new ApiProblem(400, 'malformed-request', 'Malformed request', 'The request is not valid HTTP/1.1; check the client.');
  }
}
