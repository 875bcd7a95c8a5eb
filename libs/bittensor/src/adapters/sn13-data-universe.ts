import { z } from 'zod';
import { OrchestraError, parseUntrustedJson, truncateText } from '@orchestra/contracts';
import { defineSynapse, SynapseDefinition } from '../synapse';
import { bareKeyword, isoDateOf, SocialPlatform, SocialPost, TimeWindow } from './data-query';

/**
 * SN13 Data Universe as its axons serve it today (macrocosm-os/data-universe @ 4b0620dd,
 * common/protocol.py, common/data.py, neurons/miner.py). A miner stores scraped posts in
 * buckets keyed by (hour since the epoch, source, label); validators read its index of buckets
 * (GetMinerIndex), then one bucket's entities (GetDataEntityBucket) or the raw contents of up
 * to 100 buckets at once (GetContentsByBuckets). None declares `required_hash_fields`, so the
 * body hash is sha3("") and the signature does not cover the body (a data-universe property).
 * Every field is optional in Python, so no `bt_header_input_obj_*` header is sent.
 */

/** common/constants.py PROTOCOL_VERSION: miners answer GetMinerIndex only to version >= 4. */
export const DATA_UNIVERSE_PROTOCOL_VERSION = 4;

/** `BaseProtocol.version`, the first field of every data-universe synapse. */
const version = { default: null };

export const GET_MINER_INDEX = defineSynapse({
  name: 'GetMinerIndex',
  fields: { version, compressed_index_serialized: { default: null } },
  requiredHashFields: [],
});

export const GET_DATA_ENTITY_BUCKET = defineSynapse({
  name: 'GetDataEntityBucket',
  fields: { version, data_entity_bucket_id: { default: null }, data_entities: { default: [] } },
  requiredHashFields: [],
});

export const GET_CONTENTS_BY_BUCKETS = defineSynapse({
  name: 'GetContentsByBuckets',
  fields: { version, data_entity_bucket_ids: { default: null }, bucket_ids_to_contents: { default: [] } },
  requiredHashFields: [],
});

/** The synapses of today's SN13 axons. */
export const DATA_UNIVERSE_SYNAPSES: readonly SynapseDefinition[] = [GET_MINER_INDEX, GET_DATA_ENTITY_BUCKET, GET_CONTENTS_BY_BUCKETS];

/**
 * common/protocol.py REQUEST_LIMIT_BY_TYPE_PER_PERIOD: requests per validator hotkey per
 * evaluation period (constants.MIN_EVALUATION_PERIOD, 60 minutes). Miners refuse past twice
 * these ("to account for restarts"); Orchestra keeps to them.
 */
export const DATA_UNIVERSE_REQUEST_LIMITS: Readonly<Record<string, number>> = Object.freeze({ GetMinerIndex: 1, GetDataEntityBucket: 1, GetContentsByBuckets: 5 });

/** constants.MIN_EVALUATION_PERIOD, ms. */
export const DATA_UNIVERSE_PERIOD_MS = 3_600_000;

/** neurons/config.py `--vpermit_rao_limit` default: the stake (metagraph.S) a validator needs. */
export const DATA_UNIVERSE_MIN_STAKE = 10_000;

/** constants.BULK_BUCKETS_COUNT_LIMIT: buckets one GetContentsByBuckets may name. */
export const BULK_BUCKETS_COUNT_LIMIT = 100;

/** constants.DATA_ENTITY_BUCKET_COUNT_LIMIT_PER_MINER_INDEX_PROTOCOL_4: buckets an index may hold. */
export const MINER_INDEX_BUCKET_LIMIT = 350_000;

/** constants.MAX_LABEL_LENGTH. */
export const MAX_LABEL_LENGTH = 140;

/** common/data.py DataSource. */
export const DataSource = Object.freeze({ REDDIT: 1, X: 2 });

