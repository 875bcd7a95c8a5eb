import {
  Envelope,
  Streams,
  Buckets,
  BucketTtlMs,
  Consumers,
  ConsumerSpec,
  LimitOverrides,
  ObjectBuckets,
  SizeLimits,
  StreamSpec,
  fitLimits,
  listingProblems,
} from '@orchestra/contracts';
import { withPublishSpan } from '@orchestra/service';
import { AckPolicy, DeliverPolicy, JetStreamApiError, JetStreamClient, JetStreamManager, PubAck, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { KV, Kvm } from '@nats-io/kv';
import { NatsConnection, connect, headers as natsHeaders } from '@nats-io/transport-node';
import { NatsAccess, connectionOptions, isAuthorizationFailure } from './access';
import { BusConfigError, BusConnectionError, PayloadTooLargeError } from './errors';
import { objectStreamConfig } from './objects';

/** How streams and buckets are stored; production raises replicas and may require fsync. */
export interface StorageOptions {
  /** Replicas per stream and bucket (1 on a single server, 3 on a production cluster). */
  readonly replicas: number;
  readonly storage: 'file' | 'memory';
  /** Replaces the contracts' max age of the job, task and event streams, ms. */
  readonly maxAgeMs?: number;
  /** Replaces their duplicate window, ms; never below the consumers' redelivery horizon. */
  readonly duplicateWindowMs?: number;
}

export interface BusOptions {
  /** NATS URL(s), e.g. `nats://127.0.0.1:4222`; a string may list several, comma-separated (a cluster's nodes). */
  readonly servers: string | string[];
  /** Connection name, shown by the server (`service@host`). */
  readonly name: string;
  readonly storage?: StorageOptions;
  /** Time to wait for the first connection, ms. */
  readonly connectTimeoutMs?: number;
  /** The durable consumers to create (default: the contracts' `Consumers`; a service's config: {@link consumersFromEnv}). */
  readonly consumers?: readonly ConsumerSpec[];
  /** Credentials, TLS and topology mode (default: none, `ensure`; a service's config: `natsAccessFromEnv`). */
  readonly access?: NatsAccess;
  /** The size limits an operator set (README "Limits"), fitted to the server's `max_payload` once connected; default none. */
  readonly limits?: LimitOverrides;
  /** `ORCH_NATS_STALL_MS` ({@link natsStallMsFromEnv}); default {@link DEFAULT_NATS_STALL_MS}. */
  readonly stallMs?: number;
}

/** How long the connection may go without answering a ping while it counts as connected, ms (`ORCH_NATS_STALL_MS`). */
export const DEFAULT_NATS_STALL_MS = 30_000;
/** How often the connection is pinged, ms. */
const PING_EVERY_MS = 5_000;

/** Whether the connection is alive, as `/healthz` reports it. */
export interface ConnectionHealth {
  readonly live: boolean;
  readonly detail: string;
}

/** Single-server storage: what a bus gets when no storage options are given. */
export const DEFAULT_STORAGE: StorageOptions = { replicas: 1, storage: 'file' };

/**
 * Storage settings from the environment: `ORCH_NATS_REPLICAS`, `ORCH_NATS_STORAGE`,
 * `ORCH_STREAM_MAX_AGE_MS`, `ORCH_STREAM_DUPLICATE_WINDOW_MS` (docs/STREAMS.md). Throws
 * BusConfigError naming every bad one.
 */
export function storageFromEnv(env: Readonly<Record<string, string | undefined>>): StorageOptions {
  const errors: string[] = [];
  const int = (name: string, what: string, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const value = Number(raw);
    if (Number.isSafeInteger(value) && value > 0 && value <= max) return value;
    errors.push(`${name} must be ${what}; got ${JSON.stringify(raw)}`);
    return undefined;
  };
  // JetStream allows at most 5 replicas of a stream.
  const replicas = int('ORCH_NATS_REPLICAS', 'an integer from 1 to 5', 5) ?? DEFAULT_STORAGE.replicas;
  const maxAgeMs = int('ORCH_STREAM_MAX_AGE_MS', 'a positive number of milliseconds');
  const duplicateWindowMs = int('ORCH_STREAM_DUPLICATE_WINDOW_MS', 'a positive number of milliseconds');
  const storage = env.ORCH_NATS_STORAGE?.trim() || DEFAULT_STORAGE.storage;
  if (storage !== 'file' && storage !== 'memory') errors.push(`ORCH_NATS_STORAGE must be "file" or "memory"; got ${JSON.stringify(storage)}`);
  if (errors.length > 0) throw listingProblems(new BusConfigError(`invalid NATS storage settings: ${errors.join('; ')}`), errors);
  return { replicas, storage: storage as StorageOptions['storage'], maxAgeMs, duplicateWindowMs };
}

/**
 * The longest time over which a consumer may see the same message again: every delivery
 * after an ack wait plus the longest backoff. A stream's duplicate window must cover it, or
 * a fact republished after a crash is stored — and acted on — twice (docs/STREAMS.md).
 */
export function redeliveryHorizonMs(consumers: readonly ConsumerSpec[]): number {
  return Math.max(...consumers.map((c) => c.maxDeliver * (c.ackWaitMs + Math.max(0, ...c.backoffMs))));
}

function checkStreamSettings(storage: StorageOptions, consumers: readonly ConsumerSpec[]): void {
  const window = storage.duplicateWindowMs;
  const horizon = redeliveryHorizonMs(consumers);
  if (window !== undefined && window < horizon) {
    throw new BusConfigError(
      `ORCH_STREAM_DUPLICATE_WINDOW_MS=${window} is shorter than the consumers' redelivery horizon of ${horizon} ms; republished messages could be stored twice`,
    );
  }
  const maxAge = storage.maxAgeMs;
  if (maxAge !== undefined && maxAge < (window ?? Streams.jobs.duplicateWindowMs)) {
    throw new BusConfigError(`ORCH_STREAM_MAX_AGE_MS=${maxAge} is shorter than the duplicate window; NATS requires max age ≥ duplicate window`);
  }
}

/**
 * The consumers of libs/contracts, with `ORCH_ACK_WAIT_MS` (when set) replacing every
 * consumer's ack wait. Production keeps the contracts' 30 s; tests and chaos runs use a
 * few seconds so that the messages of a killed replica come back quickly. The same specs
 * configure the server-side consumer and the transport's `working()` heartbeat, so
 * the two always agree.
 */
export function consumersFromEnv(env: Readonly<Record<string, string | undefined>>): ConsumerSpec[] {
  const raw = env.ORCH_ACK_WAIT_MS;
  if (raw === undefined || raw.trim() === '') return Object.values(Consumers);
  const ackWaitMs = Number(raw);
  // The transport renews a lease every ackWait/3 but at most once a second: below 3 s it could lose leases it holds.
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < 3_000) {
    throw new BusConfigError(`ORCH_ACK_WAIT_MS must be an integer number of milliseconds, at least 3000; got ${JSON.stringify(raw)}`);
  }
  return Object.values(Consumers).map((spec) => ({ ...spec, ackWaitMs }));
}

