import type { SearchItem, SocialPost } from '@orchestra/providers';
import { instantOf, socialPostMismatches, SocialQueryInputSchema, WebSearchInputSchema, type SocialQueryInput, type SocialSource, type WebSearchInput } from '@orchestra/schemas';

/**
 * The data capabilities axons serve (`data.social`, `web.search`): their inputs, the one
 * normalized shape of their answers whatever the subnet, and the query semantics both the
 * adapters and the devnet's miners apply. The input schemas are the gateways' (one input per
 * capability, so every provider's sources compete on it); they move to libs/schemas with the
 * capability catalog, and then only this file's import changes.
 */
export { SocialQueryInputSchema, WebSearchInputSchema };
export type { SearchItem, SocialPost, SocialQueryInput, WebSearchInput };

/** The capabilities served over data-subnet axons (SN13 data-universe, SN22 Desearch). */
export const DATA_CAPABILITIES = ['data.social', 'web.search'] as const;
export type DataCapability = (typeof DATA_CAPABILITIES)[number];

export function isDataCapability(capability: string): capability is DataCapability {
  return (DATA_CAPABILITIES as readonly string[]).includes(capability);
}

/** The platforms SN13's miners store (data-universe's X and Reddit); the catalog's `source` may name others, which SN13's axons do not serve. */
export const SOCIAL_PLATFORMS = ['x', 'reddit'] as const satisfies readonly SocialSource[];
export type SocialPlatform = (typeof SOCIAL_PLATFORMS)[number];

export function isSocialPlatform(source: string): source is SocialPlatform {
  return (SOCIAL_PLATFORMS as readonly string[]).includes(source);
}

/** Posts returned when the query gives no limit. */
export const DEFAULT_SOCIAL_LIMIT = 20;

/** The window searched when the query gives none: the last week (data-universe keeps 30 days; recent is what is asked for). */
export const DEFAULT_SOCIAL_WINDOW_MS = 7 * 24 * 3_600_000;

/** Milliseconds since the epoch, inclusive bounds. */
export interface TimeWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The query's window: `since` from the start of its day, `until` to the end of its day; a missing end is now, a missing start a week before the end. */
export function socialWindow(q: Pick<SocialQueryInput, 'since' | 'until'>, nowMs: number): TimeWindow {
  const toMs = q.until ? Date.parse(instantOf(q.until, true)) + 999 : nowMs;
  const fromMs = q.since ? Date.parse(instantOf(q.since)) : toMs - DEFAULT_SOCIAL_WINDOW_MS;
  return { fromMs, toMs };
}

/** A keyword as SN13's bucket labels name it (labelsFor): lowercase, without a leading `#`, `$` or `@`. */
export function bareKeyword(keyword: string): string {
  return keyword
    .trim()
    .replace(/^[#$@]+/, '')
    .toLowerCase();
}

/**
 * Whether a post answers the query as the verifier judges it (socialPostMismatches, the one
 * definition), and lies within the window searched (which defaults to the last week when the
 * query gives no `since`).
 */
export function matchesSocialQuery(post: SocialPost, q: SocialQueryInput, window: TimeWindow): boolean {
  const at = Date.parse(post.date);
  return at >= window.fromMs && at <= window.toMs && socialPostMismatches(post, q).length === 0;
}

/** The posts that answer the query, newest first, each URL once, at most the query's limit. */
export function answerSocialQuery(posts: readonly SocialPost[], q: SocialQueryInput, window: TimeWindow): SocialPost[] {
  const seen = new Set<string>();
  return posts
    .filter((p) => matchesSocialQuery(p, q, window))
    .sort((a, b) => Date.parse(b.date) - Date.parse(a.date))
    .filter((p) => !seen.has(p.url) && seen.add(p.url))
    .slice(0, q.limit ?? DEFAULT_SOCIAL_LIMIT);
}

/** The raw answer of `data.social`: `{"posts":[…]}`, exactly the catalog's output shape. */
export function socialRaw(posts: readonly SocialPost[]): string {
  return JSON.stringify({ posts: posts.map((p) => ({ url: p.url, source: p.source, author: p.author, date: p.date, text: p.text })) });
}

/** The raw answer of `web.search`: `{"results":[…]}`, exactly the catalog's output shape. */
export function searchRaw(results: readonly SearchItem[]): string {
  return JSON.stringify({ results: results.map((r) => ({ url: r.url, title: r.title, snippet: r.snippet, ...(r.date === undefined ? {} : { date: r.date }) })) });
}

/** An ISO timestamp of a date a source wrote (ISO 8601, or X's `Wed Oct 10 20:19:24 +0000 2018`), or undefined when it is not a date. */
export function isoDateOf(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.length > 100) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
