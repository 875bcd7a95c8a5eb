import { z } from 'zod';
import { semanticCheck } from './check';
import { AnyFinancialRow, AnyFinancialRowSchema, FinancialRowSchema } from './financials';
import { excerpt, normalizeWhitespace, quoteIsIn } from './grounding';
import { SearchResultSchema } from './search';
import { SocialPostSchema } from './social';

/** Input of a `text.analysis@1` step: the question and the rows the findings must rest on. */
export const AnalysisRequestSchema = z
  .object({
    question: z.string().min(1).max(4000),
    rows: z.array(FinancialRowSchema).min(1),
  })
  .strict();
export type AnalysisRequest = z.infer<typeof AnalysisRequestSchema>;

/** A finding cites the input rows it rests on by their index in `rows`. */
export const FindingSchema = z
  .object({
    statement: z.string().min(1).max(2000),
    citations: z.array(z.number().int().nonnegative()).min(1),
  })
  .strict();

/** Output of a `text.analysis@1` step. */
export const AnalysisSchema = z
  .object({
    summary: z.string().min(1).max(4000),
    findings: z.array(FindingSchema).min(1).max(50),
  })
  .strict();
export type Analysis = z.infer<typeof AnalysisSchema>;

/**
 * text.analysis@2: findings rest on any input items (figures, social posts, search results),
 * each citation naming its item and, optionally, the words of it the finding relies on.
 */

export const ANALYSIS_ITEM_KINDS = ['rows', 'posts', 'results'] as const;
export type AnalysisItemKind = (typeof ANALYSIS_ITEM_KINDS)[number];

/** Input of a `text.analysis@2` step: the question and at least one item to rest findings on. */
export const AnalysisInputSchema = z
  .object({
    question: z.string().min(1).max(4000),
    rows: z.array(AnyFinancialRowSchema).max(1000).optional(),
    posts: z.array(SocialPostSchema).max(1000).optional(),
    results: z.array(SearchResultSchema).max(100).optional(),
  })
  .strict()
  .refine((r) => (r.rows?.length ?? 0) + (r.posts?.length ?? 0) + (r.results?.length ?? 0) > 0, { message: 'give at least one row, post or result to analyse' });
export type AnalysisInput = z.infer<typeof AnalysisInputSchema>;

/**
 * Every kind of input item a claim may cite: text.analysis@2 cites rows, posts and results;
 * text.report@1 also the findings of an earlier analysis.
 */
export const CITABLE_ITEM_KINDS = [...ANALYSIS_ITEM_KINDS, 'findings'] as const;
export type CitableItemKind = (typeof CITABLE_ITEM_KINDS)[number];

/** A citation of one input item of `kinds`, by index or (posts and results) by url, with the evidence quoted from it. */
export function itemCitationSchema<K extends readonly [CitableItemKind, ...CitableItemKind[]]>(kinds: K, quotable: string) {
  return z
    .object({
      item: z.enum(kinds).describe('Which input list the cited item is in'),
      index: z.number().int().nonnegative().optional().describe('Its index in that list'),
      url: z.string().max(2_048).optional().describe("Or, for posts and results, the item's url"),
      quote: z.string().min(1).max(1_000).optional().describe(`Words copied verbatim from the item (${quotable})`),
    })
    .strict()
    .refine((c) => (c.index === undefined) !== (c.url === undefined), { message: 'a citation names its item by index or by url (exactly one)' });
}

export const ItemCitationSchema = itemCitationSchema(ANALYSIS_ITEM_KINDS, "a row's quote, a post's text, a result's title or snippet");
export type ItemCitation = z.infer<typeof ItemCitationSchema>;

/** A finding of text.analysis@2; a bare number cites `rows[n]` (the @1 form). */
export const CitedFindingSchema = z
  .object({
    statement: z.string().min(1).max(2000),
    citations: z
      .array(z.union([z.number().int().nonnegative(), ItemCitationSchema]))
      .min(1)
      .max(50),
  })
  .strict();

/** Output of a `text.analysis@2` step. */
export const CitedAnalysisSchema = z
  .object({
    summary: z.string().min(1).max(4000),
    findings: z.array(CitedFindingSchema).min(1).max(50),
  })
  .strict();
export type CitedAnalysis = z.infer<typeof CitedAnalysisSchema>;

/** A citation in one form: `{ item, index | url }` (a bare number is `rows[n]`). */
export function citationOf(citation: number | ItemCitation): ItemCitation {
  return typeof citation === 'number' ? { item: 'rows', index: citation } : citation;
}

/** A citation of any citable kind (what checkCitations reads). */
export interface AnyItemCitation {
  readonly item: CitableItemKind;
  readonly index?: number;
  readonly url?: string;
  readonly quote?: string;
}

