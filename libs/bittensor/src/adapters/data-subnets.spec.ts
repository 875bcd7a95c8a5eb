import { sha3Hex, synapseBodyHash, toHeaders } from '../synapse';
import { answerSocialQuery, isoDateOf, socialWindow, SocialPost } from './data-query';
import { RequestBudget } from './request-budget';
import {
  bucketId,
  DataSource,
  GET_CONTENTS_BY_BUCKETS,
  GET_MINER_INDEX,
  MinerAnswerError,
  MAX_CONTENTS_READ,
  MINER_INDEX_BUCKET_LIMIT,
  parseMinerIndex,
  postsFromContents,
  selectBuckets,
  timeBucketOf,
} from './sn13-data-universe';
import { SCRAPER_STREAMING_SYNAPSE, searchEventsToResults, socialToTwitterSearch, tweetsToPosts, TWITTER_SEARCH_SYNAPSE, webSearchToScraper } from './sn22-desearch';

const HOUR = 3_600_000;
const now = Date.parse('2026-11-30T12:30:00Z');
const hourNow = timeBucketOf(now);

describe('synapse definitions as the subnets declare them', () => {
  it('hash no field (no required_hash_fields): the body hash is sha3("") whatever the values', () => {
    const empty = sha3Hex('');
    expect(empty).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
    expect(synapseBodyHash(GET_MINER_INDEX, { version: 4 })).toBe(empty);
    expect(synapseBodyHash(GET_CONTENTS_BY_BUCKETS, { version: 4, data_entity_bucket_ids: [bucketId(2, '#nvda', hourNow)] })).toBe(empty);
    expect(synapseBodyHash(TWITTER_SEARCH_SYNAPSE, { query: 'nvda' })).toBe(empty);
    expect(synapseBodyHash(SCRAPER_STREAMING_SYNAPSE, { prompt: 'nvda' })).toBe(empty);
  });

  it('send bt_header_input_obj_* for the fields Python requires (Desearch: prompt, query), none for data-universe', () => {
    const env = (definition: typeof GET_MINER_INDEX, values: Record<string, unknown>) => ({ definition, timeout: 12, dendrite: {}, axon: {}, computedBodyHash: '', values });
    const empty = Buffer.from('""').toString('base64');
    expect(toHeaders(env(SCRAPER_STREAMING_SYNAPSE, { prompt: 'x' })).bt_header_input_obj_prompt).toBe(empty);
    expect(toHeaders(env(TWITTER_SEARCH_SYNAPSE, { query: 'x' })).bt_header_input_obj_query).toBe(empty);
    expect(Object.keys(toHeaders(env(GET_CONTENTS_BY_BUCKETS, { version: 4 }))).filter((h) => h.startsWith('bt_header_input_obj_'))).toEqual([]);
  });
});

