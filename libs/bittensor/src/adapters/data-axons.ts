import { performance } from 'node:perf_hooks';
import { describeIssues } from '@orchestra/schemas';
import type { z } from 'zod';
import { Dendrite, DendriteResult } from '../dendrite';
import { failureFromError } from '../net';
import { SynapseDefinition } from '../synapse';
import {
  answerSocialQuery,
  DataCapability,
  isSocialPlatform,
  SOCIAL_PLATFORMS,
  SocialQueryInputSchema,
  socialRaw,
  socialWindow,
  searchRaw,
  WebSearchInputSchema,
} from './data-query';
import { RequestBudget } from './request-budget';
import {
  DATA_UNIVERSE_PERIOD_MS,
  DATA_UNIVERSE_PROTOCOL_VERSION,
  DATA_UNIVERSE_REQUEST_LIMITS,
  GET_CONTENTS_BY_BUCKETS,
  GET_MINER_INDEX,
  IndexedLabel,
  parseMinerIndex,
  postsFromContents,
  selectBuckets,
} from './sn13-data-universe';
import {
  DESEARCH_RATE_LIMIT,
  SCRAPER_STREAMING_SYNAPSE,
  searchEventsToResults,
  socialToTwitterSearch,
  tweetsToPosts,
  TWITTER_SEARCH_SYNAPSE,
  webSearchToScraper,
} from './sn22-desearch';
import { HireRequest, InvalidHireInputError, MinerReply, MinerTarget, UnsupportedCapabilityError } from './types';

/**
 * Data capabilities over data-subnet axons: `data.social` from SN13 (data-universe) and SN22
 * (Desearch), `web.search` from SN22. Each hire is one or more synapse calls whose answers are
 * normalized to the capability's one output shape (`{"posts":[…]}`, `{"results":[…]}`), so the
 * verifier checks one shape whatever the subnet. Like every adapter, a miner's fault (an
 * error, a malformed answer) is its failed reply, never a throw.
 */

/** A data subnet's client. */
export interface DataAxonAdapter {
  readonly netuid: number;
  readonly capabilities: readonly DataCapability[];
  hire(target: MinerTarget, req: HireRequest): Promise<MinerReply>;
}

/** Tuning of the SN13 client. */
export interface DataUniverseOptions {
  /** How long a miner's index is reused, ms (default the subnet's period, one hour: GetMinerIndex is allowed once an hour). */
  readonly indexTtlMs?: number;
  /** Miners whose index is kept at most (default 32; an index may list 350,000 buckets). */
  readonly maxCachedIndexes?: number;
  /** Largest GetMinerIndex answer read, bytes (default 8 MiB: the index stays here, it never travels on the bus). */
  readonly maxIndexBytes?: number;
  /** Buckets named in one GetContentsByBuckets (default 24, at most the subnet's 100). */
  readonly maxBuckets?: number;
  /** Requests per miner per synapse and period (default DATA_UNIVERSE_REQUEST_LIMITS). */
  readonly requestLimits?: Readonly<Record<string, number>>;
  readonly periodMs?: number;
  readonly now?: () => number;
}

/** What the data adapters share with the synapse adapter that hosts them. */
export interface DataAxonDeps {
  readonly dendrite: Dendrite;
  readonly textLimitChars?: number;
  readonly maxJsonDepth?: number;
}

/** Several calls of one hire, summed into one reply's figures. */
class HireCalls {
  private readonly start = performance.now();
  private responseBytes = 0;
  private processTimeMs: number | undefined;

  constructor(
    private readonly target: MinerTarget,
    private readonly deps: DataAxonDeps,
    private readonly req: HireRequest,
  ) {}

  async call(definition: SynapseDefinition, values: Record<string, unknown>, maxResponseBytes?: number): Promise<DendriteResult> {
    const result = await this.deps.dendrite.call(this.target, definition, values, { timeoutMs: this.req.timeoutMs, signal: this.req.signal, maxResponseBytes });
    this.responseBytes += result.responseBytes;
    if (result.processTimeMs !== undefined) this.processTimeMs = Math.max(this.processTimeMs ?? 0, result.processTimeMs);
    return result;
  }

  private get figures() {
    return { latencyMs: performance.now() - this.start, processTimeMs: this.processTimeMs, responseBytes: this.responseBytes };
  }

  failed(result: DendriteResult): MinerReply {
    return { ok: false, statusCode: result.statusCode, statusMessage: result.statusMessage, fault: result.fault, ...this.figures };
  }

  /** The miner's answer could not be read (MinerAnswerError and the like): 422, as the SDK reports an unparseable answer. */
  malformed(route: string, error: unknown): MinerReply {
    const failure = failureFromError(error, { ip: this.target.ip, port: this.target.port, route, timeoutMs: this.req.timeoutMs, textLimitChars: this.deps.textLimitChars });
    return { ok: false, ...failure, ...this.figures };
  }