const PLATFORM_OF_SOURCE: Readonly<Record<number, SocialPlatform>> = { [DataSource.REDDIT]: 'reddit', [DataSource.X]: 'x' };
const SOURCE_OF_PLATFORM: Readonly<Record<SocialPlatform, number>> = { reddit: DataSource.REDDIT, x: DataSource.X };

/** common/data.py DataEntityBucketId as it travels in JSON (pydantic `use_enum_values`: source is the int). */
export interface DataEntityBucketId {
  readonly time_bucket: { readonly id: number };
  readonly source: number;
  readonly label: { readonly value: string } | null;
}

/** utils.seconds_to_hours: the TimeBucket id of an instant, hours since the epoch. */
export function timeBucketOf(ms: number): number {
  return Math.floor(ms / 3_600_000);
}

/** A bucket id as data-universe builds it: the label lowercased (DataLabel's validator) and at most 140 characters. */
export function bucketId(source: number, label: string | null, timeBucket: number): DataEntityBucketId {
  return { time_bucket: { id: timeBucket }, source, label: label === null ? null : { value: label.toLowerCase().slice(0, MAX_LABEL_LENGTH) } };
}

/** One key per bucket id, for sets and maps. */
export function bucketKey(id: DataEntityBucketId): string {
  return `${id.source}|${id.time_bucket.id}|${id.label?.value ?? ''}`;
}

/** What a miner's answer got wrong: its fault, reported as its failed reply. */
export class MinerAnswerError extends OrchestraError {
  override readonly name = 'MinerAnswerError';
  readonly retryable = false;
}

/** One label's buckets in a miner's index, kept as compact as the wire form (an index may list 350,000 buckets). */
export interface IndexedLabel {
  readonly source: number;
  /** Lowercased, as DataLabel stores it; null for posts without one. */
  readonly label: string | null;
  readonly timeBuckets: readonly number[];
  readonly sizesBytes: readonly number[];
}

/** How many buckets an index lists. */
export function indexBucketCount(index: readonly IndexedLabel[]): number {
  return index.reduce((n, l) => n + l.timeBuckets.length, 0);
}

/**
 * The buckets of a GetMinerIndex answer (`compressed_index_serialized`, a JSON text inside the
 * synapse's JSON). Throws MinerAnswerError when it is missing, not JSON, too deep, not the
 * CompressedMinerIndex shape, or holds more buckets than protocol 4 allows.
 */
export function parseMinerIndex(serialized: unknown, maxDepth?: number): IndexedLabel[] {
  if (typeof serialized !== 'string') throw new MinerAnswerError(`GetMinerIndex answered no compressed_index_serialized (got ${serialized === null ? 'None' : typeof serialized})`);
  let json: unknown;
  try {
    json = parseUntrustedJson(serialized, { maxDepth });
  } catch (error) {
    throw new MinerAnswerError(`compressed_index_serialized is ${(error as Error).message}`);
  }
  // Checked by hand and per label, not per bucket: an index may list 350,000 buckets, and a
  // schema library spends seconds of the event loop validating every element of them.
  const sources = (json as { sources?: unknown } | null)?.sources;
  if (typeof sources !== 'object' || sources === null || Array.isArray(sources))
    throw new MinerAnswerError('compressed_index_serialized is not a CompressedMinerIndex: no "sources" object');
  const index: IndexedLabel[] = [];
  let count = 0;
  for (const [source, compressed] of Object.entries(sources as Record<string, unknown>)) {
    if (!/^\d{1,3}$/.test(source) || !Array.isArray(compressed))
      throw new MinerAnswerError(`compressed index source ${truncateText(JSON.stringify(source), 20)} is not a DataSource with a list of buckets`);
    for (const b of compressed as unknown[]) {
      const { label, time_bucket_ids: times, sizes_bytes: sizes } = (b ?? {}) as { label?: unknown; time_bucket_ids?: unknown; sizes_bytes?: unknown };
      if (!(label === null || label === undefined || (typeof label === 'string' && label.length <= MAX_LABEL_LENGTH))) {
        throw new MinerAnswerError(`compressed index of source ${source}: a label is not a string of at most ${MAX_LABEL_LENGTH} characters`);
      }
      const what = `compressed index label ${truncateText(JSON.stringify(label ?? null), MAX_LABEL_LENGTH + 2)}`;
      if (!Array.isArray(times) || !Array.isArray(sizes) || times.length !== sizes.length)
        throw new MinerAnswerError(`${what}: time_bucket_ids and sizes_bytes are not two lists of one length`);
      if ((count += times.length) > MINER_INDEX_BUCKET_LIMIT) throw new MinerAnswerError(`compressed index holds more than ${MINER_INDEX_BUCKET_LIMIT} buckets`);
      // The elements are checked where they are read (selectBuckets): only a query's labels ever are.
      index.push({ source: Number(source), label: typeof label === 'string' ? label.toLowerCase() : null, timeBuckets: times as number[], sizesBytes: sizes as number[] });
    }
  }
  return index;
}