describe('SN13 miner index and buckets', () => {
  const index = JSON.stringify({
    sources: {
      '2': [
        { label: '#nvda', time_bucket_ids: [hourNow, hourNow - 1, hourNow - 200], sizes_bytes: [900, 800, 700] },
        { label: null, time_bucket_ids: [hourNow - 2], sizes_bytes: [100] },
        { label: '#btc', time_bucket_ids: [hourNow], sizes_bytes: [100] },
      ],
      '1': [{ label: 'r/nvda', time_bucket_ids: [hourNow - 3], sizes_bytes: [50] }],
    },
  });

  it('selects the keyword-labelled buckets of the platforms within the window newest first, then unlabelled ones, capped', () => {
    const parsed = parseMinerIndex(index);
    const window = { fromMs: now - 24 * HOUR, toMs: now };
    const ids = selectBuckets(parsed, { platforms: ['x', 'reddit'], keywords: ['NVDA'], window, maxBuckets: 10 });
    expect(ids).toEqual([bucketId(2, '#nvda', hourNow), bucketId(2, '#nvda', hourNow - 1), bucketId(1, 'r/nvda', hourNow - 3), bucketId(2, null, hourNow - 2)]);
    expect(selectBuckets(parsed, { platforms: ['reddit'], keywords: ['$nvda'], window, maxBuckets: 10 })).toEqual([bucketId(1, 'r/nvda', hourNow - 3)]);
    expect(selectBuckets(parsed, { platforms: ['x'], keywords: ['nvda'], window, maxBuckets: 1 })).toHaveLength(1);
    // Listed buckets that are not a positive integer hour with bytes are never asked for.
    const junk = parseMinerIndex(
      JSON.stringify({ sources: { '2': [{ label: '#nvda', time_bucket_ids: [String(hourNow), hourNow + 0.5, hourNow, -1], sizes_bytes: [5, 5, 0, 5] }] } }),
    );
    expect(selectBuckets(junk, { platforms: ['x'], keywords: ['nvda'], window: { fromMs: 0, toMs: now }, maxBuckets: 10 })).toEqual([]);
  });

  it('refuses a malformed index as the miner answer error it is', () => {
    const refuse = (serialized: unknown) => expect(() => parseMinerIndex(serialized)).toThrow(MinerAnswerError);
    refuse(null);
    refuse('{"sources":');
    refuse(JSON.stringify({ sources: { '2': [{ label: '#a', time_bucket_ids: [1, 2], sizes_bytes: [1] }] } }));
    refuse(JSON.stringify({ sources: { x: [] } }));
    refuse(`{"sources":{"2":[{"label":${'['.repeat(500)}${']'.repeat(500)}}]}}`);
    const huge = Array.from({ length: MINER_INDEX_BUCKET_LIMIT + 1 }, (_, i) => i + 1);
    refuse(JSON.stringify({ sources: { '2': [{ label: null, time_bucket_ids: huge, sizes_bytes: huge }] } }));
  });

  it('normalizes XContent and RedditContent of the buckets asked for, ignores others, refuses malformed contents', () => {
    const x = bucketId(DataSource.X, '#nvda', hourNow);
    const reddit = bucketId(DataSource.REDDIT, 'r/nvda', hourNow);
    const xContent = JSON.stringify({
      username: '@chipwatch',
      text: 'NVDA beat',
      url: 'https://x.com/chipwatch/status/1',
      timestamp: '2026-11-30T12:05:00+00:00',
      tweet_hashtags: ['#nvda'],
    });
    const redditContent = JSON.stringify({
      id: 't3_a',
      url: 'https://www.reddit.com/r/nvda/comments/a',
      username: 'u1',
      communityName: 'r/nvda',
      body: 'Guidance up',
      createdAt: '2026-11-30T12:01:00+00:00',
      dataType: 'post',
      title: 'NVDA Q3',
    });
    const posts = postsFromContents(
      [
        [x, [xContent]],
        [reddit, [redditContent]],
        [bucketId(DataSource.X, '#unasked', hourNow), [xContent]],
      ],
      [x, reddit],
    );
    expect(posts).toEqual([
      { url: 'https://x.com/chipwatch/status/1', source: 'x', author: '@chipwatch', date: '2026-11-30T12:05:00.000Z', text: 'NVDA beat' },
      { url: 'https://www.reddit.com/r/nvda/comments/a', source: 'reddit', author: 'u1', date: '2026-11-30T12:01:00.000Z', text: 'NVDA Q3\n\nGuidance up' },
    ]);
    expect(postsFromContents([[x, Array.from({ length: MAX_CONTENTS_READ + 5 }, () => xContent)]], [x])).toHaveLength(MAX_CONTENTS_READ);
    expect(() => postsFromContents({ not: 'pairs' }, [x])).toThrow(MinerAnswerError);
    expect(() => postsFromContents([[x, ['not json']]], [x])).toThrow(MinerAnswerError);
    expect(() => postsFromContents([[x, [JSON.stringify({ username: 'a', text: 'b', url: 'javascript:alert(1)', timestamp: '2026-11-30' })]]], [x])).toThrow(MinerAnswerError);
    expect(() => postsFromContents([[x, [JSON.stringify({ username: 'a', text: 'b', url: 'https://x.com/a', timestamp: 'yesterday' })]]], [x])).toThrow(MinerAnswerError);
  });
});

describe('the social query', () => {
  const post = (over: Partial<SocialPost>): SocialPost => ({
    url: 'https://x.com/a/status/1',
    source: 'x',
    author: 'a',
    date: '2026-11-30T10:00:00.000Z',
    text: 'NVDA earnings beat',
    ...over,
  });

  it('keeps posts with all (or any) keywords, of the authors and platform asked, in the window, newest first, once per URL, up to the limit', () => {
    const window = socialWindow({ since: '2026-11-29', until: '2026-11-30' }, now);
    expect(window).toEqual({ fromMs: Date.parse('2026-11-29T00:00:00Z'), toMs: Date.parse('2026-11-30T23:59:59.999Z') });
    const posts = [
      post({}),
      post({ url: 'https://x.com/a/status/2', date: '2026-11-30T11:00:00.000Z' }),
      post({ url: 'https://x.com/a/status/2', date: '2026-11-30T11:00:00.000Z' }),
      post({ url: 'https://x.com/a/status/3', text: 'NVDA only' }),
      post({ url: 'https://x.com/a/status/4', date: '2026-11-20T10:00:00.000Z' }),
      post({ url: 'https://reddit.com/4', source: 'reddit', author: 'b' }),
    ];
    const urls = (q: Parameters<typeof answerSocialQuery>[1]) => answerSocialQuery(posts, q, window).map((p) => p.url);
    expect(urls({ keywords: ['nvda', 'Earnings'] })).toEqual(['https://x.com/a/status/2', 'https://x.com/a/status/1', 'https://reddit.com/4']);
    // As the verifier matches (socialPostMismatches): a hashtag keyword wants the hashtag in the text.
    expect(urls({ keywords: ['#Earnings'] })).toEqual([]);
    expect(urls({ keywords: ['earnings', 'only'], keywordMode: 'any', source: 'x' })).toEqual(['https://x.com/a/status/2', 'https://x.com/a/status/1', 'https://x.com/a/status/3']);
    expect(urls({ keywords: ['nvda'], usernames: ['@B'] })).toEqual(['https://reddit.com/4']);
    expect(urls({ keywords: ['nvda'], limit: 1 })).toEqual(['https://x.com/a/status/2']);
  });

  it('reads ISO and X dates, nothing else', () => {
    expect(isoDateOf('Wed Oct 10 20:19:24 +0000 2018')).toBe('2018-10-10T20:19:24.000Z');
    expect(isoDateOf('not a date')).toBeUndefined();
    expect(isoDateOf(12)).toBeUndefined();
  });
});

