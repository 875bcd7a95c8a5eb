import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { DEFAULT_LIMITS, truncateText } from '@orchestra/contracts';
import { parseGatewayJson, zodIssues } from '../answer';
import { dayOf, instantOf, SocialQueryInput, SocialQueryInputSchema, WebSearchInputSchema } from '@orchestra/schemas';
import { InvalidProviderInputError, UnsupportedCapabilityError } from '../errors';
import { gatewayFetch, GatewayResponse } from '../http';
import type { Cost, Provider, ProviderAnswer, ProviderCall, SearchItem, SocialPost, SourceInfo } from '../types';

/**
 * Desearch (SN22) over its REST API (https://desearch.ai/docs/api-reference; desearch-js
 * `Desearch` client): the raw key in `Authorization` (no Bearer), the price of each call in the
 * `X-Desearch-Cost-Usd` response header. Sources are endpoints:
 * - `web`: `GET /web?query=&start=` → `{ "data": [{ title, snippet, link }] }` (SERP);
 * - `ai-search`: `POST /desearch/ai/search` `{ prompt, tools, start_date, end_date, count,
 *   streaming: false, result_type }` → `{ search: [...], tweets: [...], completion }`;
 * - `twitter`: `GET /twitter?query=&sort=&start_date=&end_date=&count=` → an array of tweets
 *   (`id`, `text`, `url`, `created_at`, `user.username`, counts).
 */

export const DESEARCH_DEFAULT_URL = 'https://api.desearch.ai';
export const DESEARCH_PATHS = { web: '/web', 'ai-search': '/desearch/ai/search', twitter: '/twitter' } as const;
export type DesearchSource = keyof typeof DESEARCH_PATHS;
export const DESEARCH_COST_HEADER = 'x-desearch-cost-usd';
/** A reported price above this is not believed (a corrupt header must not blow a budget). */
const MAX_BELIEVED_COST_USD = 1_000;

const SOURCE_CAPABILITIES: Readonly<Record<DesearchSource, string>> = { web: 'web.search', 'ai-search': 'web.search', twitter: 'data.social' };

export interface DesearchOptions {
  readonly apiKey: string;
  /** Default https://api.desearch.ai. */
  readonly baseUrl?: string;
  /** Price per call when the cost header is missing, USD (otherwise the call is `unpriced`). */
  readonly usdPerCall?: number;
  readonly maxResponseBytes?: number;
  readonly maxRetryAfterMs?: number;
}

const httpUrl = z
  .string()
  .max(2_048)
  .regex(/^https?:\/\/[^\s]+$/i, 'an http(s) URL');
const text = (max: number) => z.string().max(max);

/** A SERP item (desearch-js `WebSearchResultItem`). */
const LinkItem = z.object({ title: text(1_000), snippet: text(10_000).nullable().optional(), link: httpUrl }).passthrough();
const WebShape = z.object({ data: z.array(LinkItem).max(1_000) }).passthrough();

/** A tweet (desearch-js `TwitterScraperTweet`): what is needed to cite it. */
const Tweet = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    text: text(100_000),
    url: httpUrl.nullable().optional(),
    created_at: z
      .string()
      .max(100)
      .refine((s) => !Number.isNaN(Date.parse(s)), 'a date'),
    user: z
      .object({ username: z.string().min(1).max(100) })
      .passthrough()
      .nullable()
      .optional(),
  })
  .passthrough();
const TwitterShape = z.array(Tweet).max(1_000);

/** `POST /desearch/ai/search` non-streamed (desearch-js `ResponseData`): the parts Orchestra reads. */
const AiSearchShape = z
  .object({
    search: z.array(LinkItem).max(1_000).nullable().optional(),
    tweets: z.array(Tweet).max(1_000).nullable().optional(),
    completion: z.string().max(200_000).nullable().optional(),
  })
  .passthrough();

export class DesearchProvider implements Provider {
  readonly id = 'desearch' as const;
  readonly capabilities = ['web.search', 'data.social'] as const;
  private readonly baseUrl: string;

  constructor(private readonly options: DesearchOptions) {
    this.baseUrl = (options.baseUrl ?? DESEARCH_DEFAULT_URL).replace(/\/+$/, '');
  }

  /** The endpoints; Desearch has no price listing, so the price is per call (reported with each answer). */
  async listSources(): Promise<SourceInfo[]> {
    return (Object.keys(DESEARCH_PATHS) as DesearchSource[]).map((id) => ({
      provider: 'desearch',
      id,
      capabilities: [SOURCE_CAPABILITIES[id]],
      price: { kind: 'per_call', ...(this.options.usdPerCall !== undefined ? { usd: this.options.usdPerCall } : {}) },
    }));
  }