  /** Not sent: our budget of this synapse with this miner is spent until `nextAt`. */
  budgetSpent(route: string, limit: number, periodMs: number, nextAt: number): MinerReply {
    const statusMessage = `${route} not sent: the subnet allows ${limit} per ${Math.round(periodMs / 60_000)} minute(s) per validator hotkey and they are spent with this miner until ${new Date(nextAt).toISOString()}`;
    return { ok: false, statusCode: 429, statusMessage, fault: 'rate_limited', ...this.figures };
  }

  ok(raw: string): MinerReply {
    return { ok: true, statusCode: 200, statusMessage: 'Success', raw, ...this.figures };
  }
}

function parseInput<S extends z.ZodTypeAny>(schema: S, req: HireRequest): z.infer<S> {
  const parsed = schema.safeParse(req.input);
  if (!parsed.success) throw new InvalidHireInputError(req.capability, describeIssues(parsed.error), { cause: parsed.error });
  return parsed.data;
}

/**
 * SN13 data-universe: `data.social` from a miner's stored posts. GetMinerIndex (cached per miner
 * for `indexTtlMs`), then one GetContentsByBuckets for the buckets of the requested platforms
 * (X and Reddit when none is named) labelled after the keywords within the window, newest first
 * (unlabelled buckets fill up); the posts are filtered to the query (keywords all/any, authors,
 * window) and cut to its limit. Each synapse is sent within the subnet's per-hotkey budget
 * (1 index, 5 contents an hour per miner); a call past it is not sent (429 `rate_limited`).
 */
export class DataUniverseAdapter implements DataAxonAdapter {
  readonly netuid = 13;
  readonly capabilities = ['data.social'] as const;
  private readonly budget: RequestBudget;
  private readonly indexes = new Map<string, { at: number; index: IndexedLabel[] }>();
  private readonly now: () => number;

  constructor(
    private readonly deps: DataAxonDeps,
    private readonly options: DataUniverseOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.budget = new RequestBudget(this.limits, this.periodMs, this.now);
  }

  private get limits(): Readonly<Record<string, number>> {
    return this.options.requestLimits ?? DATA_UNIVERSE_REQUEST_LIMITS;
  }

  private get periodMs(): number {
    return this.options.periodMs ?? DATA_UNIVERSE_PERIOD_MS;
  }

  async hire(target: MinerTarget, req: HireRequest): Promise<MinerReply> {
    if (req.capability !== 'data.social') throw new UnsupportedCapabilityError('synapse', req.capability);
    const q = parseInput(SocialQueryInputSchema, req);
    if (q.source && !isSocialPlatform(q.source))
      throw new UnsupportedCapabilityError('synapse', `data.social from ${q.source} (SN13 axons store ${SOCIAL_PLATFORMS.join(' and ')} only)`);
    const window = socialWindow(q, this.now());
    const calls = new HireCalls(target, this.deps, req);

    const minerKey = `${target.hotkey}@${target.ip}:${target.port}`;
    let index = this.cachedIndex(minerKey);
    if (!index) {
      const refused = this.spend(calls, target, GET_MINER_INDEX.name);
      if (refused) return refused;
      const answer = await calls.call(GET_MINER_INDEX, { version: DATA_UNIVERSE_PROTOCOL_VERSION }, this.options.maxIndexBytes ?? 8 * 1024 * 1024);
      if (!answer.ok) return calls.failed(answer);
      try {
        index = parseMinerIndex(answer.values.compressed_index_serialized, this.deps.maxJsonDepth);
      } catch (error) {
        return calls.malformed(GET_MINER_INDEX.name, error);
      }
      this.cacheIndex(minerKey, index);
    }

    const ids = selectBuckets(index, {
      platforms: q.source && isSocialPlatform(q.source) ? [q.source] : SOCIAL_PLATFORMS,
      keywords: q.keywords,
      window,
      maxBuckets: this.options.maxBuckets ?? 24,
    });
    // Nothing stored for this query: an honest empty answer, and no contents call spent on it.
    if (ids.length === 0) return calls.ok(socialRaw([]));
    const refused = this.spend(calls, target, GET_CONTENTS_BY_BUCKETS.name);
    if (refused) return refused;
    const answer = await calls.call(GET_CONTENTS_BY_BUCKETS, { version: DATA_UNIVERSE_PROTOCOL_VERSION, data_entity_bucket_ids: ids });
    if (!answer.ok) return calls.failed(answer);
    try {
      const posts = postsFromContents(answer.values.bucket_ids_to_contents, ids, this.deps.maxJsonDepth);
      return calls.ok(socialRaw(answerSocialQuery(posts, q, window)));
    } catch (error) {
      return calls.malformed(GET_CONTENTS_BY_BUCKETS.name, error);
    }
  }

