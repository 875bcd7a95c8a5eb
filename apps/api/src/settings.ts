import type { ReputationSettings } from '@orchestra/bus';
import { DEFAULT_MAX_PAYLOAD_BYTES, SizeLimits, sizeLimits, OrchestraError, listingProblems } from '@orchestra/contracts';
import { readFileSync } from 'node:fs';
import { KEEP_ALIVE_MS } from './job-events';
import { DEFAULT_TENANCY, TenancySettings, readTenancy } from './tenants';

/**
 * The HTTP server's own limits: how long a client may take and how much it may send
 * before it is cut off, so a slow or hostile client cannot hold a connection (and its
 * memory) open. Every one is a named setting (README, "Limits").
 */
export interface HttpSettings {
  /** Longest time to receive a request's headers, ms (`ORCH_HTTP_HEADERS_TIMEOUT_MS`): a client trickling headers is cut off with 408. */
  readonly headersTimeoutMs: number;
  /** Longest time to receive a whole request, headers and body, ms (`ORCH_HTTP_REQUEST_TIMEOUT_MS`). Responses (SSE) are not bounded by it. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests, ms (`ORCH_HTTP_KEEP_ALIVE_TIMEOUT_MS`). */
  readonly keepAliveTimeoutMs: number;
  /** A connection on which nothing is sent or received for this long is closed, ms (`ORCH_HTTP_IDLE_TIMEOUT_MS`). */
  readonly idleTimeoutMs: number;
  /** Largest request head (request line and headers), bytes (`ORCH_HTTP_MAX_HEADER_BYTES`); 431 beyond. */
  readonly maxHeaderBytes: number;
  /**
   * Most body bytes read at all, bytes (`ORCH_HTTP_MAX_READ_BYTES`, default 4 × the body
   * limit). A body between the body limit and this is still parsed so the 413 can name
   * the field that is too large; beyond it the connection is not read further.
   */
  readonly maxReadBytes: number;
}

/** Everything the API is configured with beyond its NATS connection and listener. */
export interface ApiSettings {
  readonly limits: SizeLimits;
  readonly http: HttpSettings;
  /** Tenants' default quotas and the deployment's daily spend ceiling. */
  readonly tenancy: TenancySettings;
  /** The operators' admin key (ORCH_API_ADMIN_KEY / _FILE); without it only keys in the bucket are accepted. */
  readonly adminKey?: string;
  /** How the reputations GET /v1/subnets shows decay (ORCH_REPUTATION_HALF_LIFE_MS); default one hour. */
  readonly reputation?: ReputationSettings;
}

/** Shortest ORCH_API_ADMIN_KEY accepted: a person chooses it, so insist on enough entropy. */
export const MIN_ADMIN_KEY_CHARS = 32;

/** The API's auth and tenancy section: ORCH_API_ADMIN_KEY(_FILE), ORCH_TENANT_DEFAULTS, ORCH_SPEND_PER_DAY_TAO. */
export interface AuthSettings {
  readonly tenancy: TenancySettings;
  readonly adminKey?: string;
}

function readAuth(env: Readonly<Record<string, string | undefined>>, errors: string[]): AuthSettings {
  const tenancy = readTenancy(env, errors);
  let adminKey = env.ORCH_API_ADMIN_KEY;
  const file = env.ORCH_API_ADMIN_KEY_FILE;
  if (file !== undefined && file.trim() !== '') {
    try {
      // A mounted Secret's file usually ends in a newline that is no part of the key.
      adminKey = readFileSync(file, 'utf8').trim();
    } catch (error) {
      errors.push(`ORCH_API_ADMIN_KEY_FILE=${file} cannot be read (${(error as Error).message}); mount the Secret there or unset it`);
    }
  }
  if (adminKey !== undefined && adminKey.trim() === '') adminKey = undefined;
  if (adminKey !== undefined && (adminKey.length < MIN_ADMIN_KEY_CHARS || adminKey.length > 512 || !/^[\x21-\x7e]+$/.test(adminKey))) {
    errors.push(
      `the admin key (ORCH_API_ADMIN_KEY or _FILE) must be ${MIN_ADMIN_KEY_CHARS}-512 printable characters without spaces; generate one with \`openssl rand -base64 32\``,
    );
    adminKey = undefined;
  }
  return { tenancy, ...(adminKey === undefined ? {} : { adminKey }) };
}

/** The API's auth section of its config. Throws ApiConfigError naming every bad setting. */
export function authSettings(env: Readonly<Record<string, string | undefined>>): AuthSettings {
  const errors: string[] = [];
  const auth = readAuth(env, errors);
  if (errors.length > 0) throw listingProblems(new ApiConfigError(`invalid API settings: ${errors.join('; ')}`), errors);
  return auth;
}

/** Nest injection token of the {@link ApiSettings} in force. */
export const API_SETTINGS = Symbol('ApiSettings');

/** A setting of the API that is not a positive integer or contradicts another. */
export class ApiConfigError extends OrchestraError {
  override readonly name = 'ApiConfigError';
  readonly retryable = false;
}

/** The HTTP limits when nothing is set (`maxReadBytes` follows the body limit). */
export const DEFAULT_HTTP_SETTINGS: Omit<HttpSettings, 'maxReadBytes'> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxHeaderBytes: 16 * 1024,
};

