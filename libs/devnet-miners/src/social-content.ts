import { createHash } from 'node:crypto';
import { bucketId, DataEntityBucketId, DataSource, timeBucketOf, type SearchItem } from '@orchestra/bittensor';

/**
 * What the simulated data miners hold: seeded, deterministic posts and search results, so every
 * honest miner answers a query alike and a test can say what it expects. SN13 miners store
 * hourly buckets of X and Reddit posts about a few topics over the last STORE_HOURS hours (as
 * data-universe files them: X by first hashtag, Reddit by subreddit, some X posts unlabelled);
 * SN22 miners search on demand, so their tweets and web results are made from the query itself.
 */

/** Hours of posts an SN13 miner holds, back from now. */
export const STORE_HOURS = 72;

/** Posts per bucket. */
export const POSTS_PER_BUCKET = 2;

/** A topic the SN13 miners hold posts about. */
export interface Topic {
  readonly tag: string;
  readonly name: string;
  readonly ticker: string;
}

export const TOPICS: readonly Topic[] = [
  { tag: 'nvda', name: 'NVIDIA', ticker: 'NVDA' },
  { tag: 'aapl', name: 'Apple', ticker: 'AAPL' },
  { tag: 'msft', name: 'Microsoft', ticker: 'MSFT' },
  { tag: 'tsla', name: 'Tesla', ticker: 'TSLA' },
  { tag: 'btc', name: 'Bitcoin', ticker: 'BTC' },
  { tag: 'tao', name: 'Bittensor', ticker: 'TAO' },
];

/** What every colluding miner writes instead of the posts' words: they agree with each other, not with anyone who posted. */
export const COLLUDED_TEXT = 'Insiders confirm a record quarter is already priced in; sell before the call.';

const SENTENCES = [
  '{name} ({ticker}) earnings beat: revenue up and guidance raised, per the call.',
  'Watching ${ticker} into the close. {name} revenue growth still strong; margins are the question.',
  '{name} guidance looks conservative to me. ${ticker} earnings next week.',
  'Is {name} overvalued? ${ticker} trades at a premium on revenue, but the earnings keep coming.',
];
const HANDLES = ['marketwatcher', 'chipanalyst', 'quantqueen', 'valuehunter', 'macro_mike', 'dtao_daily', 'fundflows', 'tapereader'];

function seed(...parts: readonly (string | number)[]): number {
  return createHash('sha256').update(parts.join('|')).digest().readUInt32BE(0);
}

function fill(template: string, topic: Topic): string {
  return template.replace(/\{name\}/g, topic.name).replace(/\{ticker\}/g, topic.ticker);
}

/** The X label and the subreddit a topic's posts are filed under. */
function labelsOf(topic: Topic): { x: string; reddit: string } {
  return { x: `#${topic.tag}`, reddit: `r/${topic.tag}` };
}

/** common/data.py CompressedMinerIndex of the store at `nowMs`, as GetMinerIndex serializes it. */
export function compressedIndex(nowMs: number): { sources: Record<string, { label: string | null; time_bucket_ids: number[]; sizes_bytes: number[] }[]> } {
  const hour = timeBucketOf(nowMs);
  const hours = Array.from({ length: STORE_HOURS }, (_, i) => hour - i);
  const entry = (label: string | null, source: number) => ({
    label,
    time_bucket_ids: hours,
    sizes_bytes: hours.map((h) => bucketContents(bucketId(source, label, h), nowMs).reduce((n, c) => n + Buffer.byteLength(c), 0)),
  });
  return {
    sources: {
      [DataSource.REDDIT]: TOPICS.map((t) => entry(labelsOf(t).reddit, DataSource.REDDIT)),
      [DataSource.X]: [...TOPICS.map((t) => entry(labelsOf(t).x, DataSource.X)), entry(null, DataSource.X)],
    },
  };
}