  private spend(calls: HireCalls, target: MinerTarget, route: string): MinerReply | undefined {
    const nextAt = this.budget.take(target.hotkey, route);
    return nextAt === undefined ? undefined : calls.budgetSpent(route, this.limits[route], this.periodMs, nextAt);
  }

  private cachedIndex(key: string): IndexedLabel[] | undefined {
    const entry = this.indexes.get(key);
    if (entry && this.now() - entry.at < (this.options.indexTtlMs ?? this.periodMs)) return entry.index;
    this.indexes.delete(key);
    return undefined;
  }

  private cacheIndex(key: string, index: IndexedLabel[]): void {
    this.indexes.set(key, { at: this.now(), index });
    const max = this.options.maxCachedIndexes ?? 32;
    for (const oldest of this.indexes.keys()) {
      if (this.indexes.size <= max) break;
      this.indexes.delete(oldest);
    }
  }
}

/** Tuning of the SN22 client. */
export interface DesearchAxonOptions {
  /** Requests per miner per window (default the miners' own: 500 a minute). */
  readonly rateLimit?: { readonly maxRequests: number; readonly windowMs: number };
  readonly now?: () => number;
}

/**
 * SN22 Desearch: `data.social` over TwitterSearchSynapse (X only: the query string Desearch's
 * gateway takes), `web.search` over ScraperStreamingSynapse with the web tool alone (its
 * `search` events). Within the miners' per-hotkey rate (500 a minute).
 */
export class DesearchAxonAdapter implements DataAxonAdapter {
  readonly netuid = 22;
  readonly capabilities = ['data.social', 'web.search'] as const;
  private readonly budget: RequestBudget;
  private readonly rate: { readonly maxRequests: number; readonly windowMs: number };

  constructor(
    private readonly deps: DataAxonDeps,
    options: DesearchAxonOptions = {},
  ) {
    this.rate = options.rateLimit ?? DESEARCH_RATE_LIMIT;
    this.budget = new RequestBudget({ any: this.rate.maxRequests }, this.rate.windowMs, options.now);
  }

  async hire(target: MinerTarget, req: HireRequest): Promise<MinerReply> {
    if (req.capability === 'data.social') {
      const q = parseInput(SocialQueryInputSchema, req);
      if (q.source && q.source !== 'x') throw new UnsupportedCapabilityError('synapse', `data.social from ${q.source} (SN22 axons search X only)`);
      const calls = new HireCalls(target, this.deps, req);
      const refused = this.spend(calls, target, TWITTER_SEARCH_SYNAPSE.name);
      if (refused) return refused;
      const answer = await calls.call(TWITTER_SEARCH_SYNAPSE, socialToTwitterSearch(q));
      if (!answer.ok) return calls.failed(answer);
      try {
        return calls.ok(socialRaw(tweetsToPosts(answer.values.results)));
      } catch (error) {
        return calls.malformed(TWITTER_SEARCH_SYNAPSE.name, error);
      }
    }
    if (req.capability === 'web.search') {
      const q = parseInput(WebSearchInputSchema, req);
      const calls = new HireCalls(target, this.deps, req);
      const refused = this.spend(calls, target, SCRAPER_STREAMING_SYNAPSE.name);
      if (refused) return refused;
      const answer = await calls.call(SCRAPER_STREAMING_SYNAPSE, webSearchToScraper(q));
      if (!answer.ok) return calls.failed(answer);
      try {
        return calls.ok(searchRaw(searchEventsToResults(answer.events ?? [], q.count ?? 10)));
      } catch (error) {
        return calls.malformed(SCRAPER_STREAMING_SYNAPSE.name, error);
      }
    }
    throw new UnsupportedCapabilityError('synapse', req.capability);
  }

  private spend(calls: HireCalls, target: MinerTarget, route: string): MinerReply | undefined {
    const nextAt = this.budget.take(target.hotkey, 'any');
    return nextAt === undefined ? undefined : calls.budgetSpent(route, this.rate.maxRequests, this.rate.windowMs, nextAt);
  }
}

/** The data adapters by netuid, sharing one dendrite. */
export function dataAxonAdapters(deps: DataAxonDeps, options: { dataUniverse?: DataUniverseOptions; desearch?: DesearchAxonOptions } = {}): ReadonlyMap<number, DataAxonAdapter> {
  const adapters: DataAxonAdapter[] = [new DataUniverseAdapter(deps, options.dataUniverse), new DesearchAxonAdapter(deps, options.desearch)];
  return new Map(adapters.map((a) => [a.netuid, a]));
}
