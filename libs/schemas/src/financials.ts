import { z } from 'zod';

/**
 * One reported figure: what SN13-style data miners return, normalised.
 * (entity, period, metric) identifies a row; `source` names the filing it came from.
 */
export const FinancialRowSchema = z
  .object({
    entity: z.string().min(1).max(16).describe('Ticker of the reporting company, e.g. AAPL'),
    period: z
      .string()
      .regex(/^FY\d{4}$/, 'period must look like FY2023')
      .describe('Fiscal year, e.g. FY2023'),
    metric: z.enum(['revenue', 'net_income']).describe('Reported line item'),
    value: z.number().finite().describe('Reported amount in `unit`'),
    unit: z.literal('USD_millions'),
    source: z.string().min(1).max(300).describe('Filing the figure was read from, e.g. "AAPL 10-K FY2023"'),
  })
  .strict();
export type FinancialRow = z.infer<typeof FinancialRowSchema>;

/** Input of a `data.financials` step: which companies, fiscal years and line items to fetch. */
export const FinancialsRequestSchema = z
  .object({
    entities: z.array(z.string().min(1).max(16)).min(1).max(10),
    periods: z
      .array(z.string().regex(/^FY\d{4}$/))
      .min(1)
      .max(20),
    metrics: z.array(FinancialRowSchema.shape.metric).min(1),
  })
  .strict();
export type FinancialsRequest = z.infer<typeof FinancialsRequestSchema>;

/** Output of a `data.financials` step. */
export const FinancialsSchema = z.object({ rows: z.array(FinancialRowSchema).min(1).max(1000) }).strict();
export type Financials = z.infer<typeof FinancialsSchema>;

/** The identity of a row, used for citations and coverage checks. */
export function rowKey(row: Pick<FinancialRow, 'entity' | 'period' | 'metric'>): string {
  return `${row.entity}/${row.period}/${row.metric}`;
}
