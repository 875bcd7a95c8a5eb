import { BehaviourTuning, pause, planOf, ProviderBehaviour, RequestCounter } from './behaviours';
import { socialPosts, webItems } from './corpus';
import { FakeServer, garbage, json, startHttpFake } from './http-fake';

/**
 * A fake Desearch (SN22) API: `GET /web`, `GET /twitter`, `POST /desearch/ai/search` with the raw
 * key in `Authorization` (no Bearer) and each call's price in `X-Desearch-Cost-Usd`. The key
 * selects the behaviour (behaviours.ts); `good` answers any query from the seeded corpus.
 * Prices are the devnet's own (DEFAULT_DESEARCH_COSTS), not Desearch's tariff.
 */

/** USD per call per endpoint on the devnet. */
export const DEFAULT_DESEARCH_COSTS = { web: 0.0025, twitter: 0.003, 'ai-search': 0.004 } as const;

export interface FakeDesearchOptions extends BehaviourTuning {
  /** API key → behaviour; an unknown key gets 401. */
  readonly apiKeys: Readonly<Record<string, ProviderBehaviour>>;
  /** Seed of the generated content (default "devnet"). */
  readonly seed?: string;
  /** The fake's "now" for default windows, ms (default Date.now() per request). */
  readonly now?: () => number;
  readonly host?: string;
  readonly port?: number;
}

type Endpoint = keyof typeof DEFAULT_DESEARCH_COSTS;
const DAY_MS = 86_400_000;

export function startFakeDesearch(options: FakeDesearchOptions): Promise<FakeServer> {
  const counter = new RequestCounter();
  const seed = options.seed ?? 'devnet';
  const now = options.now ?? Date.now;
  return startHttpFake(async (req, res, gone) => {
    const key = String(req.headers.authorization ?? '');
    const behaviour = options.apiKeys[key];
    if (behaviour === undefined) return json(res, 401, { detail: { message: 'Invalid API key' } });
    const endpoint: Endpoint | undefined =
      req.method === 'GET' && req.path === '/web'
        ? 'web'
        : req.method === 'GET' && req.path === '/twitter'
          ? 'twitter'
          : req.method === 'POST' && req.path === '/desearch/ai/search'
            ? 'ai-search'
            : undefined;
    if (!endpoint) return json(res, 404, { detail: `no route ${req.method} ${req.path}` });
    let params: Record<string, unknown> = req.query;
    if (endpoint === 'ai-search') {
      try {
        params = JSON.parse(req.body) as Record<string, unknown>;
      } catch {
        return json(res, 422, { detail: [{ loc: ['body'], msg: 'JSON body required', type: 'value_error' }] });
      }
    }
    const query = String(params['query'] ?? params['prompt'] ?? '').trim();
    if (!query) return json(res, 422, { detail: [{ loc: ['query', endpoint === 'ai-search' ? 'prompt' : 'query'], msg: 'Field required', type: 'missing' }] });
    const plan = planOf(behaviour, counter.next(`${key}|${endpoint}`), options);
    const cost = { 'x-desearch-cost-usd': String(DEFAULT_DESEARCH_COSTS[endpoint]), 'x-desearch-service': endpoint.replace('-', '_'), 'x-desearch-currency': 'USD' };
    switch (plan.kind) {
      case 'rate-limited':
        return json(res, 429, { detail: { message: 'Rate limit exceeded' } }, { 'retry-after': String(plan.retryAfterSeconds) });
      case 'unavailable':
        return json(res, plan.intermittent ? 500 : 503, { detail: { message: plan.intermittent ? 'Internal Server Error' : 'Service Unavailable' } });
      case 'garbage':
        return garbage(res);
      case 'wrong-schema':
        return json(res, 200, endpoint === 'twitter' ? { tweets: 'none' } : { results: [{ name: query }] }, cost);
      case 'good':
        await pause(plan.delayMs, gone);
        if (gone.aborted) return;
    }
    const t = now();
    const since = dateParam(params['start_date']);
    const until = dateParam(params['end_date'], true);
    if (endpoint === 'web') {
      const start = Math.max(0, Number(params['start'] ?? 0) || 0);
      const items = webItems(query, start + 10, seed, { now: t }).slice(start);
      return json(res, 200, { data: items.map(({ title, snippet, link }) => ({ title, snippet, link })) }, cost);
    }
    if (endpoint === 'twitter') {
      const count = Math.min(100, Math.max(1, Number(params['count'] ?? 20) || 20));
      return json(res, 200, socialPosts(twitterQuery(query, count, since, until), seed, t).map(tweetOf), cost);
    }
    const count = Math.min(200, Math.max(10, Number(params['count'] ?? 10) || 10));
    const tools = Array.isArray(params['tools']) ? (params['tools'] as unknown[]).map(String) : ['web'];
    const search = webItems(query, count, seed, { now: t, since, until });
    const tweets = tools.includes('twitter') ? socialPosts(twitterQuery(query, count, since, until), seed, t).map(tweetOf) : [];
    return json(
      res,
      200,
      {
        search: search.map(({ title, snippet, link, date }) => ({ title, snippet, link, date })),
        ...(tweets.length ? { tweets } : {}),
        completion: `${search.length} sources discuss ${query}; the most recent is "${search[0]?.title}" (${search[0]?.link}).`,
      },
      cost,
    );
  }, options);

  /** The keywords of an X search query: words outside operators (`from:`, OR, parentheses); authors from `from:`. */
  function twitterQuery(query: string, count: number, since?: number, until?: number) {
    const tokens = query.replace(/[()]/g, ' ').split(/\s+/).filter(Boolean);
    const usernames = tokens.filter((t) => t.startsWith('from:')).map((t) => t.slice(5));
    const keywords = tokens.filter((t) => !t.startsWith('from:') && t !== 'OR').map((t) => t.replace(/"/g, ''));
    // OR between keywords makes `any`; OR between `from:` authors does not.
    const mode: 'all' | 'any' = tokens.some((t, i) => t === 'OR' && !tokens[i - 1]?.startsWith('from:') && !tokens[i + 1]?.startsWith('from:')) ? 'any' : 'all';
    return { keywords: keywords.length ? keywords : [query], mode, usernames, since, until: until === undefined ? undefined : Math.min(until, now()), limit: count, platform: 'x' };
  }
}

function dateParam(value: unknown, end = false): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const at = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at)) return undefined;
  return value.length === 10 && end ? at + DAY_MS - 1 : at;
}

/** A post in the shape of desearch-js `TwitterScraperTweet` (the fields a citation needs, and the counts). */
function tweetOf(post: ReturnType<typeof socialPosts>[number]) {
  return {
    id: post.id,
    text: post.text,
    url: post.url,
    created_at: twitterDate(post.date),
    user: { id: `u${post.author.length}${post.id.slice(-4)}`, username: post.author, name: post.author },
    reply_count: 0,
    retweet_count: 0,
    like_count: 0,
    quote_count: 0,
    bookmark_count: 0,
    lang: 'en',
    entities: { hashtags: post.hashtags.map((h) => ({ text: h.slice(1), indices: [0, 0] })) },
  };
}

/** X's own timestamp format, as Desearch passes it through: "Wed Feb 12 16:37:33 +0000 2025". */
function twitterDate(iso: string): string {
  const [dow, dd, mon, yyyy, time] = new Date(iso).toUTCString().replace(',', '').split(' ');
  return `${dow} ${mon} ${dd} ${time} +0000 ${yyyy}`;
}
