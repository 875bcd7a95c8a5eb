import { z } from 'zod';
import { truncateText } from '@orchestra/contracts';
import { desearchShapes, desearchTweetPost, twitterParams } from '@orchestra/providers';
import { instantOf } from '@orchestra/schemas';
import { defineSynapse } from '../synapse';
import { isoDateOf, SearchItem, SocialPost, SocialQueryInput, WebSearchInput } from './data-query';
import { MinerAnswerError } from './sn13-data-universe';

/**
 * SN22 Desearch as its axons serve it (Desearch-ai/subnet-22 @ bea9712f, desearch/protocol.py,
 * desearch/synapse.py, neurons/miners/miner.py). Desearch's Synapse classes override
 * `to_headers` to send `bt_header_input_obj_*` for `get_required_fields()` (`prompt`, `query`)
 * and declare no `required_hash_fields`, so the body hash is sha3("").
 */

/** desearch/__init__.py: what the miners' blacklist demands on finney. */
export const DESEARCH_MIN_ALPHA_STAKE = 20;
export const DESEARCH_MIN_TOTAL_STAKE = 20_000;
/** neurons/miners/miner.py: requests per hotkey per window. */
export const DESEARCH_RATE_LIMIT = { maxRequests: 500, windowMs: 60_000 } as const;

/** `TwitterSearchSynapse`: X advanced search; the miner fills `results` with TwitterScraperTweet dicts. */
export const TWITTER_SEARCH_SYNAPSE = defineSynapse({
  name: 'TwitterSearchSynapse',
  fields: {
    query: { default: '', required: true },
    sort: { default: null },
    user: { default: null },
    count: { default: 20 },
    start_date: { default: null },
    end_date: { default: null },
    lang: { default: null },
    verified: { default: null },
    blue_verified: { default: null },
    is_quote: { default: null },
    is_video: { default: null },
    is_image: { default: null },
    min_retweets: { default: null },
    min_replies: { default: null },
    min_likes: { default: null },
    max_execution_time: { default: null },
    validator_tweets: { default: [] },
    results: { default: [] },
  },
  requiredHashFields: [],
});

/**
 * `ScraperStreamingSynapse` (a StreamingSynapse): the miner runs the `tools` named and streams
 * one JSON event per result set (`{"type":"search","content":[SearchResultItem…]}` for "Web
 * Search", `tweets`, `text`…), ending with `{"type":"completion",…}`.
 */
export const SCRAPER_STREAMING_SYNAPSE = defineSynapse({
  name: 'ScraperStreamingSynapse',
  streaming: true,
  fields: {
    scoring_model: { default: 'openai/gpt-4.1-nano' },
    prompt: { default: '', required: true },
    completion: { default: '' },
    model: { default: 'NOVA' },
    count: { default: 10 },
    system_message: { default: '' },
    scoring_system_message: { default: '' },
    tools: { default: [] },
    include_domains: { default: [] },
    exclude_domains: { default: [] },
    start_date: { default: null },
    end_date: { default: null },
    date_filter_type: { default: null },
    language: { default: 'en' },
    region: { default: 'us' },
    google_date_filter: { default: 'qdr:w' },
    validator_tweets: { default: [] },
    validator_links: { default: [] },
    miner_link_scores: { default: {} },
    miner_tweets: { default: [] },
    search_results: { default: [] },
    wikipedia_search_results: { default: [] },
    youtube_search_results: { default: [] },
    arxiv_search_results: { default: [] },
    reddit_search_results: { default: [] },
    hacker_news_search_results: { default: [] },
    text_chunks: { default: {} },
    flow_items: { default: [] },
    chat_history: { default: [] },
    max_execution_time: { default: null },
    mode: { default: null },
    max_items: { default: null },
    result_type: { default: null },
  },
  requiredHashFields: [],
});

/** The web tool's name in `tools` (desearch/tools/search/web_search_tool.py). */
export const DESEARCH_WEB_TOOL = 'Web Search';

