import { FINANCIAL_ROWS, analyse, plotScript } from '@orchestra/devnet-miners';
import { FinancialRow, FinancialsRequest } from '@orchestra/schemas';

/**
 * The job both the orchestra and the peer case run: a 3-step chain, each step reading the
 * verified output before it — data.financials (50 rows) → text.analysis → code.python (the
 * script embeds the rows). The same payloads the devnet's simulated miners answer with.
 */
export const BENCH_REQUEST: FinancialsRequest = {
  entities: ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA'],
  periods: ['FY2019', 'FY2020', 'FY2021', 'FY2022', 'FY2023'],
  metrics: ['revenue', 'net_income'],
};
export const BENCH_QUESTION = 'How did these companies grow?';
export const BENCH_TASK = 'Write a Python script that graphs revenue and net income per company over the fiscal years.';
export const BENCH_STEPS = 3;

/** The explicit plan the orchestra case submits. */
export const BENCH_PLAN = [
  { id: 'data', capability: 'data.financials', input: BENCH_REQUEST, deps: [] },
  { id: 'analysis', capability: 'text.analysis', input: { question: BENCH_QUESTION, rows: { $ref: '/steps/data/output/rows' } }, deps: ['data'] },
  { id: 'code', capability: 'code.python', input: { task: BENCH_TASK, rows: { $ref: '/steps/data/output/rows' } }, deps: ['data', 'analysis'] },
];

/** What an instant, correct miner answers to each step, as raw text. */
export const answers = {
  data: (req: FinancialsRequest): string =>
    JSON.stringify({
      rows: FINANCIAL_ROWS.filter((r) => req.entities.includes(r.entity) && req.periods.includes(r.period) && (req.metrics as string[]).includes(r.metric)),
    }),
  analysis: (rows: FinancialRow[]): string => JSON.stringify(analyse({ question: BENCH_QUESTION, rows })),
  code: (rows: FinancialRow[]): string => JSON.stringify(plotScript({ task: BENCH_TASK, rows })),
};
