import {
  DataEntityBucketId,
  GET_CONTENTS_BY_BUCKETS,
  GET_DATA_ENTITY_BUCKET,
  GET_MINER_INDEX,
  DATA_UNIVERSE_PROTOCOL_VERSION,
  BULK_BUCKETS_COUNT_LIMIT,
  SCRAPER_STREAMING_SYNAPSE,
  StreamedReply,
  SynapseDefinition,
  TWITTER_SEARCH_SYNAPSE,
} from '@orchestra/bittensor';
import type { AnswerKind } from './behaviours';
import { bucketContents, bucketEntities, COLLUDED_TEXT, compressedIndex, searchResults, searchTweets } from './social-content';

/** How a synapse route answers: the response fields (or a stream) per answer kind; `nowMs` is the miner's clock. */
export type SynapseAnswer = (kind: Exclude<AnswerKind, 'replay' | 'garbage'>, values: Readonly<Record<string, unknown>>, nowMs: number) => Record<string, unknown> | StreamedReply;

/** A synapse a simulated miner serves. */
export interface SynapseRoute {
  readonly definition: SynapseDefinition;
  readonly answer: SynapseAnswer;
}

/** The bucket ids a request names, as far as they are bucket ids (the rest is skipped, as pydantic would refuse it). */
function askedBuckets(value: unknown): DataEntityBucketId[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(
      (id): id is DataEntityBucketId =>
        typeof id === 'object' &&
        id !== null &&
        typeof id.source === 'number' &&
        typeof id.time_bucket?.id === 'number' &&
        (id.label === null || id.label === undefined || typeof id.label.value === 'string'),
    )
    .map((id) => ({ time_bucket: { id: id.time_bucket.id }, source: id.source, label: id.label ?? null }));
}

/**
 * SN13 data-universe miners (neurons/miner.py get_index / get_data_entity_bucket /
 * get_contents_by_buckets) over the seeded store. `wrong-schema` miners answer contents that
 * are not XContent/RedditContent (a numeric timestamp, no url); `colluding` ones rewrite every
 * post's words to COLLUDED_TEXT.
 */
export const DATA_UNIVERSE_ROUTES: readonly SynapseRoute[] = [
  {
    definition: GET_MINER_INDEX,
    answer: (_kind, values, nowMs) => {
      // "Only synapse.version 4 is supported at this time": older callers get their synapse back unanswered.
      if (typeof values.version !== 'number' || values.version < DATA_UNIVERSE_PROTOCOL_VERSION) return {};
      return { compressed_index_serialized: JSON.stringify(compressedIndex(nowMs)), version: DATA_UNIVERSE_PROTOCOL_VERSION };
    },
  },
  {
    definition: GET_DATA_ENTITY_BUCKET,
    answer: (_kind, values, nowMs) => {
      const [id] = askedBuckets([values.data_entity_bucket_id]);
      return { data_entities: id ? bucketEntities(id, nowMs) : [], version: DATA_UNIVERSE_PROTOCOL_VERSION };
    },
  },
  {
    definition: GET_CONTENTS_BY_BUCKETS,
    answer: (kind, values, nowMs) => {
      const ids = askedBuckets(values.data_entity_bucket_ids);
      // Over the limit the miner logs a warning and returns the synapse as it came.
      if (ids.length > BULK_BUCKETS_COUNT_LIMIT) return {};
      const contents = (id: DataEntityBucketId): string[] => {
        if (kind === 'wrong-schema')
          return bucketContents(id, nowMs).map((c) => JSON.stringify({ ...(JSON.parse(c) as object), url: undefined, timestamp: 1_764_000_000, createdAt: 1_764_000_000 }));
        return bucketContents(id, nowMs, kind === 'colluding' ? COLLUDED_TEXT : undefined);
      };
      const pairs = ids.map((id): [DataEntityBucketId, string[]] => [id, contents(id)]);
      return { bucket_ids_to_contents: pairs.filter(([, c]) => c.length > 0), version: DATA_UNIVERSE_PROTOCOL_VERSION };
    },
  },
];

/**
 * SN22 Desearch miners (neurons/miners: twitter_search, smart_scraper) searching the seeded
 * generator: tweets holding the query's terms, web results about the prompt, streamed as the
 * ScraperMiner streams them (a `search` event, then `completion`). `wrong-schema` drops what a
 * citation needs (no `created_at`, links that are not URLs); `colluding` rewrites the words.
 */
export const DESEARCH_ROUTES: readonly SynapseRoute[] = [
  {
    definition: TWITTER_SEARCH_SYNAPSE,
    answer: (kind, values, nowMs) => {
      const tweets = searchTweets(values, nowMs, kind === 'colluding' ? COLLUDED_TEXT : undefined);
      return { results: kind === 'wrong-schema' ? tweets.map((t) => ({ ...t, created_at: undefined, text: 42 })) : tweets };
    },
  },
  {
    definition: SCRAPER_STREAMING_SYNAPSE,
    answer: (kind, values, nowMs) => {
      const results = searchResults(values, nowMs, kind === 'colluding' ? COLLUDED_TEXT : undefined);
      const content = kind === 'wrong-schema' ? results.map((r) => ({ ...r, link: r.title })) : results;
      const tools = Array.isArray(values.tools) ? values.tools : [];
      return new StreamedReply([...(tools.includes('Web Search') ? [{ type: 'search', content }] : []), { type: 'completion', content: '' }]);
    },
  },
];
