import { jsonPointer } from '@orchestra/contracts';
import { STATUS_CODES } from 'node:http';
import type { ZodError } from 'zod';

/** Media type of every error response (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Base of the `type` URIs, so clients can branch on the kind of problem rather than on text. */
export const PROBLEM_TYPE_BASE = 'https://orchestra.dev/problems/';

/** One invalid field of a request: where it is (a JSON pointer into the body, or a header) and what is wrong. */
export interface FieldError {
  /** RFC 6901 pointer into the request body, e.g. `/limits/maxTao`; `''` is the whole body. */
  readonly pointer?: string;
  /** Name of the offending request header, when the problem is in a header. */
  readonly header?: string;
  /** Name of the offending path or query parameter. */
  readonly parameter?: string;
  readonly detail: string;
}

/** The body of an error response: RFC 9457 members plus `errors` for field-level detail. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The request path; absent when the request could not be read far enough to know it. */
  readonly instance?: string;
  readonly errors?: readonly FieldError[];
}

/**
 * A request that cannot be served, thrown by handlers and rendered by {@link ProblemFilter}
 * as `application/problem+json`. `detail` is a sentence for the client: what went wrong
 * and what to do about it.
 */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  constructor(
    readonly status: number,
    /** Slug of the problem type, e.g. `validation-error`. */
    readonly kind: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
    /** Response headers that belong to the problem: `Retry-After` on a 429, `WWW-Authenticate` on a 401. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(detail);
  }

  /** The response body for a request to `instance` (the request path). */
  toProblem(instance?: string): ProblemDetails {
    return {
      type: `${PROBLEM_TYPE_BASE}${this.kind}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance === undefined ? {} : { instance }),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }

  /**
   * The whole HTTP/1.1 response, for errors Node raises before there is a request object
   * to reply through (header overflow, timeouts, unparseable requests): written straight to
   * the socket, which is then closed.
   */
  toRawResponse(): string {
    const body = JSON.stringify(this.toProblem());
    return [
      `HTTP/1.1 ${this.status} ${STATUS_CODES[this.status] ?? 'Error'}`,
      `content-type: ${PROBLEM_CONTENT_TYPE}`,
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
      '',
      body,
    ].join('\r\n');
  }
}

/** 400 with one entry per bad field. */
export function validationProblem(detail: string, errors: readonly FieldError[]): ApiProblem {
  return new ApiProblem(400, 'validation-error', 'Invalid request', detail, errors);
}

/** 415 for a body that is not JSON. */
export function unsupportedMediaType(): ApiProblem {
  return new ApiProblem(415, 'unsupported-media-type', 'Unsupported media type', 'The request body must be JSON; send it with Content-Type: application/json.');
}

/** 404 for a job id nobody submitted. */
export function jobNotFound(jobId: string): ApiProblem {
  return new ApiProblem(404, 'job-not-found', 'Job not found', `No job with id "${jobId}" exists; check the id returned by POST /v1/jobs.`);
}

/** Field errors from a zod error, each located by a JSON pointer into the body. */
export function bodyFieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map((part) => String(part));
    // An unknown key is reported on its parent object; point at the key itself instead.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ pointer: jsonPointer([...at, key]), detail: 'unknown field; remove it' }));
    }
    return [{ pointer: jsonPointer(at), detail: issue.message }];
  });
}
