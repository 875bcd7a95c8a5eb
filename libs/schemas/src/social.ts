import { z } from 'zod';
import { semanticCheck } from './check';
import { normalizeWhitespace } from './grounding';
import { IsoDateSchema, outsideWindow } from './query-dates';
import { HttpUrlSchema } from './search';

const words = z.string().trim().min(1).max(100);

/** Platforms social posts come from. */
export const SOCIAL_SOURCES = ['x', 'reddit', 'youtube'] as const;
export type SocialSource = (typeof SOCIAL_SOURCES)[number];

/**
 * `data.social`: posts matching keywords (and optionally authors and one platform) within a
 * window (SN13 Constellation, SN22 Desearch's X search). SN13's OnDemandRequest limits: 5
 * keywords, 10 usernames.
 */
export const SocialQueryInputSchema = z
  .object({
    keywords: z.array(words).min(1).max(5),
    usernames: z.array(words).max(10).optional(),
    /** `all`: a post must contain every keyword; `any`: at least one (default `all`, as SN13). */
    keywordMode: z.enum(['all', 'any']).optional(),
    /** Posts from this platform only (any platform when absent). */
    source: z.enum(SOCIAL_SOURCES).optional(),
    since: IsoDateSchema.optional(),
    until: IsoDateSchema.optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), { message: 'since must not be after until', path: ['since'] });
export type SocialQueryInput = z.infer<typeof SocialQueryInputSchema>;

/** One post, normalized whatever the source: enough to cite it. */
export const SocialPostSchema = z
  .object({
    url: HttpUrlSchema,
    source: z.enum(SOCIAL_SOURCES),
    /** The author's handle, without `@` (empty when the platform hides it). */
    author: z.string().max(100),
    date: z.iso.datetime({ offset: true }),
    text: z.string().min(1).max(100_000),
  })
  .strict();
export type SocialPost = z.infer<typeof SocialPostSchema>;

/** Output of a `data.social@1` step. */
export const SocialPostsSchema = z.object({ posts: z.array(SocialPostSchema).min(1).max(1000) }).strict();
export type SocialPosts = z.infer<typeof SocialPostsSchema>;

const handle = (name: string): string => name.trim().replace(/^@/, '').toLowerCase();

/**
 * Why one post does not answer the query, empty when it does: its platform (when one is asked
 * for), its keywords (all of them, or at least one in `any` mode; case-insensitive,
 * whitespace-normalised, anywhere in the text, so `$AAPL` and `#Apple` count for `AAPL` and
 * `Apple`), its authors (when asked for) and its window. The one definition of a match: the
 * verifier's check below and the axon adapters' filter (libs/bittensor data-query.ts) both use
 * it, so what a miner's answer is filtered to is what the verifier accepts.
 */
export function socialPostMismatches(post: SocialPost, input: SocialQueryInput): string[] {
  const mode = input.keywordMode ?? 'all';
  const keywords = input.keywords.map((k) => normalizeWhitespace(k).toLowerCase());
  const errors: string[] = [];
  if (input.source && post.source !== input.source) errors.push(`source is ${post.source}; the query asked for ${input.source} only`);
  const text = normalizeWhitespace(post.text).toLowerCase();
  const absent = keywords.filter((k) => !text.includes(k));
  if (mode === 'all' && absent.length) errors.push(`text lacks keyword(s) ${absent.map((k) => JSON.stringify(k)).join(', ')} (keywordMode all: every keyword)`);
  if (mode === 'any' && absent.length === keywords.length) errors.push(`text has none of the keywords ${keywords.map((k) => JSON.stringify(k)).join(', ')} (keywordMode any)`);
  if (input.usernames?.length && !input.usernames.some((u) => handle(u) === handle(post.author))) {
    errors.push(`author ${JSON.stringify(post.author)} is not one of the requested usernames (${[...new Set(input.usernames.map(handle))].join(', ')})`);
  }
  const outside = outsideWindow(post.date, input);
  if (outside) errors.push(outside);
  return errors;
}

/**
 * data.social@1: every post matches the query (socialPostMismatches); no url twice. Each
 * violation names the post and the rule.
 */
export const checkSocialPosts = semanticCheck('data.social@1', { output: SocialPostsSchema, input: SocialQueryInputSchema }, (output: SocialPosts, input: SocialQueryInput) => {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  output.posts.forEach((post, i) => {
    const at = `posts.${i} (${post.url})`;
    const first = seen.get(post.url);
    if (first !== undefined) errors.push(`${at}: repeats posts.${first}`);
    else seen.set(post.url, i);
    for (const why of socialPostMismatches(post, input)) errors.push(`${at}: ${why}`);
  });
  return errors;
});