/** The text a quote from an item must come from: a row's quote (or its source), a post's text, a result's title and snippet, a finding's statement. */
function quotableText(kind: CitableItemKind, item: unknown): string {
  if (kind === 'findings') return (item as { statement: string }).statement;
  if (kind === 'rows') {
    const row = item as AnyFinancialRow;
    return 'quote' in row ? row.quote : row.source;
  }
  if (kind === 'posts') return (item as { text: string }).text;
  const result = item as { title: string; snippet: string };
  return `${result.title}\n${result.snippet}`;
}

/** Regex-escaped ticker matched as a whole word, case-sensitive (tickers are upper case). */
function tickerPattern(ticker: string): RegExp {
  return new RegExp(`(?<![A-Za-z0-9])${ticker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`);
}

/** One claim to ground: where it is in the output (`findings.2`), its words and its citations. */
export interface CitingClaim {
  readonly at: string;
  readonly statement: string;
  readonly citations: readonly (number | AnyItemCitation)[];
}

/** The items claims may cite, by kind. */
export type CitableInput = { rows?: readonly AnyFinancialRow[]; posts?: readonly unknown[]; results?: readonly unknown[]; findings?: readonly unknown[] };

/**
 * Grounding of cited claims (an analysis's findings, a report's paragraphs): every citation
 * points at an input item (an index in range, a url some post or result has), every quote is in
 * the cited item verbatim (whitespace aside), and a claim whose words name a ticker of the input
 * rows cites at least one row of that company.
 */
export function checkCitations(claims: readonly CitingClaim[], input: CitableInput): string[] {
  const lists: Record<CitableItemKind, readonly unknown[]> = { rows: input.rows ?? [], posts: input.posts ?? [], results: input.results ?? [], findings: input.findings ?? [] };
  const urls: Record<CitableItemKind, Map<string, number>> = {
    rows: new Map(),
    findings: new Map(),
    posts: new Map(lists.posts.map((p, i) => [(p as { url: string }).url, i] as const).reverse()),
    results: new Map(lists.results.map((r, i) => [(r as { url: string }).url, i] as const).reverse()),
  };
  const tickers = [...new Set(lists.rows.map((row) => (row as AnyFinancialRow).entity))].map((ticker) => ({ ticker, named: tickerPattern(ticker) }));
  const normalized = new Map<string, string>();
  const errors: string[] = [];
  for (const claim of claims) {
    const citedEntities = new Set<string>();
    claim.citations.forEach((raw, j) => {
      const c: AnyItemCitation = typeof raw === 'number' ? { item: 'rows', index: raw } : raw;
      const at = `${claim.at}.citations.${j}`;
      const list = lists[c.item];
      let index = c.index;
      if (c.url !== undefined) {
        index = urls[c.item].get(c.url);
        if (index === undefined) {
          const byIndex = c.item === 'rows' || c.item === 'findings';
          errors.push(`${at}: no input ${byIndex ? `${c.item.slice(0, -1)} has a url (cite ${c.item} by index)` : `${c.item.slice(0, -1)} has url ${excerpt(c.url, 120)}`}`);
          return;
        }
      }
      if (index === undefined || index >= list.length) {
        errors.push(`${at}: ${c.item.slice(0, -1)} ${index} does not exist; the input has ${list.length ? `${c.item} 0..${list.length - 1}` : `no ${c.item}`}`);
        return;
      }
      if (c.item === 'rows') citedEntities.add((list[index] as AnyFinancialRow).entity);
      if (c.quote !== undefined) {
        const key = `${c.item}/${index}`;
        let text = normalized.get(key);
        if (text === undefined) normalized.set(key, (text = normalizeWhitespace(quotableText(c.item, list[index]))));
        if (!quoteIsIn(c.quote, text)) errors.push(`${at}: quote ${excerpt(c.quote)} is not in ${c.item}[${index}]; quote its words verbatim`);
      }
    });
    for (const { ticker, named } of tickers) {
      if (named.test(claim.statement) && !citedEntities.has(ticker)) errors.push(`${claim.at}: the statement names ${ticker} but cites no ${ticker} row`);
    }
  }
  return errors;
}

const findingClaims = (findings: readonly { statement: string; citations: readonly (number | ItemCitation)[] }[]): CitingClaim[] =>
  findings.map((f, i) => ({ at: `findings.${i}`, statement: f.statement, citations: f.citations }));

/** text.analysis@1: every citation is the index of an input row; a finding naming a ticker cites a row of it. */
export const checkAnalysis = semanticCheck('text.analysis@1', { output: AnalysisSchema, input: AnalysisRequestSchema }, (output: Analysis, input: AnalysisRequest) =>
  checkCitations(findingClaims(output.findings), input),
);

/** text.analysis@2: citations of rows, posts and results point at input items, and quoted evidence is in them. */
export const checkCitedAnalysis = semanticCheck('text.analysis@2', { output: CitedAnalysisSchema, input: AnalysisInputSchema }, (output: CitedAnalysis, input: AnalysisInput) =>
  checkCitations(findingClaims(output.findings), input),
);
