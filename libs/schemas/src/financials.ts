import { z } from 'zod';
import { semanticCheck } from './check';
import { asFiled, excerpt, normalizeWhitespace, numbersIn, quoteIsIn, statesValue } from './grounding';

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
export function rowKey(row: { readonly entity: string; readonly period: string; readonly metric: string }): string {
  return `${row.entity}/${row.period}/${row.metric}`;
}

/**
 * data.financials@2: figures extracted from documents the client supplied (filings, reports),
 * each row quoting the sentence or table line it was read from, so the verifier can find the
 * quote in the named document and the number in the quote.
 */

/** A document the client supplied: an id rows refer to, an optional title, and its text. */
export const FinancialDocumentSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'a document id: letters, digits, . _ : - (at most 100)')
      .describe('How rows name this document, e.g. aapl-10k-fy2023'),
    title: z.string().min(1).max(300).optional(),
    text: z.string().min(1).max(400_000).describe('The document text (a filing excerpt, a report)'),
  })
  .strict();
export type FinancialDocument = z.infer<typeof FinancialDocumentSchema>;

/** A line item as a snake_case name: revenue, net_income, operating_income, diluted_eps… */
export const MetricNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'a snake_case line item, e.g. net_income')
  .describe('Line item, snake_case (revenue, net_income, operating_income…)');

/**
 * Units of an extracted figure: a currency code with its scale (`USD`, `USD_thousands`,
 * `USD_millions`, `USD_billions`), a per-share amount (`USD_per_share`), `percent`, or a count
 * of shares (`shares`, `shares_millions`…). The scale is what the grounding check multiplies by.
 */
export const FilingUnitSchema = z
  .string()
  .regex(
    /^(?:[A-Z]{3}(?:_(?:thousands|millions|billions|per_share))?|percent|shares(?:_(?:thousands|millions|billions))?)$/,
    'a unit such as USD_millions, USD, USD_per_share, percent or shares_millions',
  )
  .describe('USD_millions when the filing says "in millions"; USD_per_share for earnings per share; percent');

/** One figure read from a supplied document, with the text it was read from. */
export const ExtractedRowSchema = z
  .object({
    entity: FinancialRowSchema.shape.entity,
    period: FinancialRowSchema.shape.period,
    metric: MetricNameSchema,
    value: z.number().finite().describe('The figure in `unit`, negative when the filing shows it in parentheses'),
    unit: FilingUnitSchema,
    documentId: z.string().min(1).max(100).describe('id of the supplied document the figure was read from'),
    quote: z.string().min(1).max(1_000).describe('The sentence or table line, copied verbatim from the document, that states the figure as the filing writes it'),
  })
  .strict();
export type ExtractedRow = z.infer<typeof ExtractedRowSchema>;

/** Input of a `data.financials@2` step: the documents, and optionally which figures are wanted. */
export const FinancialsExtractRequestSchema = z
  .object({
    documents: z.array(FinancialDocumentSchema).min(1).max(20),
    /** Only these companies (tickers); every company in the documents when absent. */
    entities: z.array(FinancialRowSchema.shape.entity).min(1).max(10).optional(),
    /** Only these fiscal years; every year the documents state when absent. */
    periods: z.array(FinancialRowSchema.shape.period).min(1).max(20).optional(),
    /** Only these line items; every figure the documents state when absent. */
    metrics: z.array(MetricNameSchema).min(1).max(20).optional(),
  })
  .strict()
  .refine((r) => new Set(r.documents.map((d) => d.id)).size === r.documents.length, { message: 'document ids must be distinct', path: ['documents'] });
export type FinancialsExtractRequest = z.infer<typeof FinancialsExtractRequestSchema>;

/** Output of a `data.financials@2` step. */
export const ExtractedFinancialsSchema = z.object({ rows: z.array(ExtractedRowSchema).min(1).max(1000) }).strict();
export type ExtractedFinancials = z.infer<typeof ExtractedFinancialsSchema>;

/** A row of either version, as later steps (analysis, code) take them. */
export const AnyFinancialRowSchema = z.union([FinancialRowSchema, ExtractedRowSchema]);
export type AnyFinancialRow = z.infer<typeof AnyFinancialRowSchema>;

/** Listing every missing row would drown the re-ask; this many are named, the rest counted. */
const MAX_NAMED_MISSING = 10;