  async call(call: ProviderCall): Promise<ProviderAnswer> {
    const source = call.source as DesearchSource;
    if (!(source in DESEARCH_PATHS) || SOURCE_CAPABILITIES[source] !== call.capability) {
      throw new UnsupportedCapabilityError(
        `desearch has no source "${truncateText(call.source, 100)}" for ${call.capability}; sources: web and ai-search (web.search), twitter (data.social)`,
      );
    }
    const start = performance.now();
    if (source === 'twitter') {
      const q = this.input(SocialQueryInputSchema, call);
      if (q.source && q.source !== 'x') throw new UnsupportedCapabilityError(`desearch twitter gives X posts, but the query asks for ${q.source} only; hire a ${q.source} source`);
      const response = await this.get(source, twitterParams(q), call);
      const tweets = parseGatewayJson('desearch', DESEARCH_PATHS.twitter, response.text, TwitterShape);
      return this.answer(call, { posts: tweets.map(postOf) }, tweets.length, response, start);
    }
    const q = this.input(WebSearchInputSchema, call);
    if (source === 'web') {
      // SERP pages hold 10 results; ask from the first page (`start` is the offset of a page).
      // The SERP endpoint takes no dates: a window in the input is honoured by ai-search only.
      const response = await this.get(source, { query: q.query, start: '0' }, call);
      const web = parseGatewayJson('desearch', DESEARCH_PATHS.web, response.text, WebShape);
      const results = web.data.slice(0, q.count ?? web.data.length).map(itemOf);
      return this.answer(call, { results }, results.length, response, start);
    }
    const body = {
      prompt: q.query,
      tools: ['web'],
      ...(q.since ? { start_date: instantOf(q.since) } : {}),
      ...(q.until ? { end_date: instantOf(q.until, true) } : {}),
      count: Math.max(10, q.count ?? 10),
      streaming: false,
      result_type: 'LINKS_WITH_FINAL_SUMMARY',
    };
    const response = await this.exchange(source, 'POST', new URL(DESEARCH_PATHS['ai-search'], this.baseUrl), call, JSON.stringify(body));
    const ai = parseGatewayJson('desearch', DESEARCH_PATHS['ai-search'], response.text, AiSearchShape);
    // web.search@1 is the results alone: the completion is the gateway's own prose, nothing a verifier can ground.
    const results = (ai.search ?? []).map(itemOf);
    return this.answer(call, { results }, results.length, response, start);
  }

  private input<S extends z.ZodType>(schema: S, call: ProviderCall): z.infer<S> {
    const parsed = schema.safeParse(call.input);
    if (!parsed.success) throw new InvalidProviderInputError('desearch', call.capability, zodIssues(parsed.error));
    return parsed.data;
  }

  private get(source: DesearchSource, params: Record<string, string>, call: ProviderCall): Promise<GatewayResponse> {
    const url = new URL(DESEARCH_PATHS[source], this.baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return this.exchange(source, 'GET', url, call);
  }

  private exchange(source: DesearchSource, method: 'GET' | 'POST', url: URL, call: ProviderCall, body?: string): Promise<GatewayResponse> {
    return gatewayFetch({
      provider: 'desearch',
      url,
      method,
      // Desearch takes the raw key: "Authorization: <key>", no scheme.
      headers: { authorization: this.options.apiKey, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body,
      timeoutMs: call.timeoutMs,
      maxResponseBytes: this.options.maxResponseBytes ?? DEFAULT_LIMITS.recordBudgetBytes,
      maxRetryAfterMs: this.options.maxRetryAfterMs,
      signal: call.signal,
    });
  }

  private answer(call: ProviderCall, value: unknown, items: number, response: GatewayResponse, start: number): ProviderAnswer {
    return {
      provider: 'desearch',
      source: call.source,
      capability: call.capability,
      raw: JSON.stringify(value),
      value,
      usage: { items },
      cost: this.costOf(response.headers),
      latencyMs: performance.now() - start,
      responseBytes: response.bytes,
    };
  }

  /** The call's price from `X-Desearch-Cost-Usd`, else the configured per-call price. */
  private costOf(headers: Headers): Cost {
    const reported = reportedCostUsd(headers.get(DESEARCH_COST_HEADER));
    if (reported !== undefined) return { usd: reported, basis: 'reported' };
    if (this.options.usdPerCall !== undefined) return { usd: this.options.usdPerCall, basis: 'configured' };
    return { usd: 0, basis: 'unpriced' };
  }
}

/** A cost header's USD, or undefined when absent or not a sane non-negative number. */
export function reportedCostUsd(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const usd = Number(header.trim());
  return Number.isFinite(usd) && usd >= 0 && usd <= MAX_BELIEVED_COST_USD ? usd : undefined;
}

/**
 * The `/twitter` query for a social query: keywords joined with spaces (all) or OR (any), authors
 * as `from:` operators (X search syntax, which Desearch's `query` takes as is).
 */
export function twitterParams(q: SocialQueryInput): Record<string, string> {
  const quote = (w: string): string => (/\s/.test(w) ? `"${w.replace(/"/g, '')}"` : w);
  const keywords = q.keywords.map(quote).join(q.keywordMode === 'any' ? ' OR ' : ' ');
  const authors = (q.usernames ?? []).map((u) => `from:${u.replace(/^@/, '')}`);
  const query = [q.keywordMode === 'any' && q.keywords.length > 1 ? `(${keywords})` : keywords, authors.length > 1 ? `(${authors.join(' OR ')})` : authors[0]]
    .filter(Boolean)
    .join(' ');
  return {
    query,
    sort: 'Latest',
    count: String(q.limit ?? 20),
    ...(q.since ? { start_date: dayOf(q.since) } : {}),
    ...(q.until ? { end_date: dayOf(q.until) } : {}),
  };
}

function itemOf(item: z.infer<typeof LinkItem>): SearchItem {
  const date = (item as Record<string, unknown>)['date'];
  return { url: item.link, title: item.title, snippet: item.snippet ?? '', ...(typeof date === 'string' && date.length <= 100 ? { date } : {}) };
}

function postOf(tweet: z.infer<typeof Tweet>): SocialPost {
  const author = tweet.user?.username ?? '';
  return {
    url: tweet.url ?? (author ? `https://x.com/${author}/status/${tweet.id}` : `https://x.com/i/status/${tweet.id}`),
    source: 'x',
    author,
    date: new Date(Date.parse(tweet.created_at)).toISOString(),
    text: tweet.text,
  };
}

/** Shapes, exported for tests against documented examples. */
export const desearchShapes = { web: WebShape, twitter: TwitterShape, aiSearch: AiSearchShape };

/** A tweet as a normalized social post: also how SN22 axon answers (TwitterSearchSynapse) are read. */
export const desearchTweetPost = postOf;