/** One stored post, before it is serialized as its platform's content model. */
interface StoredPost {
  readonly url: string;
  readonly username: string;
  readonly text: string;
  readonly title: string;
  readonly atMs: number;
  readonly topic: Topic;
}

function storedPosts(id: DataEntityBucketId, nowMs: number): StoredPost[] {
  const hour = id.time_bucket.id;
  if (hour > timeBucketOf(nowMs) || hour <= timeBucketOf(nowMs) - STORE_HOURS) return [];
  const label = id.label?.value ?? null;
  const topics = label === null ? TOPICS : TOPICS.filter((t) => (id.source === DataSource.X ? labelsOf(t).x : labelsOf(t).reddit) === label);
  if (topics.length === 0 || (label === null && id.source !== DataSource.X)) return [];
  return Array.from({ length: POSTS_PER_BUCKET }, (_, i) => {
    const s = seed(id.source, label ?? '', hour, i);
    const topic = topics[s % topics.length];
    const username = HANDLES[(s >>> 8) % HANDLES.length];
    // data-universe obfuscates post times to the minute.
    const atMs = hour * 3_600_000 + ((s >>> 16) % 60) * 60_000;
    const text = fill(SENTENCES[(s >>> 4) % SENTENCES.length], topic) + (label === null ? '' : ` ${labelsOf(topic).x}`);
    const url =
      id.source === DataSource.X
        ? `https://x.com/${username}/status/${1_860_000_000_000_000_000n + BigInt(s)}`
        : `https://www.reddit.com/r/${topic.tag}/comments/${s.toString(36)}/`;
    return { url, username, text, title: `${topic.name} (${topic.ticker}) earnings discussion`, atMs, topic };
  });
}

/**
 * The contents of one bucket, as GetContentsByBuckets returns them: the JSON of an XContent
 * (scraping/x/model.py) or a RedditContent by alias (scraping/reddit/model.py).
 */
export function bucketContents(id: DataEntityBucketId, nowMs: number, text?: string): string[] {
  return storedPosts(id, nowMs).map((p) => {
    const iso = new Date(p.atMs).toISOString().replace('.000Z', '+00:00');
    if (id.source === DataSource.X) {
      return JSON.stringify({ username: `@${p.username}`, text: text ?? p.text, url: p.url, timestamp: iso, tweet_hashtags: id.label ? [id.label.value] : [] });
    }
    return JSON.stringify({
      id: `t3_${p.url.split('/').at(-2)}`,
      url: p.url,
      username: p.username,
      communityName: `r/${p.topic.tag}`,
      body: text ?? p.text,
      createdAt: iso,
      dataType: 'post',
      title: p.title,
    });
  });
}

/** The DataEntities of one bucket (GetDataEntityBucket), as `DataEntity.model_dump` travels in JSON. */
export function bucketEntities(id: DataEntityBucketId, nowMs: number): Record<string, unknown>[] {
  const posts = storedPosts(id, nowMs);
  return bucketContents(id, nowMs).map((content, i) => ({
    uri: posts[i].url,
    datetime: new Date(posts[i].atMs).toISOString(),
    source: id.source,
    label: id.label,
    content,
    content_size_bytes: Buffer.byteLength(content),
  }));
}