/** Rows that repeat an (entity, period, metric), and requested keys no row has. Tickers compare case-insensitively. */
function coverage(rows: readonly { entity: string; period: string; metric: string }[], requested: ReadonlySet<string> | undefined): { errors: string[]; missing: string[] } {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const key = rowKey({ ...row, entity: row.entity.toUpperCase() });
    const first = seen.get(key);
    if (first !== undefined) errors.push(`rows.${i}: duplicates rows.${first} (${key})`);
    else if (requested && !requested.has(key)) errors.push(`rows.${i}: ${key} was not requested`);
    else seen.set(key, i);
  });
  return { errors, missing: requested ? [...requested].filter((key) => !seen.has(key)) : [] };
}

function missingRows(missing: readonly string[]): string[] {
  if (!missing.length) return [];
  const more = missing.length > MAX_NAMED_MISSING ? ` and ${missing.length - MAX_NAMED_MISSING} more` : '';
  return [`rows: missing ${missing.length} requested row(s): ${missing.slice(0, MAX_NAMED_MISSING).join(', ')}${more}`];
}

function requestedKeys(entities: readonly string[], periods: readonly string[], metrics: readonly string[]): Set<string> {
  return new Set(entities.flatMap((entity) => periods.flatMap((period) => metrics.map((metric) => rowKey({ entity: entity.toUpperCase(), period, metric })))));
}

/** data.financials@1: every requested (entity, period, metric) exactly once, and nothing else. */
export const checkFinancials = semanticCheck('data.financials@1', { output: FinancialsSchema, input: FinancialsRequestSchema }, (output: Financials, input: FinancialsRequest) => {
  const { errors, missing } = coverage(output.rows, requestedKeys(input.entities, input.periods, input.metrics));
  return [...missingRows(missing), ...errors];
});

/**
 * data.financials@2, grounding: every row names a supplied document, its quote is in that
 * document verbatim (whitespace aside), and the quote states the row's value as filings write
 * numbers. Rows stay within the requested entities, periods and metrics, each (entity, period,
 * metric) at most once; when all three are given, every combination must be there (the client
 * says its documents hold them).
 */
export const checkExtractedFinancials = semanticCheck(
  'data.financials@2',
  { output: ExtractedFinancialsSchema, input: FinancialsExtractRequestSchema },
  (output: ExtractedFinancials, input: FinancialsExtractRequest) => {
    const documents = new Map(input.documents.map((d) => [d.id, d]));
    const normalized = new Map<string, string>();
    const textOf = (id: string): string => {
      let text = normalized.get(id);
      if (text === undefined) normalized.set(id, (text = normalizeWhitespace(documents.get(id)?.text ?? '')));
      return text;
    };
    const errors: string[] = [];
    const within = (list: readonly string[] | undefined, value: string, upper = false) =>
      !list || list.some((x) => (upper ? x.toUpperCase() === value.toUpperCase() : x === value));
    output.rows.forEach((row, i) => {
      if (!within(input.entities, row.entity, true)) errors.push(`rows.${i}: entity ${row.entity} was not requested (entities: ${input.entities?.join(', ')})`);
      if (!within(input.periods, row.period)) errors.push(`rows.${i}: period ${row.period} was not requested (periods: ${input.periods?.join(', ')})`);
      if (!within(input.metrics, row.metric)) errors.push(`rows.${i}: metric ${row.metric} was not requested (metrics: ${input.metrics?.join(', ')})`);
      if (!documents.has(row.documentId)) {
        errors.push(`rows.${i}: documentId ${JSON.stringify(row.documentId)} names no supplied document (documents: ${[...documents.keys()].join(', ')})`);
        return;
      }
      if (!quoteIsIn(row.quote, textOf(row.documentId))) {
        errors.push(`rows.${i}: quote ${excerpt(row.quote)} is not in document ${row.documentId}; copy the sentence or table line verbatim`);
        return;
      }
      if (!statesValue(row.quote, row.value, row.unit)) {
        const seen = numbersIn(row.quote).map((n) => n.text);
        errors.push(
          `rows.${i}: quote does not state ${row.value} ${row.unit} as the filing writes it (e.g. "${asFiled(row.value)}" in a table in ${row.unit.replace(/^[A-Z]{3}_?/, '') || 'units'}, or with a scale word such as "$1.2 billion"; negatives in parentheses); numbers in the quote: ${seen.length ? seen.slice(0, 8).join(', ') : 'none'}`,
        );
      }
    });
    const requested = input.entities && input.periods && input.metrics ? requestedKeys(input.entities, input.periods, input.metrics) : undefined;
    const { errors: repeats, missing } = coverage(output.rows, requested);
    // Rows outside the request were named above with the field that is off; here only repeats count.
    return [...missingRows(missing), ...errors, ...repeats.filter((e) => !e.endsWith('was not requested'))];
  },
);
