import { seededRandom } from '@orchestra/fake-subtensor';
import { createHash } from 'node:crypto';

/**
 * The fake search and social providers' content: for any query, plausible and citable items,
 * generated from a seed and the query alone (the same query gives the same items). Links point
 * at `.example` domains (RFC 2606), so nothing fake can be mistaken for a real page. Every item
 * contains the query's words; every post contains its keywords (all of them, or at least one in
 * `any` mode), is dated inside the requested window and, when authors are asked for, is by one of them.
 */

const DOMAINS = ['marketwire-daily.example', 'ledger-review.example', 'openfilings.example', 'sector-notes.example', 'datadesk.example', 'wire-brief.example'];
const ANGLES = [
  'what the latest numbers show',
  'analysts weigh in',
  'a timeline of recent developments',
  'key figures explained',
  'the debate so far',
  'what changed this quarter',
];
const OPENERS = ['Reading about', 'Big week for', 'Thread on', 'Numbers are in for', 'Still thinking about', 'Quick take on'];
const CLOSERS = ['Worth watching.', 'More soon.', 'Sources in replies.', 'Not financial advice.', 'Curious what others see.', 'Data looks solid.'];
const HANDLES = ['datawatcher', 'quant_notes', 'marketmaya', 'chainreader', 'fil_analyst', 'opensignal', 'ledgerlena', 'tickertape'];
const DAY_MS = 86_400_000;

/** The devnet's one seeded PRNG (fake-subtensor's mulberry32), seeded from text by the first 4 bytes of its SHA-256. */
function seededFromText(seed: string): () => number {
  return seededRandom(createHash('sha256').update(seed).digest().readUInt32LE(0));
}

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)];
const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'item';

export interface WebItem {
  readonly title: string;
  readonly snippet: string;
  readonly link: string;
  /** YYYY-MM-DD. */
  readonly date: string;
}

/** `count` web results for a query, dated within [since, until] (default: the year before `now`). */
export function webItems(query: string, count: number, seed: string, window: { since?: number; until?: number; now: number }): WebItem[] {
  const random = seededFromText(`${seed}|web|${query.toLowerCase()}`);
  const until = window.until ?? window.now;
  const since = window.since ?? until - 365 * DAY_MS;
  const topic = query.trim().replace(/\s+/g, ' ');
  return Array.from({ length: count }, (_, i) => {
    const domain = pick(random, DOMAINS);
    const angle = pick(random, ANGLES);
    const date = new Date(since + Math.floor(random() * Math.max(1, until - since))).toISOString().slice(0, 10);
    return {
      title: `${topic}: ${angle}`,
      snippet: `${date}: ${topic} — ${angle}. Coverage ${i + 1} of ${count} from ${domain.replace('.example', '')}.`,
      link: `https://${domain}/${date.slice(0, 4)}/${slug(topic)}-${i + 1}`,
      date,
    };
  });
}

export interface PostQuery {
  readonly keywords: readonly string[];
  readonly mode: 'all' | 'any';
  readonly usernames?: readonly string[];
  readonly since?: number;
  readonly until?: number;
  readonly limit: number;
  /** `x` or `reddit`. */
  readonly platform: string;
}

export interface Post {
  readonly id: string;
  readonly url: string;
  readonly author: string;
  /** ISO timestamp. */
  readonly date: string;
  readonly text: string;
  readonly platform: string;
  readonly hashtags: readonly string[];
}

/** `limit` posts matching the query, dated within [since, until] (default: the week before `now`). */
export function socialPosts(query: PostQuery, seed: string, now: number): Post[] {
  const random = seededFromText(`${seed}|${query.platform}|${query.mode}|${query.keywords.join(',').toLowerCase()}|${(query.usernames ?? []).join(',')}`);
  const until = query.until ?? now;
  const since = query.since ?? until - 7 * DAY_MS;
  return Array.from({ length: query.limit }, (_, i) => {
    const author = (query.usernames?.length ? pick(random, query.usernames) : pick(random, HANDLES)).replace(/^@/, '');
    const words = query.mode === 'all' ? [...query.keywords] : query.keywords.filter((_k, j) => j === i % query.keywords.length || random() < 0.3);
    const at = since + Math.floor(random() * Math.max(1, until - since));
    const id = String(1_700_000_000_000_000_000n + BigInt(Math.floor(random() * 1e15)) + BigInt(i));
    const url = query.platform === 'reddit' ? `https://www.reddit.com/r/${slug(words[0])}/comments/${id.slice(-7)}/` : `https://x.com/${author}/status/${id}`;
    return {
      id,
      url,
      author,
      date: new Date(at).toISOString(),
      text: `${pick(random, OPENERS)} ${words.join(' and ')}: ${pick(random, ANGLES)}. ${pick(random, CLOSERS)}`,
      platform: query.platform,
      hashtags: words.map((w) => `#${w.replace(/\s+/g, '')}`),
    };
  });
}