/** The labels under which data-universe files posts about a keyword: X by first hashtag or cashtag (`#nvda`, `$nvda`), Reddit by subreddit (`r/nvda`). */
export function labelsFor(keyword: string, platform: SocialPlatform): string[] {
  const k = bareKeyword(keyword).replace(/\s+/g, '');
  return platform === 'x' ? [`#${k}`, `$${k}`] : [`r/${k}`];
}

/** A listed bucket worth asking for: a positive integer hour within [first, last] holding bytes (anything else the miner listed is skipped). */
function isBucketInWindow(hour: unknown, size: unknown, first: number, last: number): boolean {
  return Number.isSafeInteger(hour) && (hour as number) >= first && (hour as number) <= last && (hour as number) > 0 && Number.isSafeInteger(size) && (size as number) > 0;
}

/** What to read from a miner's index for a social query. */
export interface BucketQuery {
  readonly platforms: readonly SocialPlatform[];
  readonly keywords: readonly string[];
  readonly window: TimeWindow;
  /** Buckets to name at most (BULK_BUCKETS_COUNT_LIMIT at most). */
  readonly maxBuckets: number;
}

/**
 * The buckets worth reading for a query: of the wanted platforms, whose hour overlaps the
 * window (and that hold bytes), labelled after one of the keywords — newest first; then, to fill up, unlabelled
 * buckets of those hours (posts without a hashtag may still name the keywords), newest first.
 */
export function selectBuckets(index: readonly IndexedLabel[], q: BucketQuery): DataEntityBucketId[] {
  const sources = new Set(q.platforms.map((p) => SOURCE_OF_PLATFORM[p]));
  const labels = new Set(q.platforms.flatMap((p) => q.keywords.flatMap((k) => labelsFor(k, p))));
  const first = timeBucketOf(q.window.fromMs);
  const last = timeBucketOf(q.window.toMs);
  const pick = (wanted: (l: IndexedLabel) => boolean): DataEntityBucketId[] =>
    index
      .filter((l) => sources.has(l.source) && wanted(l))
      .flatMap((l) => l.timeBuckets.flatMap((t, i) => (isBucketInWindow(t, l.sizesBytes[i], first, last) ? [bucketId(l.source, l.label, t)] : [])))
      .sort((a, b) => b.time_bucket.id - a.time_bucket.id);
  const labelled = pick((l) => l.label !== null && labels.has(l.label));
  const unlabelled = pick((l) => l.label === null);
  return [...labelled, ...unlabelled].slice(0, Math.min(q.maxBuckets, BULK_BUCKETS_COUNT_LIMIT));
}

const text = (max: number) => z.string().max(max);
const httpUrl = z
  .string()
  .max(2_048)
  .regex(/^https?:\/\/[^\s]+$/i, 'an http(s) URL');
