import { performance } from 'node:perf_hooks';
import type * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { DEFAULT_LIMITS, truncateText } from '@orchestra/contracts';
import { checkShape, zodIssues } from '../answer';
import { instantOf, SocialQueryInputSchema, SocialSource } from '@orchestra/schemas';
import { InvalidProviderInputError, ProviderAbortedError, ProviderError, ProviderFault, UnsupportedCapabilityError } from '../errors';
import { DEFAULT_MAX_RETRY_AFTER_MS, DEFAULT_RATE_LIMIT_WAIT_MS, parseRetryAfter } from '../http';
import type { Cost, Provider, ProviderAnswer, ProviderCall, SocialPost, SourceInfo } from '../types';
import { grpcJs, OnDemandDataRequestMessage, sn13Service } from './sn13-proto';
import { ProtoStruct, StructDepthError, structToJson } from './struct';

/**
 * Macrocosmos Constellation (SN13) over gRPC: `sn13.v1.Sn13Service/OnDemandData` with metadata
 * `authorization: Bearer <key>` (as macrocosmos-ts' BaseClient sends it). Sources are the
 * platforms SN13 scrapes (`x`, `reddit`). The proto types each post as a free-form Struct, so the
 * fields read are data-universe's names (`url`/`uri`, `text`/`content`/`body`, `username`/`user.username`,
 * `timestamp`/`datetime`/`createdAt`); a post without a link, text or date is a wrong-schema answer.
 */

export const CONSTELLATION_DEFAULT_TARGET = 'constellation.api.cloud.macrocosmos.ai:443';
export const CONSTELLATION_SOURCES = ['x', 'reddit'] as const;
/** Trailing metadata a rate-limited answer may carry with the wait in seconds (the HTTP header's grammar). */
export const RETRY_AFTER_METADATA = 'retry-after';

export interface ConstellationOptions {
  readonly apiKey: string;
  /** `host:port`; default the public endpoint. */
  readonly target?: string;
  /** TLS (default: on, except for loopback targets, like macrocosmos-ts). */
  readonly secure?: boolean;
  /** Price per call, USD: Constellation reports none with the answer (otherwise calls are `unpriced`). */
  readonly usdPerCall?: number;
  /** Largest answer accepted, bytes (gRPC max receive message length). */
  readonly maxResponseBytes?: number;
  readonly maxRetryAfterMs?: number;
  /** Sent as `x-source`, as the SDK does. */
  readonly appName?: string;
}

interface OnDemandDataResponseMessage {
  status?: string;
  data?: ProtoStruct[];
  meta?: ProtoStruct;
}

type OnDemandClient = grpc.Client & {
  OnDemandData(
    request: OnDemandDataRequestMessage,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: OnDemandDataResponseMessage) => void,
  ): grpc.ClientUnaryCall;
};

