import { FinancialRow, FinancialRowSchema } from '@orchestra/schemas';
import dataset from '../data/financials.json';

/** The devnet's real data set (data/financials.json), validated once at load. */
export const FINANCIAL_ROWS: readonly FinancialRow[] = Object.freeze(dataset.rows.map((row) => FinancialRowSchema.parse(row)));

/**
 * Approximate fiscal-year end (month-day) per company, from data/financials.json `companies[].fiscalYear`;
 * FYyyyy ends in calendar year yyyy for all five, which is what the SN13 date range relies on.
 */
const FISCAL_YEAR_END: Readonly<Record<string, string>> = { AAPL: '09-30', MSFT: '06-30', GOOGL: '12-31', AMZN: '12-31', NVDA: '01-31' };

/** The end of a row's fiscal year as an ISO timestamp (the DataEntity datetime a data miner reports). */
export function fiscalYearEnd(row: Pick<FinancialRow, 'entity' | 'period'>): string {
  return `${row.period.slice(2)}-${FISCAL_YEAR_END[row.entity] ?? '12-31'}T00:00:00Z`;
}
