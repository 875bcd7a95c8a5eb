import { z } from 'zod';
import { semanticCheck } from './check';
import { IsoDateSchema, outsideWindow } from './query-dates';

/** An http(s) URL: what a result or post is cited by. */
export const HttpUrlSchema = z
  .string()
  .max(2_048)
  .regex(/^https?:\/\/[^\s/?#]+[^\s]*$/i, 'an http(s) URL')
  .refine((s) => URL.canParse(s), 'a URL that parses');

/** `web.search`: citable web results for a query (SN22 Desearch: the web and ai-search endpoints). */
export const WebSearchInputSchema = z.object({
  query: z.string().trim().min(1).max(500),
  /** Results wanted (10–100; gateways page by 10). */
  count: z.number().int().min(1).max(100).optional(),
  since: IsoDateSchema.optional(),
  until: IsoDateSchema.optional(),
});
export type WebSearchInput = z.infer<typeof WebSearchInputSchema>;

/** One web result, normalized whatever the source: enough to cite it. */
export const SearchResultSchema = z
  .object({
    url: HttpUrlSchema,
    title: z.string().min(1).max(1_000),
    snippet: z.string().max(10_000),
    /** ISO date (or date-time) when the source gives one. */
    date: z.string().max(100).optional(),
  })
  .strict();
export type SearchResult = z.infer<typeof SearchResultSchema>;

/** Output of a `web.search@1` step. */
export const WebSearchSchema = z.object({ results: z.array(SearchResultSchema).min(1).max(100) }).strict();
export type WebSearch = z.infer<typeof WebSearchSchema>;

/**
 * web.search@1: every result has a title or snippet saying something, no url twice, and a
 * dated result lies inside the query's window (a result without a date is not judged on it:
 * SERP endpoints often give none).
 */
export const checkWebSearch = semanticCheck('web.search@1', { output: WebSearchSchema, input: WebSearchInputSchema }, (output: WebSearch, input: WebSearchInput) => {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  output.results.forEach((result, i) => {
    const first = seen.get(result.url);
    if (first !== undefined) errors.push(`results.${i}: repeats the url of results.${first}`);
    else seen.set(result.url, i);
    if (!result.title.trim()) errors.push(`results.${i}: the title is blank`);
    const outside = result.date === undefined ? undefined : outsideWindow(result.date, input);
    if (outside) errors.push(`results.${i} (${result.url}): ${outside}`);
  });
  return errors;
});