const encoder = new TextEncoder();

/** Room for the headers (message id, trace context, KV and rollup headers) beside a body, bytes. */
const HEADER_ROOM_BYTES = 4 * 1024;

/** `ORCH_NATS_STALL_MS`: how long the connection may go unanswered before it reports not live. */
export function natsStallMsFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.ORCH_NATS_STALL_MS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_NATS_STALL_MS;
  const value = Number(raw);
  // Pings go out every 5 s: a shorter limit would call a healthy connection stalled.
  if (!Number.isSafeInteger(value) || value < 2 * PING_EVERY_MS) {
    throw new BusConfigError(`ORCH_NATS_STALL_MS must be an integer number of milliseconds, at least ${2 * PING_EVERY_MS}; got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * One service's connection to NATS JetStream: publishes envelopes with their
 * deterministic `Nats-Msg-Id` and trace context, and opens the KV buckets.
 */
export class Bus {
  private readonly buckets = new Map<string, Promise<KV>>();
  private connected = true;
  /** False with `ORCH_NATS_TOPOLOGY=verify`: buckets are opened, never created. */
  private managesTopology = true;
  private readonly pinger: NodeJS.Timeout;
  private lastPongAt = Date.now();
  private pinging = false;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly storage: StorageOptions,
    /** The durable consumers as created on the server; the transport reads its settings here. */
    readonly consumers: readonly ConsumerSpec[],
    /**
     * The size budgets in force, fitted to the server's `max_payload`: every publish and
     * KV write is checked against them before it is sent.
     */
    readonly limits: SizeLimits,
    private readonly stallMs: number = DEFAULT_NATS_STALL_MS,
  ) {
    void this.watchConnection();
    this.pinger = setInterval(() => void this.ping(), PING_EVERY_MS);
    this.pinger.unref();
  }

  /**
   * Pings the server. A connection can look connected while nothing it receives is
   * processed any more (a subscription callback that threw kills the client's reader
   * loop; pulls then time out and nothing else notices): a missing pong is how that shows.
   */
  private async ping(): Promise<void> {
    if (this.pinging || !this.connected || this.nc.isClosed()) return;
    this.pinging = true;
    try {
      await Promise.race([this.nc.rtt(), new Promise((_, reject) => setTimeout(() => reject(new Error('no pong')), this.stallMs).unref())]);
      this.lastPongAt = Date.now();
    } catch {
      // Reported by connectionHealth(): the last pong is getting old.
    } finally {
      this.pinging = false;
    }
  }

  /**
   * Not live when the connection closed for good, or when it has counted as connected
   * without answering a ping for `ORCH_NATS_STALL_MS`: a restart is the only cure for
   * either. A disconnected client that is reconnecting is live (and not ready).
   */
  connectionHealth(now = Date.now()): ConnectionHealth {
    if (this.nc.isClosed()) return { live: false, detail: 'NATS connection closed for good' };
    if (!this.connected) return { live: true, detail: 'reconnecting' };
    const silent = now - this.lastPongAt;
    if (silent > this.stallMs) return { live: false, detail: `NATS connection stalled: no pong for ${silent} ms (limit ${this.stallMs} ms, ORCH_NATS_STALL_MS)` };
    return { live: true, detail: 'up' };
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      else if (status.type === 'reconnect') {
        this.connected = true;
        // Silence while disconnected is not a stall; the stall clock starts again now.
        this.lastPongAt = Date.now();
      }
    }
  }

  /** Connects (reconnecting forever afterwards) and makes sure every stream, consumer and bucket exists. */
  static async connect(opts: BusOptions): Promise<Bus> {
    const storage = opts.storage ?? DEFAULT_STORAGE;
    const consumers = opts.consumers ?? Object.values(Consumers);
    checkStreamSettings(storage, consumers);
    const access = opts.access ?? {};
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers:
          typeof opts.servers === 'string'
            ? opts.servers
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : opts.servers,
        name: opts.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: opts.connectTimeoutMs ?? 10_000,
        // Otherwise every request (each JetStream publish and KV read) builds two Errors up front
        // to keep the caller's stack for a possible failure: 2–3% of each service's CPU under
        // load (npm run bench, orchestra case, BENCH_CPU_PROF=1). Failures still say what failed.
        noAsyncTraces: true,
        ...connectionOptions(access),
      });
    } catch (error) {
      if (isAuthorizationFailure(error)) {
        // Wrong credentials do not get better by retrying: say so, and which user was refused.
        const who = access.user ? `user "${access.user}"` : access.credsFile ? `the credentials in ${access.credsFile}` : 'a connection without credentials';
        throw new BusConfigError(`NATS at ${String(opts.servers)} refused ${who} (${(error as Error).message}); check ORCH_NATS_USER/ORCH_NATS_PASSWORD or ORCH_NATS_CREDS`, {
          cause: error,
        });
      }
      throw new BusConnectionError(`cannot connect to NATS at ${String(opts.servers)}: ${(error as Error).message}; is nats-server running (with -js)?`, {
        cause: error,
      });
    }
    try {
      // The budgets follow the server actually connected to: a server with a smaller
      // max_payload than NATS's default gets smaller records, not writes that fail forever.
      const limits = fitLimits(opts.limits, nc.info?.max_payload);
      const bus = new Bus(nc, jetstream(nc), await jetstreamManager(nc), storage, consumers, limits, opts.stallMs ?? DEFAULT_NATS_STALL_MS);
      try {
        if (access.topology === 'verify') {
          bus.managesTopology = false;
          await bus.verifyTopology();
        } else {
          await bus.ensureTopology();
        }
      } catch (error) {
        clearInterval(bus.pinger);
        throw error;
      }
      return bus;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Checks that every stream, durable consumer and KV bucket exists, without creating or
   * changing any (`ORCH_NATS_TOPOLOGY=verify`: NACK or an operator owns them). Throws
   * BusConfigError listing everything missing.
   */
  async verifyTopology(): Promise<void> {
    const missing: string[] = [];
    const exists = (what: string, check: () => Promise<unknown>) =>
      check().catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
        missing.push(what);
      });
    for (const spec of Object.values(Streams)) await exists(`stream ${spec.name}`, () => this.jsm.streams.info(spec.name));
    for (const spec of this.consumers) await exists(`consumer ${spec.stream}/${spec.durable}`, () => this.jsm.consumers.info(spec.stream, spec.durable));
    for (const bucket of Object.values(Buckets)) await exists(`KV bucket ${bucket}`, () => this.jsm.streams.info(`KV_${bucket}`));
    for (const bucket of Object.values(ObjectBuckets)) await exists(`object bucket ${bucket}`, () => this.jsm.streams.info(objectStreamConfig(bucket).name));
    if (missing.length > 0) {
      throw new BusConfigError(
        `ORCH_NATS_TOPOLOGY=verify, but the topology is incomplete: ${missing.join(', ')} missing; create it as an operator (npm run topology) or with NACK, or run a service with ORCH_NATS_TOPOLOGY=ensure`,
      );
    }
  }

  /** Creates or updates every stream, durable consumer and KV bucket. Safe to run from every replica. */
  async ensureTopology(): Promise<void> {
    for (const spec of Object.values(Streams)) await this.ensureStream(spec);
    for (const spec of this.consumers) await this.ensureConsumer(spec);
    for (const bucket of Object.values(Buckets)) await this.ensureBucket(bucket);
    for (const bucket of Object.values(ObjectBuckets)) await this.ensureObjectBucket(bucket);
  }

  private async ensureObjectBucket(bucket: (typeof ObjectBuckets)[keyof typeof ObjectBuckets]): Promise<void> {
    const config = { ...objectStreamConfig(bucket), num_replicas: this.storage.replicas };
    try {
      const { config: current } = await this.jsm.streams.info(config.name);
      // Every replica of every service runs this at start: update only what differs, as for KV buckets.
      const differs = (Object.keys(config) as Array<keyof typeof config>).some((k) => JSON.stringify(current[k]) !== JSON.stringify(config[k]));
      if (differs) await this.jsm.streams.update(config.name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.jsm.streams.add({ ...config, storage: this.storage.storage === 'memory' ? StorageType.Memory : StorageType.File });
    }
  }

  /** Opens the bucket (creating it with its TTL) and brings an existing bucket's TTL up to date. */
  private async ensureBucket(bucket: (typeof Buckets)[keyof typeof Buckets]): Promise<void> {
    await this.kv(bucket);
    const ttlNanos = (BucketTtlMs[bucket] ?? 0) * 1_000_000;
    const stream = `KV_${bucket}`;
    const { config } = await this.jsm.streams.info(stream);
    if (config.max_age !== ttlNanos) await this.jsm.streams.update(stream, { ...config, max_age: ttlNanos });
  }

  private async ensureStream(spec: StreamSpec): Promise<void> {
    // The dead-letter and audit streams keep their own settings: their retention is for people, their ids are unique.
    const own = spec === Streams.deadLetters || spec.appendOnly === true;
    const config = {
      name: spec.name,
      subjects: [...spec.subjects],
      description: spec.description,
      max_age: (own ? spec.maxAgeMs : (this.storage.maxAgeMs ?? spec.maxAgeMs)) * 1_000_000,
      duplicate_window: (own ? spec.duplicateWindowMs : (this.storage.duplicateWindowMs ?? spec.duplicateWindowMs)) * 1_000_000,
      num_replicas: this.storage.replicas,
      storage: this.storage.storage === 'memory' ? StorageType.Memory : StorageType.File,
      ...(spec.appendOnly ? { deny_delete: true, deny_purge: true } : {}),
    };
    try {
      await this.jsm.streams.info(spec.name);
      const { storage: _immutable, ...mutable } = config;
      await this.jsm.streams.update(spec.name, mutable);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.jsm.streams.add(config);
    }
  }

  private async ensureConsumer(spec: ConsumerSpec): Promise<void> {
    const config = {
      durable_name: spec.durable,
      filter_subject: spec.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: spec.ackWaitMs * 1_000_000,
      // Unlimited at the server: the transport enforces spec.maxDeliver itself. The server
      // would drop a message silently once its deliveries ran out (say the last ones were
      // cut short by crashes); the transport dead-letters it with the reason instead.
      max_deliver: -1,
      max_ack_pending: spec.maxAckPending,
    };
    try {
      await this.jsm.consumers.info(spec.stream, spec.durable);
      const { durable_name: _name, deliver_policy: _deliver, ...mutable } = config;
      await this.jsm.consumers.update(spec.stream, spec.durable, mutable);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.jsm.consumers.add(spec.stream, config);
    }
  }

  /**
   * Opens (creating if needed) a KV bucket; cached per bucket and read mode.
   *
   * `reads: 'any'` lets any replica answer a read (direct get): fast, but with replicated
   * buckets a follower may answer with a revision it has not caught up past. `'leader'`
   * sends reads to the bucket's stream leader. A compare-and-set whose `decide` may
   * conclude "nothing to do" from what it read (the planner's job transitions) needs
   * `'leader'`: from a stale revision it would drop a message as a duplicate.
   */
  kv(bucket: string, reads: 'any' | 'leader' = 'any'): Promise<KV> {
    const key = `${bucket}|${reads}`;
    let opened = this.buckets.get(key);
    if (!opened) {
      opened =
        reads === 'leader'
          ? this.kv(bucket).then(() => new Kvm(this.nc).open(bucket, { allow_direct: false }))
          : !this.managesTopology
            ? new Kvm(this.nc).open(bucket)
            : new Kvm(this.nc).create(bucket, {
                history: 1,
                ttl: BucketTtlMs[bucket as keyof typeof BucketTtlMs],
                replicas: this.storage.replicas,
                storage: this.storage.storage === 'memory' ? StorageType.Memory : StorageType.File,
              });
      opened.catch(() => this.buckets.delete(key));
      this.buckets.set(key, opened);
    }
    return opened;
  }

  /**
   * Publishes an envelope to a subject with `Nats-Msg-Id` = envelope id, so the stream
   * drops a republish of the same fact, and a PRODUCER span whose
   * trace context (and the job id) travel in the headers.
   */
  async publish(subject: string, message: Envelope): Promise<PubAck> {
    const headers = natsHeaders();
    const data = encoder.encode(JSON.stringify(message));
    this.checkSize(`subject ${subject} (message ${message.id})`, data.length);
    return withPublishSpan({ subject, jobId: message.jobId, messageId: message.id, bodyBytes: data.length }, { set: (k, v) => headers.set(k, v) }, () =>
      this.js.publish(subject, data, { msgID: message.id, headers }),
    );
  }

  /**
   * Throws PayloadTooLargeError when a body of `bytes` would not fit the server's
   * `max_payload` (less the room headers take). Checked before sending: the server would
   * refuse it on every retry, and the client's own error would read as a transient one.
   */
  checkSize(target: string, bytes: number): void {
    const limit = this.limits.maxPayloadBytes - HEADER_ROOM_BYTES;
    if (bytes > limit) throw new PayloadTooLargeError(target, bytes, limit);
  }

  /** True while the connection is up (for readiness). */
  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  /** Drains the connection: flushes pending publishes, then closes. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.status === 404;
}