/** `count` bounds of ScraperStreamingSynapse (pydantic ge=10, le=200). */
const SCRAPER_COUNT_MIN = 10;
const SCRAPER_COUNT_MAX = 200;

/** The TwitterSearchSynapse for a social query: the query string and window Desearch's `/twitter` gateway takes (one place: `twitterParams`). */
export function socialToTwitterSearch(q: SocialQueryInput): Record<string, unknown> {
  const params = twitterParams(q);
  return { query: params.query, sort: params.sort, count: Number(params.count), start_date: params.start_date ?? null, end_date: params.end_date ?? null };
}

/**
 * The ScraperStreamingSynapse for a web search: the web tool only, links without a summary,
 * the window as the miner parses it (`%Y-%m-%dT%H:%M:%SZ`).
 */
export function webSearchToScraper(q: WebSearchInput): Record<string, unknown> {
  return {
    prompt: q.query,
    tools: [DESEARCH_WEB_TOOL],
    result_type: 'ONLY_LINKS',
    count: Math.min(SCRAPER_COUNT_MAX, Math.max(SCRAPER_COUNT_MIN, q.count ?? SCRAPER_COUNT_MIN)),
    start_date: q.since ? instantOf(q.since) : null,
    end_date: q.until ? instantOf(q.until, true) : null,
  };
}

/** A TwitterSearchSynapse's `results`, normalized. Throws MinerAnswerError when they are not TwitterScraperTweets a citation can use. */
export function tweetsToPosts(results: unknown): SocialPost[] {
  const tweets = desearchShapes.twitter.safeParse(results ?? []);
  if (!tweets.success) throw new MinerAnswerError(`results are not TwitterScraperTweets: ${issues(tweets.error)}`);
  return tweets.data.map(desearchTweetPost);
}

/** desearch/protocol.py SearchResultItem: what a citation needs. */
const SearchResultItemShape = z
  .object({
    title: z.string().max(1_000),
    link: z
      .string()
      .max(2_048)
      .regex(/^https?:\/\/[^\s]+$/i, 'an http(s) URL'),
    snippet: z.string().max(10_000),
    published_date: z.string().max(100).nullable().optional(),
  })
  .passthrough();
const SearchEventShape = z.object({ type: z.literal('search'), content: z.array(SearchResultItemShape).max(1_000) }).passthrough();

/**
 * The web results of a ScraperStreamingSynapse's event stream (every `search` event, in
 * order), normalized; a `published_date` that is not a date is left out. Throws
 * MinerAnswerError when an event is not an object with a `type`, or a `search` event's
 * content is not SearchResultItems, or no `search` event came at all.
 */
export function searchEventsToResults(events: readonly unknown[], count: number): SearchItem[] {
  const results: SearchItem[] = [];
  let searched = false;
  for (const event of events) {
    if (typeof event !== 'object' || event === null || Array.isArray(event) || typeof (event as { type?: unknown }).type !== 'string') {
      throw new MinerAnswerError('a stream event is not an object with a "type"');
    }
    if ((event as { type: string }).type !== 'search') continue;
    const parsed = SearchEventShape.safeParse(event);
    if (!parsed.success) throw new MinerAnswerError(`a "search" event is not a list of SearchResultItems: ${issues(parsed.error)}`);
    searched = true;
    for (const item of parsed.data.content) {
      const date = isoDateOf(item.published_date);
      results.push({ url: item.link, title: item.title, snippet: item.snippet, ...(date ? { date } : {}) });
    }
  }
  if (!searched) throw new MinerAnswerError(`the stream holds no "search" event (${events.length} events)`);
  const seen = new Set<string>();
  return results.filter((r) => !seen.has(r.url) && seen.add(r.url)).slice(0, count);
}

function issues(error: z.ZodError): string {
  return truncateText(
    error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; '),
    300,
  );
}