/** scraping/x/model.py XContent: the fields a citation needs (others pass). */
const XContentShape = z.object({ username: text(200), text: text(100_000), url: httpUrl, timestamp: text(100) }).passthrough();
/** scraping/reddit/model.py RedditContent (by alias): the fields a citation needs. */
const RedditContentShape = z.object({ url: httpUrl, username: text(200), body: text(200_000), createdAt: text(100), title: text(2_000).nullable().optional() }).passthrough();

const BucketContentsShape = z.array(z.tuple([z.unknown(), z.array(z.unknown())]));

/**
 * Contents read of one answer at most: a query keeps at most 100 posts, and a miner may send up
 * to 200,000 (BULK_CONTENTS_COUNT_LIMIT), each a JSON text to parse and check; past this the
 * answer's newest buckets (asked for first) have been read and the rest is left unread.
 */
export const MAX_CONTENTS_READ = 10_000;

/**
 * The posts of a GetContentsByBuckets answer (`bucket_ids_to_contents`: `[[bucket id, [content,
 * …]], …]`, each content the UTF-8 JSON of an XContent or RedditContent), normalized. Contents
 * of buckets that were not asked for are ignored, and past MAX_CONTENTS_READ contents the rest. Throws MinerAnswerError for anything malformed:
 * the answer's shape, a content that is not JSON or lacks what a citation needs, a date that is not one.
 */
export function postsFromContents(answer: unknown, asked: readonly DataEntityBucketId[], maxDepth?: number): SocialPost[] {
  const pairs = BucketContentsShape.safeParse(answer);
  if (!pairs.success) throw new MinerAnswerError('bucket_ids_to_contents is not a list of [bucket id, [content, …]] pairs');
  const askedKeys = new Map(asked.map((id) => [bucketKey(id), id]));
  const posts: SocialPost[] = [];
  for (const [rawId, contents] of pairs.data) {
    const id = askedKeys.get(bucketKeyOf(rawId));
    if (!id) continue;
    for (const content of contents) {
      if (posts.length >= MAX_CONTENTS_READ) return posts;
      posts.push(postOf(id.source, content, maxDepth));
    }
  }
  return posts;
}

function bucketKeyOf(raw: unknown): string {
  const id = raw as Partial<DataEntityBucketId> | null;
  const label = id?.label && typeof id.label.value === 'string' ? id.label.value : '';
  return `${id?.source}|${id?.time_bucket?.id}|${label}`;
}

function postOf(source: number, content: unknown, maxDepth?: number): SocialPost {
  const platform = PLATFORM_OF_SOURCE[source];
  if (typeof content !== 'string') throw new MinerAnswerError(`a ${platform} content is ${content === null ? 'None' : typeof content}, not the JSON text of a post`);
  let json: unknown;
  try {
    json = parseUntrustedJson(content, { maxDepth });
  } catch (error) {
    throw new MinerAnswerError(`a ${platform} content is ${(error as Error).message}`);
  }
  if (platform === 'x') {
    const x = XContentShape.safeParse(json);
    const date = x.success ? isoDateOf(x.data.timestamp) : undefined;
    if (!x.success || !date) throw new MinerAnswerError(`an X content is not an XContent (username, text, url, timestamp): ${truncateText(content, 200)}`);
    return { url: x.data.url, source: 'x', author: x.data.username, date, text: x.data.text };
  }
  const r = RedditContentShape.safeParse(json);
  const date = r.success ? isoDateOf(r.data.createdAt) : undefined;
  if (!r.success || !date) throw new MinerAnswerError(`a Reddit content is not a RedditContent (url, username, body, createdAt): ${truncateText(content, 200)}`);
  return { url: r.data.url, source: 'reddit', author: r.data.username, date, text: r.data.title ? `${r.data.title}\n\n${r.data.body}` : r.data.body };
}

/** The platform of a data-universe source int. */
export function platformOfSource(source: number): SocialPlatform | undefined {
  return PLATFORM_OF_SOURCE[source];
}

/** The data-universe source int of a platform. */
export function sourceOfPlatform(platform: SocialPlatform): number {
  return SOURCE_OF_PLATFORM[platform];
}
