import { z } from 'zod';
import { FinancialRowSchema } from './financials';

/** Input of a `text.analysis` step: the question and the rows the findings must rest on. */
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

/** Output of a `text.analysis` step. */
export const AnalysisSchema = z
  .object({
    summary: z.string().min(1).max(4000),
    findings: z.array(FindingSchema).min(1).max(50),
  })
  .strict();
export type Analysis = z.infer<typeof AnalysisSchema>;