describe('SN22 requests and answers', () => {
  it('asks TwitterSearchSynapse with the gateway query syntax and ScraperStreamingSynapse with the web tool only', () => {
    expect(socialToTwitterSearch({ keywords: ['nvda', 'earnings'], keywordMode: 'any', usernames: ['jim'], since: '2026-11-01', limit: 5 })).toEqual({
      query: '(nvda OR earnings) from:jim',
      sort: 'Latest',
      count: 5,
      start_date: '2026-11-01',
      end_date: null,
    });
    expect(webSearchToScraper({ query: 'nvidia guidance', count: 3, until: '2026-11-30' })).toEqual({
      prompt: 'nvidia guidance',
      tools: ['Web Search'],
      result_type: 'ONLY_LINKS',
      count: 10,
      start_date: null,
      end_date: '2026-11-30T23:59:59Z',
    });
  });

  it('normalizes tweets and search events, and refuses what a citation cannot use', () => {
    expect(tweetsToPosts([{ id: 7, text: 'hi', created_at: 'Wed Oct 10 20:19:24 +0000 2018', user: { username: 'jim' }, url: null }])).toEqual([
      { url: 'https://x.com/jim/status/7', source: 'x', author: 'jim', date: '2018-10-10T20:19:24.000Z', text: 'hi' },
    ]);
    expect(() => tweetsToPosts([{ id: 7, text: 'hi', created_at: 'never' }])).toThrow(MinerAnswerError);
    expect(() => tweetsToPosts('tweets')).toThrow(MinerAnswerError);
    const item = { title: 'T', link: 'https://example.com/a', snippet: 'S', published_date: '2026-11-29' };
    expect(
      searchEventsToResults(
        [
          { type: 'flow', content: {} },
          { type: 'search', content: [item, item, { ...item, link: 'https://example.com/b', published_date: 'n/a' }] },
          { type: 'completion', content: '' },
        ],
        10,
      ),
    ).toEqual([
      { url: 'https://example.com/a', title: 'T', snippet: 'S', date: '2026-11-29T00:00:00.000Z' },
      { url: 'https://example.com/b', title: 'T', snippet: 'S' },
    ]);
    expect(() => searchEventsToResults([{ type: 'completion', content: '' }], 10)).toThrow('no "search" event');
    expect(() => searchEventsToResults([42], 10)).toThrow(MinerAnswerError);
    expect(() => searchEventsToResults([{ type: 'search', content: [{ ...item, link: 'file:///etc/passwd' }] }], 10)).toThrow(MinerAnswerError);
  });
});

describe('RequestBudget', () => {
  it('allows `limit` calls per sliding period per miner and kind, and says when the next one is allowed', () => {
    let t = 0;
    const budget = new RequestBudget({ GetMinerIndex: 1, GetContentsByBuckets: 2 }, HOUR, () => t);
    expect(budget.take('m1', 'GetMinerIndex')).toBeUndefined();
    expect(budget.take('m1', 'GetMinerIndex')).toBe(HOUR);
    expect(budget.take('m2', 'GetMinerIndex')).toBeUndefined();
    expect(budget.take('m1', 'GetContentsByBuckets')).toBeUndefined();
    t = 10;
    expect(budget.take('m1', 'GetContentsByBuckets')).toBeUndefined();
    expect(budget.take('m1', 'GetContentsByBuckets')).toBe(HOUR);
    expect(budget.take('m1', 'Unlimited')).toBeUndefined();
    t = HOUR + 1;
    expect(budget.take('m1', 'GetMinerIndex')).toBeUndefined();
    expect(budget.take('m1', 'GetContentsByBuckets')).toBeUndefined();
  });
});