/** Words of an X search query (Desearch's query syntax): its terms, and the authors of `from:` operators. */
export function queryTerms(query: string): { words: string[]; authors: string[] } {
  const tokens = query.match(/"[^"]*"|[^\s()"]+/g) ?? [];
  const authors = tokens.filter((t) => /^from:/i.test(t)).map((t) => t.slice(5));
  const words = tokens.filter((t) => !/^from:/i.test(t) && !/^(OR|AND)$/.test(t)).map((t) => t.replace(/"/g, ''));
  return { words: words.slice(0, 20), authors: authors.slice(0, 10) };
}

/** X's `created_at` format (`Wed Oct 10 20:19:24 +0000 2018`), as Apify's scraper returns it. */
export function twitterDate(ms: number): string {
  const d = new Date(ms);
  const [weekday, month] = [d.toUTCString().slice(0, 3), d.toUTCString().slice(8, 11)];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${weekday} ${month} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
}

/** A window of dates a search asks for (`YYYY-MM-DD` or date-times), defaulting to the last day. */
function windowOf(start: unknown, end: unknown, nowMs: number): { fromMs: number; toMs: number } {
  const parse = (v: unknown, endOfDay: boolean) => {
    if (typeof v !== 'string') return undefined;
    const ms = Date.parse(v.length === 10 ? `${v}T${endOfDay ? '23:59:59' : '00:00:00'}Z` : v);
    return Number.isNaN(ms) ? undefined : ms;
  };
  const toMs = Math.min(parse(end, true) ?? nowMs, nowMs);
  return { fromMs: Math.min(parse(start, false) ?? toMs - 86_400_000, toMs), toMs };
}

/** TwitterScraperTweets (desearch/protocol.py) for a TwitterSearchSynapse: `count` tweets holding every term, by the `from:` authors, within the window. */
export function searchTweets(values: Readonly<Record<string, unknown>>, nowMs: number, text?: string): Record<string, unknown>[] {
  const { words, authors } = queryTerms(typeof values.query === 'string' ? values.query : '');
  const count = Math.min(100, Math.max(1, typeof values.count === 'number' ? values.count : 20));
  const { fromMs, toMs } = windowOf(values.start_date, values.end_date, nowMs);
  return Array.from({ length: count }, (_, i) => {
    const s = seed('tweet', words.join(' '), i);
    const username = authors.length ? authors[i % authors.length] : HANDLES[s % HANDLES.length];
    const id = String(1_860_000_000_000_000_000n + BigInt(s));
    const atMs = toMs - Math.floor(((toMs - fromMs) * (i + 0.5)) / count);
    return {
      id,
      text: text ?? `${words.join(' ')}: ${['still the story of the week', 'the numbers everyone is watching', 'worth a closer look'][s % 3]}.`,
      url: `https://x.com/${username}/status/${id}`,
      created_at: twitterDate(atMs),
      reply_count: s % 40,
      retweet_count: s % 90,
      like_count: s % 700,
      quote_count: s % 12,
      bookmark_count: s % 30,
      is_quote_tweet: false,
      is_retweet: false,
      lang: 'en',
      user: { id: String(s), username, name: username },
    };
  });
}

/** SearchResultItems (desearch/protocol.py) for a web search: `count` results about the prompt, dated within the window. */
export function searchResults(
  values: Readonly<Record<string, unknown>>,
  nowMs: number,
  snippet?: string,
): Array<{ title: string; link: string; snippet: string; published_date: string }> {
  const prompt = typeof values.prompt === 'string' ? values.prompt.slice(0, 200) : '';
  const count = Math.min(200, Math.max(10, typeof values.count === 'number' ? values.count : 10));
  const { fromMs, toMs } = windowOf(values.start_date, values.end_date, nowMs);
  const slug =
    prompt
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'search';
  const sites = ['markets.example', 'newsroom.example', 'research.example'];
  return Array.from({ length: count }, (_, i) => ({
    title: `${prompt}: what changed (${i + 1})`,
    link: `https://${sites[i % sites.length]}/${slug}/${i + 1}`,
    snippet: snippet ?? `Coverage of ${prompt}, with the figures and the context behind them.`,
    published_date: new Date(toMs - Math.floor(((toMs - fromMs) * (i + 0.5)) / count)).toISOString(),
  }));
}

/** The same results as the normalized web.search answer expects them. */
export function asSearchItems(results: ReturnType<typeof searchResults>): SearchItem[] {
  return results.map((r) => ({ url: r.link, title: r.title, snippet: r.snippet, date: r.published_date }));
}
