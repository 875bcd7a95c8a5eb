import { z } from 'zod';
import { checkCitations, CitedFindingSchema, CITABLE_ITEM_KINDS, CitingClaim, itemCitationSchema } from './analysis';
import { semanticCheck } from './check';
import { AnyFinancialRowSchema } from './financials';
import { SearchResultSchema } from './search';
import { SocialPostSchema } from './social';

/**
 * text.report@1: a written report in sections whose every paragraph cites the input items it
 * rests on (figures, posts, web results, an earlier analysis's findings). The grounding is
 * text.analysis@2's (checkCitations), applied per paragraph.
 */

/** Input of a `text.report@1` step: the question it answers (and, optionally, its title) and at least one item to rest it on. */
export const ReportInputSchema = z
  .object({
    question: z.string().min(1).max(4000),
    title: z.string().min(1).max(300).optional(),
    rows: z.array(AnyFinancialRowSchema).max(1000).optional(),
    posts: z.array(SocialPostSchema).max(1000).optional(),
    results: z.array(SearchResultSchema).max(100).optional(),
    /** A text.analysis@2 output's findings; their own citations point into that step's input, not this one's. */
    findings: z.array(CitedFindingSchema).max(200).optional(),
  })
  .strict()
  .refine((r) => (r.rows?.length ?? 0) + (r.posts?.length ?? 0) + (r.results?.length ?? 0) + (r.findings?.length ?? 0) > 0, {
    message: 'give at least one row, post, result or finding to report on',
  });
export type ReportInput = z.infer<typeof ReportInputSchema>;

export const ReportCitationSchema = itemCitationSchema(CITABLE_ITEM_KINDS, "a row's quote, a post's text, a result's title or snippet, a finding's statement");

/** A paragraph is one claim: it cites at least one input item. */
export const ReportParagraphSchema = z
  .object({
    text: z.string().min(1).max(4000),
    citations: z.array(ReportCitationSchema).min(1).max(50),
  })
  .strict();

export const ReportSectionSchema = z
  .object({
    heading: z.string().min(1).max(300),
    paragraphs: z.array(ReportParagraphSchema).min(1).max(50),
  })
  .strict();

/** Output of a `text.report@1` step. */
export const TextReportSchema = z
  .object({
    title: z.string().min(1).max(300),
    sections: z.array(ReportSectionSchema).min(1).max(30),
  })
  .strict();
export type TextReport = z.infer<typeof TextReportSchema>;

/** text.report@1: every paragraph's citations point at input items, and quoted evidence is in them verbatim. */
export const checkTextReport = semanticCheck('text.report@1', { output: TextReportSchema, input: ReportInputSchema }, (output: TextReport, input: ReportInput) => {
  const claims: CitingClaim[] = output.sections.flatMap((section, i) =>
    section.paragraphs.map((p, j) => ({ at: `sections.${i}.paragraphs.${j}`, statement: p.text, citations: p.citations })),
  );
  return checkCitations(claims, input);
});
