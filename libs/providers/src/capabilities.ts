import { z } from 'zod';

/**
 * Inputs of the capabilities gateways serve beyond LLM chat (which takes a chat request, see
 * ChutesChatInputSchema). Shared by every provider that serves the capability, so their sources
 * compete on one input. They join libs/schemas' capability definitions when the dispatcher is
 * wired to providers; until then they live here, next to their only users.
 */

/** An ISO 8601 date (`2025-01-31`) or UTC date-time (`2025-01-31T12:00:00Z`). */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?$/, 'an ISO date (YYYY-MM-DD) or UTC date-time (YYYY-MM-DDTHH:MM:SSZ)')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'a real date');

const words = z.string().trim().min(1).max(100);

/** `web.search`: citable web results for a query. */
export const WebSearchInputSchema = z.object({
  query: z.string().trim().min(1).max(500),
  /** Results wanted (10–100; gateways page by 10). */
  count: z.number().int().min(1).max(100).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
});
export type WebSearchInput = z.infer<typeof WebSearchInputSchema>;

/** `data.social`: posts matching keywords (and optionally authors) within a window. SN13's OnDemandRequest limits: 5 keywords, 10 usernames. */
export const SocialQueryInputSchema = z
  .object({
    keywords: z.array(words).min(1).max(5),
    usernames: z.array(words).max(10).optional(),
    /** `all`: a post must contain every keyword; `any`: at least one (default `all`, as SN13). */
    keywordMode: z.enum(['all', 'any']).optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), { message: 'since must not be after until', path: ['since'] });
export type SocialQueryInput = z.infer<typeof SocialQueryInputSchema>;

/** `YYYY-MM-DD` of an ISO date or date-time. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** `YYYY-MM-DDTHH:MM:SSZ` of an ISO date (start of day, or end of day for `end`) or date-time. */
export function instantOf(iso: string, end = false): string {
  if (iso.length === 10) return `${iso}T${end ? '23:59:59' : '00:00:00'}Z`;
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
