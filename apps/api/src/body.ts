import { JsonPart, SizeLimits, UntrustedJsonError, forbiddenKeyPointer, largestPart, parseUntrustedJson } from '@orchestra/contracts';
import { ApiProblem } from './problem';

/**
 * Request bodies are strangers' JSON: read as bytes up to the transport limit, then
 * parsed here — bounded in depth before anything walks them, checked against the body
 * limit with the too-large field named, and refused when they carry prototype-changing
 * keys. Every refusal is a problem naming what is wrong; nothing a client sends can turn
 * into a 500.
 */

/** Media types parsed as JSON: `application/json` and any `+json` suffix type. */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * 413 for a body over the body limit. `part` (with the body's size) names the field to
 * shrink when the body could still be parsed; without it the body was too large to read.
 */
export function payloadTooLarge(maxBodyBytes: number, measured?: { bodyBytes: number; part: JsonPart }): ApiProblem {
  const title = 'Payload too large';
  if (!measured) {
    return new ApiProblem(
      413,
      'payload-too-large',
      title,
      `The request body is larger than the limit of ${maxBodyBytes} bytes; send smaller inputs (a job's inputs travel inside its record).`,
    );
  }
  const { bodyBytes, part } = measured;
  const where = part.pointer === '' ? 'the body as a whole' : part.pointer;
  return new ApiProblem(
    413,
    'payload-too-large',
    title,
    `The request body is ${bodyBytes} bytes, over the limit of ${maxBodyBytes}; most of it is ${where} (${part.bytes} bytes): send less there, or split the job.`,
    [{ pointer: part.pointer, detail: `${part.bytes} bytes of a body limited to ${maxBodyBytes}` }],
  );
}

/** 400 for a body that is not JSON at all. */
export function malformedBody(reason: string): ApiProblem {
  return new ApiProblem(400, 'malformed-body', 'Malformed request body', `The request body could not be parsed (${reason}); send a valid JSON document.`);
}

/**
 * Parses a JSON request body under the size limits. Throws an ApiProblem: 413 naming the
 * largest field of a body over `maxBodyBytes`, 400 for a body that is not JSON, nests
 * deeper than `maxJsonDepth` or uses a forbidden key.
 */
export function parseJsonBody(raw: Buffer, limits: Pick<SizeLimits, 'maxBodyBytes' | 'maxJsonDepth'>): unknown {
  if (raw.length === 0) throw malformedBody('the body is empty, but its Content-Type says JSON');
  let value: unknown;
  try {
    value = parseUntrustedJson(raw.toString('utf8'), { maxDepth: limits.maxJsonDepth });
  } catch (error) {
    if (!(error instanceof UntrustedJsonError)) throw error;
    // Too large and unreadable: the size is the first thing to fix.
    if (raw.length > limits.maxBodyBytes) throw payloadTooLarge(limits.maxBodyBytes);
    if (error.kind === 'too_deep') {
      throw new ApiProblem(
        400,
        'json-too-deep',
        'Request body nested too deeply',
        `The request body nests arrays and objects more than ${limits.maxJsonDepth} levels deep, the limit; flatten it.`,
        [{ pointer: '', detail: `nested deeper than ${limits.maxJsonDepth} levels` }],
      );
    }
    throw malformedBody(error.message);
  }
  if (raw.length > limits.maxBodyBytes) throw payloadTooLarge(limits.maxBodyBytes, { bodyBytes: raw.length, part: largestPart(value) });
  const forbidden = forbiddenKeyPointer(value);
  if (forbidden !== undefined) {
    const key = forbidden.endsWith('/prototype') ? 'constructor.prototype' : '__proto__';
    throw new ApiProblem(
      400,
      'forbidden-key',
      'Forbidden key in request body',
      `The request body uses the key ${key} at ${forbidden}; such keys can rewrite object prototypes and are refused. Rename or remove it.`,
      [{ pointer: forbidden, detail: `the key ${key} is not allowed` }],
    );
  }
  return value;
}
