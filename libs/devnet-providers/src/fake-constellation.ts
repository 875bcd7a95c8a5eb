import * as grpc from '@grpc/grpc-js';
import { jsonToStruct, OnDemandDataRequestMessage, RETRY_AFTER_METADATA, sn13Service } from '@orchestra/providers';
import { BehaviourTuning, pause, planOf, ProviderBehaviour, RequestCounter } from './behaviours';
import { Post, socialPosts } from './corpus';

/**
 * A fake Macrocosmos Constellation: a gRPC server of `sn13.v1.Sn13Service` loaded from the same
 * vendored .proto as the client, answering `OnDemandData` for `authorization: Bearer <key>`
 * metadata. The key selects the behaviour (behaviours.ts); `good` answers any keywords, authors
 * and window from the seeded corpus with posts in data-universe's field names (X: `url`,
 * `username`, `text`, `timestamp`, `tweet_hashtags`; Reddit: `url`, `username`, `body`,
 * `createdAt`, `communityName`). Rate limits carry `retry-after` (seconds) in the trailers;
 * garbage is bytes that do not decode as an OnDemandDataResponse.
 */

export interface FakeConstellationOptions extends BehaviourTuning {
  /** API key → behaviour; an unknown or missing key gets UNAUTHENTICATED. */
  readonly apiKeys: Readonly<Record<string, ProviderBehaviour>>;
  readonly seed?: string;
  readonly now?: () => number;
  readonly host?: string;
  readonly port?: number;
}

export interface FakeGrpcServer {
  /** `host:port` for a gRPC client. */
  readonly target: string;
  readonly port: number;
  /** Requests received, with their arrival time (Date.now()). */
  readonly requests: ReadonlyArray<{ readonly request: OnDemandDataRequestMessage; readonly authorization?: string; readonly at: number }>;
  stop(): Promise<void>;
}

/** A response the serializer replaces by bytes that are not a valid message. */
const GARBAGE = Symbol('garbage');
/** A tag of wire type 7 (which protobuf does not have) on field 1: decoding fails. */
const GARBAGE_BYTES = Buffer.from([0x0f, 0xff, 0xff]);
/** The most posts one request may ask for (SN13's own cap). */
const MAX_LIMIT = 1000;

export async function startFakeConstellation(options: FakeConstellationOptions): Promise<FakeGrpcServer> {
  const { service } = sn13Service();
  const onDemand = service['OnDemandData'];
  const serialize = onDemand.responseSerialize;
  // The real service definition, except that the garbage marker serializes to undecodable bytes.
  const served: grpc.ServiceDefinition = {
    ...service,
    OnDemandData: { ...onDemand, responseSerialize: (value: unknown) => (value === GARBAGE ? GARBAGE_BYTES : serialize(value)) },
  };
  const counter = new RequestCounter();
  const requests: Array<{ request: OnDemandDataRequestMessage; authorization?: string; at: number }> = [];
  const seed = options.seed ?? 'devnet';
  const now = options.now ?? Date.now;
  const server = new grpc.Server();
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>): void => callback({ code: grpc.status.UNIMPLEMENTED, details: 'not simulated on the devnet' });
  server.addService(served, {
    ListTopics: unimplemented,
    ValidateRedditTopic: unimplemented,
    OnDemandData: (call: grpc.ServerUnaryCall<OnDemandDataRequestMessage, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void handle(call, callback);
    },
  });

  async function handle(call: grpc.ServerUnaryCall<OnDemandDataRequestMessage, unknown>, callback: grpc.sendUnaryData<unknown>): Promise<void> {
    const authorization = call.metadata.get('authorization')[0]?.toString();
    requests.push({ request: call.request, authorization, at: Date.now() });
    const key = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const behaviour = key === undefined ? undefined : options.apiKeys[key];
    if (behaviour === undefined) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'invalid API key' });
    const req = call.request;
    const platform = String(req.source ?? '').toLowerCase();
    if (platform !== 'x' && platform !== 'reddit') return callback({ code: grpc.status.INVALID_ARGUMENT, details: `unsupported source "${req.source}"; use x or reddit` });
    const keywords = req.keywords ?? [];
    if (keywords.length === 0 && (req.usernames ?? []).length === 0 && !req.url) {
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'keywords, usernames or url is required' });
    }
    const plan = planOf(behaviour, counter.next(key as string), options);
    switch (plan.kind) {
      case 'rate-limited': {
        const metadata = new grpc.Metadata();
        metadata.set(RETRY_AFTER_METADATA, String(plan.retryAfterSeconds));
        return callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'rate limit exceeded', metadata });
      }
      case 'unavailable':
        return callback({ code: grpc.status.UNAVAILABLE, details: plan.intermittent ? 'upstream miner failed' : 'service unavailable' });
      case 'garbage':
        return callback(null, GARBAGE);
      case 'wrong-schema':
        return callback(null, { status: 'success', data: [jsonToStruct({ id: 'p1', payload: keywords.join(' ') })], meta: jsonToStruct({}) });
      case 'good': {
        const cancelled = new AbortController();
        call.on('cancelled', () => cancelled.abort());
        await pause(plan.delayMs, cancelled.signal);
        if (cancelled.signal.aborted) return;
      }
    }
    const limit = Math.min(MAX_LIMIT, Math.max(1, Number(req.limit ?? 100) || 100));
    const since = req.start_date ? Date.parse(req.start_date) : undefined;
    const until = req.end_date ? Math.min(Date.parse(req.end_date), now()) : undefined;
    const posts = socialPosts(
      { keywords: keywords.length ? keywords : ['news'], mode: req.keyword_mode === 'any' ? 'any' : 'all', usernames: req.usernames, since, until, limit, platform },
      seed,
      now(),
    );
    callback(null, {
      status: 'success',
      data: posts.map((p) => jsonToStruct(platform === 'x' ? xContent(p) : redditContent(p))),
      meta: jsonToStruct({ source: platform, returned: posts.length, miners_queried: 3 }),
    });
  }

  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    target: `${host}:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Calls still running (slow answers) must not hold the shutdown.
        setTimeout(() => server.forceShutdown(), 200).unref();
      }),
  };
}

/** data-universe `XContent`. */
function xContent(p: Post): Record<string, unknown> {
  return { url: p.url, username: p.author, text: p.text, timestamp: p.date, tweet_hashtags: p.hashtags, uri: p.url, datetime: p.date, source: 'X' };
}

/** data-universe `RedditContent`. */
function redditContent(p: Post): Record<string, unknown> {
  return { id: p.id, url: p.url, username: p.author, communityName: `r/${p.url.split('/')[4]}`, body: p.text, createdAt: p.date, dataType: 'post', title: p.text.split(':')[0] };
}