const HTTP_SETTINGS: ReadonlyArray<readonly [keyof HttpSettings, string]> = [
  ['headersTimeoutMs', 'ORCH_HTTP_HEADERS_TIMEOUT_MS'],
  ['requestTimeoutMs', 'ORCH_HTTP_REQUEST_TIMEOUT_MS'],
  ['keepAliveTimeoutMs', 'ORCH_HTTP_KEEP_ALIVE_TIMEOUT_MS'],
  ['idleTimeoutMs', 'ORCH_HTTP_IDLE_TIMEOUT_MS'],
  ['maxHeaderBytes', 'ORCH_HTTP_MAX_HEADER_BYTES'],
  ['maxReadBytes', 'ORCH_HTTP_MAX_READ_BYTES'],
];

/** HTTP limits an operator set; the rest keep their defaults. */
export type HttpOverrides = Partial<HttpSettings>;

/** The well-formed HTTP settings of `env`; a malformed one is added to `errors` and left out. */
function readHttpOverrides(env: Readonly<Record<string, string | undefined>>, errors: string[]): HttpOverrides {
  const overrides: { -readonly [K in keyof HttpSettings]?: number } = {};
  for (const [key, name] of HTTP_SETTINGS) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) errors.push(`${name} must be a positive integer; got ${JSON.stringify(raw)}`);
    else overrides[key] = value;
  }
  return overrides;
}

/**
 * The API's HTTP section of its config: the `ORCH_HTTP_*` settings, each a positive
 * integer. Throws ApiConfigError naming every bad one; {@link fitApiSettings} checks them
 * against each other and the size limits once connected.
 */
export function httpOverrides(env: Readonly<Record<string, string | undefined>>): HttpOverrides {
  const errors: string[] = [];
  const overrides = readHttpOverrides(env, errors);
  if (errors.length > 0) throw listingProblems(new ApiConfigError(`invalid API settings: ${errors.join('; ')}`), errors);
  return overrides;
}

/**
 * The API's settings: the size limits in force and the HTTP limits (defaults overridden
 * by `overrides`), checked against each other. Throws ApiConfigError naming every bad
 * combination (and any problems already in `errors`).
 */
export function fitApiSettings(overrides: HttpOverrides, limits: SizeLimits, errors: string[] = [], auth: AuthSettings = { tenancy: DEFAULT_TENANCY }): ApiSettings {
  const http: HttpSettings = { ...DEFAULT_HTTP_SETTINGS, maxReadBytes: 4 * limits.maxBodyBytes, ...overrides };
  // Node refuses a headers timeout longer than the request timeout that contains it.
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    errors.push(`ORCH_HTTP_HEADERS_TIMEOUT_MS=${http.headersTimeoutMs} exceeds ORCH_HTTP_REQUEST_TIMEOUT_MS=${http.requestTimeoutMs}; the headers are part of the request`);
  }
  // An SSE stream is quiet between its keep-alive comments; a shorter idle timeout would cut every quiet stream.
  if (http.idleTimeoutMs <= KEEP_ALIVE_MS) {
    errors.push(`ORCH_HTTP_IDLE_TIMEOUT_MS=${http.idleTimeoutMs} must exceed the ${KEEP_ALIVE_MS} ms between an event stream's keep-alive comments`);
  }
  if (http.maxReadBytes < limits.maxBodyBytes) {
    errors.push(`ORCH_HTTP_MAX_READ_BYTES=${http.maxReadBytes} is below ORCH_MAX_BODY_BYTES=${limits.maxBodyBytes}; no body could reach the body limit`);
  }
  if (errors.length > 0) throw listingProblems(new ApiConfigError(`invalid API settings: ${errors.join('; ')}`), errors);
  return { limits, http, ...auth };
}

/**
 * The API's settings from an environment map, fitted to a server's `max_payload` (tests,
 * and the shape of what main.ts assembles from its config). Throws ApiConfigError (or
 * LimitsConfigError) naming every bad setting.
 */
export function apiSettings(env: Record<string, string | undefined> = {}, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): ApiSettings {
  const limits = sizeLimits(env, maxPayloadBytes);
  const errors: string[] = [];
  // A bad value leaves the default in place, so the relations are checked against something sensible.
  const auth = readAuth(env, errors);
  return fitApiSettings(readHttpOverrides(env, errors), limits, errors, auth);
}

/** Where the public API listens: `ORCHESTRA_API_PORT`, `ORCHESTRA_API_HOST`. */
export interface ApiListener {
  readonly port: number;
  readonly host: string;
}

/** The API's listener section. Throws ApiConfigError on a port that is not one. */
export function apiListener(env: Readonly<Record<string, string | undefined>>): ApiListener {
  const host = env.ORCHESTRA_API_HOST?.trim() || '127.0.0.1';
  const raw = env.ORCHESTRA_API_PORT;
  if (raw === undefined || raw.trim() === '') return { port: 8080, host };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ApiConfigError(`ORCHESTRA_API_PORT must be a TCP port (0-65535); got ${JSON.stringify(raw)}`);
  return { port, host };
}

/**
 * How often Node looks for connections past their headers or request timeout, ms. Node's
 * default (30 s) would let a trickling client hold its connection up to 30 s past the
 * timeout; a quarter of the shorter timeout (at most 1 s) keeps the cut-off close to it.
 */
export function timeoutCheckIntervalMs(http: HttpSettings): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 4)));
}