const str = (max: number) => z.string().min(1).max(max);
/** One post as data-universe names its fields; aliases resolved in postOf. */
const PostShape = z
  .object({
    url: str(2_048)
      .regex(/^https?:\/\//i, 'an http(s) URL')
      .optional(),
    uri: str(2_048)
      .regex(/^https?:\/\//i, 'an http(s) URL')
      .optional(),
    text: z.string().max(100_000).optional(),
    content: z.string().max(100_000).optional(),
    body: z.string().max(100_000).optional(),
    username: str(200).optional(),
    user: z
      .object({ username: str(200).optional() })
      .passthrough()
      .optional(),
    timestamp: str(100).optional(),
    datetime: str(100).optional(),
    createdAt: str(100).optional(),
  })
  .passthrough()
  .refine((p) => p.url ?? p.uri, { message: 'a post needs url (or uri)' })
  .refine((p) => (p.text ?? p.content ?? p.body) !== undefined, { message: 'a post needs text (or content, or body)' })
  .refine((p) => !Number.isNaN(Date.parse(p.timestamp ?? p.datetime ?? p.createdAt ?? '')), { message: 'a post needs a timestamp (or datetime, or createdAt)' });

export class ConstellationProvider implements Provider {
  readonly id = 'constellation' as const;
  readonly capabilities = ['data.social'] as const;
  private readonly client: OnDemandClient;

  constructor(private readonly options: ConstellationOptions) {
    const target = options.target ?? CONSTELLATION_DEFAULT_TARGET;
    const loopback = /^(localhost|127\.|\[::1\])/.test(target);
    const secure = options.secure ?? !loopback;
    const { client } = sn13Service();
    const { credentials } = grpcJs();
    this.client = new client(target, secure ? credentials.createSsl() : credentials.createInsecure(), {
      'grpc.max_receive_message_length': options.maxResponseBytes ?? DEFAULT_LIMITS.recordBudgetBytes,
    }) as unknown as OnDemandClient;
  }

  async listSources(): Promise<SourceInfo[]> {
    return CONSTELLATION_SOURCES.map((id) => ({
      provider: 'constellation',
      id,
      capabilities: ['data.social'],
      price: { kind: 'per_call', ...(this.options.usdPerCall !== undefined ? { usd: this.options.usdPerCall } : {}) },
    }));
  }

  async call(call: ProviderCall): Promise<ProviderAnswer> {
    if (call.capability !== 'data.social' || !(CONSTELLATION_SOURCES as readonly string[]).includes(call.source)) {
      throw new UnsupportedCapabilityError(
        `constellation serves data.social from ${CONSTELLATION_SOURCES.join(', ')}; not ${call.capability} from "${truncateText(call.source, 100)}"`,
      );
    }
    const parsed = SocialQueryInputSchema.safeParse(call.input);
    if (!parsed.success) throw new InvalidProviderInputError('constellation', call.capability, zodIssues(parsed.error));
    const q = parsed.data;
    if (q.source && q.source !== call.source) {
      throw new UnsupportedCapabilityError(`constellation source ${call.source} gives ${call.source} posts, but the query asks for ${q.source} only; hire a ${q.source} source`);
    }
    const request: OnDemandDataRequestMessage = {
      source: call.source,
      usernames: q.usernames ?? [],
      keywords: q.keywords,
      keyword_mode: q.keywordMode ?? 'all',
      limit: q.limit ?? 20,
      ...(q.since ? { start_date: instantOf(q.since) } : {}),
      ...(q.until ? { end_date: instantOf(q.until, true) } : {}),
    };
    const start = performance.now();
    const response = await this.onDemandData(request, call.timeoutMs, call.signal);
    if (response.status !== 'success') {
      const said = truncateText(JSON.stringify(safeStruct(response.meta)), 300);
      throw new ProviderError('constellation', 'unavailable', `constellation OnDemandData answered status "${truncateText(String(response.status), 50)}": ${said}`);
    }
    let items: Record<string, unknown>[];
    try {
      items = (response.data ?? []).map((s) => structToJson(s, DEFAULT_LIMITS.maxJsonDepth));
    } catch (error) {
      if (!(error instanceof StructDepthError)) throw error;
      throw new ProviderError('constellation', 'bad_response', `constellation OnDemandData: ${error.message}`, { cause: error });
    }
    const posts = checkShape('constellation', 'OnDemandData', items, z.array(PostShape)).map((p) => postOf(call.source, p));
    const value = { posts };
    return {
      provider: 'constellation',
      source: call.source,
      capability: call.capability,
      raw: JSON.stringify(value),
      value,
      usage: { items: posts.length },
      cost: this.costOf(),
      latencyMs: performance.now() - start,
      // gRPC hides the wire size; the decoded posts' JSON is the measure (bounded by the receive cap).
      responseBytes: Buffer.byteLength(JSON.stringify(items)),
    };
  }

  close(): void {
    this.client.close();
  }

  private costOf(): Cost {
    return this.options.usdPerCall !== undefined ? { usd: this.options.usdPerCall, basis: 'configured' } : { usd: 0, basis: 'unpriced' };
  }

  private onDemandData(request: OnDemandDataRequestMessage, timeoutMs: number, signal?: AbortSignal): Promise<OnDemandDataResponseMessage> {
    if (signal?.aborted) return Promise.reject(new ProviderAbortedError('call aborted by the caller', { cause: signal.reason }));
    const metadata = new (grpcJs().Metadata)();
    metadata.set('authorization', `Bearer ${this.options.apiKey}`);
    metadata.set('x-source', this.options.appName ?? 'orchestra');
    metadata.set('x-client-id', 'orchestra');
    return new Promise((resolve, reject) => {
      const onAbort = (): void => unary.cancel();
      const unary = this.client.OnDemandData(request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          if (signal?.aborted) reject(new ProviderAbortedError('call aborted by the caller', { cause: signal.reason }));
          else reject(grpcError(error, timeoutMs, this.options.maxRetryAfterMs));
        } else resolve(response ?? {});
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The ProviderError for a gRPC failure status: whose fault, whether and when to retry. */
export function grpcError(error: grpc.ServiceError, timeoutMs: number, maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS, nowMs = Date.now()): ProviderError {
  const { status } = grpcJs();
  const details = truncateText(error.details || error.message, 300);
  const where = 'constellation OnDemandData';
  const make = (fault: ProviderFault, message: string, retryAfterMs?: number): ProviderError =>
    new ProviderError('constellation', fault, `${where}: ${message}`, { status: error.code, retryAfterMs, cause: error });
  switch (error.code) {
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      return make('auth', `the API key was refused (${status[error.code]}: ${details}); check ORCH_CONSTELLATION_API_KEY`);
    case status.RESOURCE_EXHAUSTED: {
      // grpc-js reports our own receive cap as RESOURCE_EXHAUSTED too: that is an oversized answer, not a rate limit.
      if (/larger than max/i.test(details)) return make('too_large', `answer exceeds the response budget (${details})`);
      const header = error.metadata?.get(RETRY_AFTER_METADATA)[0];
      const wait = parseRetryAfter(typeof header === 'string' ? header : undefined, nowMs, maxRetryAfterMs) ?? DEFAULT_RATE_LIMIT_WAIT_MS;
      return make('rate_limited', `rate limited (${details}); retry after ${wait} ms`, wait);
    }
    case status.DEADLINE_EXCEEDED:
      return make('timeout', `no answer within ${timeoutMs} ms`);
    case status.INVALID_ARGUMENT:
    case status.NOT_FOUND:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
    case status.UNIMPLEMENTED:
      return make('rejected', `the request was refused (${status[error.code]}: ${details}); this is a bug in how Orchestra calls it`);
    case status.INTERNAL:
      if (/pars/i.test(details)) return make('bad_response', `the answer is not a valid OnDemandDataResponse (${details})`);
      return make('unavailable', `failed (INTERNAL: ${details})`);
    default:
      return make('unavailable', `failed (${status[error.code] ?? error.code}: ${details})`);
  }
}

function postOf(source: string, p: z.infer<typeof PostShape>): SocialPost {
  return {
    url: (p.url ?? p.uri) as string,
    // The platform the call named (CONSTELLATION_SOURCES, all of them data.social sources).
    source: source as SocialSource,
    author: p.username ?? p.user?.username ?? '',
    date: new Date(Date.parse((p.timestamp ?? p.datetime ?? p.createdAt) as string)).toISOString(),
    text: (p.text ?? p.content ?? p.body) as string,
  };
}

function safeStruct(struct: ProtoStruct | undefined): unknown {
  try {
    return structToJson(struct, 8);
  } catch {
    return '(unreadable meta)';
  }
}
