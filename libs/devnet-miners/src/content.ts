import { stringRepr, type DataEntity, type OnDemandQuery } from '@orchestra/bittensor';
import type { Analysis, AnalysisRequest, CodeRequest, FinancialRow, PythonCode } from '@orchestra/schemas';
import { COLLUSION_FACTOR } from './behaviours';
import { FINANCIAL_ROWS, fiscalYearEnd } from './dataset';

/**
 * What honest simulated miners compute. SN13 serves rows of the real data set, SN1 derives an
 * analysis from the rows it is given, SN62 writes a matplotlib script over them.
 */

/** SEC EDGAR full-text search for a company's 10-K filings: the DataEntity uri of a row. */
function filingUri(row: FinancialRow): string {
  return `https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&ticker=${row.entity}&type=10-K#${row.period}-${row.metric}`;
}

/** What colluding miners serve instead of the rows: the same rows, every value scaled by COLLUSION_FACTOR. */
export function colluded<R extends { readonly value: number }>(rows: readonly R[]): R[] {
  return rows.map((row) => ({ ...row, value: Math.round(row.value * COLLUSION_FACTOR) }));
}

/**
 * An OnDemandRequest answered from the data set (or `rows`), following the adapter's convention:
 * keywords = tickers (any), usernames = metrics (all when empty), dates bound the fiscal-year end.
 */
export function onDemandEntities(query: Partial<OnDemandQuery>, rows: readonly FinancialRow[] = FINANCIAL_ROWS): DataEntity[] {
  const tickers = new Set((query.keywords ?? []).map((k) => k.toUpperCase()));
  const metrics = new Set(query.usernames ?? []);
  const from = query.start_date ? Date.parse(query.start_date) : -Infinity;
  const to = query.end_date ? Date.parse(query.end_date) : Infinity;
  return rows
    .filter((row) => {
      const at = Date.parse(fiscalYearEnd(row));
      return (tickers.size === 0 || tickers.has(row.entity)) && (metrics.size === 0 || metrics.has(row.metric)) && at >= from && at <= to;
    })
    .slice(0, Math.max(1, Math.min(query.limit ?? 100, 1000)))
    .map((row) => {
      const content = JSON.stringify(row);
      return { uri: filingUri(row), datetime: fiscalYearEnd(row), source: 0, label: { value: row.metric }, content, content_size_bytes: Buffer.byteLength(content) };
    });
}

/** The same rows in a shape the verifier must refuse (renamed keys, numbers as strings). */
export function wrongSchemaEntities(query: Partial<OnDemandQuery>): DataEntity[] {
  return onDemandEntities(query).map((e) => {
    const row = JSON.parse(e.content) as FinancialRow;
    const content = JSON.stringify({ ticker: row.entity, year: row.period.slice(2), amount: String(row.value) });
    return { ...e, content, content_size_bytes: Buffer.byteLength(content) };
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const usd = (x: number) => `$${Math.round(x).toLocaleString('en-US')}M`;

/**
 * An analysis computed from the rows: revenue CAGR per company (citing the first and last revenue
 * rows) and the best and worst net-income year per company (citing those rows).
 */
export function analyse(req: AnalysisRequest): Analysis {
  const indexed = req.rows.map((row, index) => ({ row, index, year: Number(row.period.slice(2)) }));
  const entities = [...new Set(req.rows.map((r) => r.entity))];
  const findings: Analysis['findings'] = [];
  const cagrs: { entity: string; cagr: number }[] = [];
  for (const entity of entities) {
    const revenue = indexed.filter((r) => r.row.entity === entity && r.row.metric === 'revenue').sort((a, b) => a.year - b.year);
    if (revenue.length >= 2 && revenue[0].row.value > 0) {
      const [first, last] = [revenue[0], revenue[revenue.length - 1]];
      const cagr = (last.row.value / first.row.value) ** (1 / (last.year - first.year)) - 1;
      cagrs.push({ entity, cagr });
      findings.push({
        statement: `${entity} revenue went from ${usd(first.row.value)} in ${first.row.period} to ${usd(last.row.value)} in ${last.row.period}, a compound annual growth rate of ${pct(cagr)}.`,
        citations: [first.index, last.index],
      });
    }
    const income = indexed.filter((r) => r.row.entity === entity && r.row.metric === 'net_income');
    if (income.length >= 2) {
      const best = income.reduce((a, b) => (b.row.value > a.row.value ? b : a));
      const worst = income.reduce((a, b) => (b.row.value < a.row.value ? b : a));
      findings.push({
        statement: `${entity} net income peaked at ${usd(best.row.value)} in ${best.row.period} and was lowest at ${usd(worst.row.value)} in ${worst.row.period}.`,
        citations: [best.index, worst.index],
      });
    }
  }
  if (findings.length === 0) findings.push({ statement: `The ${req.rows.length} rows hold too few points per company to compute growth.`, citations: [0] });
  cagrs.sort((a, b) => b.cagr - a.cagr);
  const summary = cagrs.length
    ? `Across ${entities.length} companies, revenue grew fastest at ${cagrs[0].entity} (${pct(cagrs[0].cagr)} a year) and slowest at ${cagrs[cagrs.length - 1].entity} (${pct(cagrs[cagrs.length - 1].cagr)} a year). Question: ${req.question}`
    : `Not enough revenue history to compare growth. Question: ${req.question}`;
  return { summary: summary.slice(0, 4000), findings: findings.slice(0, 50) };
}

/**
 * A runnable matplotlib script that embeds the rows and plots revenue and net income per company
 * over the fiscal years. Rows hold only strings and numbers, so their JSON is a valid Python literal.
 */
export function plotScript(req: CodeRequest): PythonCode {
  const rows = req.rows.map((r) => `    ${JSON.stringify(r)},`).join('\n');
  const code = `"""Plot reported revenue and net income per company over fiscal years (USD millions).

Task: ${req.task.replace(/"""/g, "'''").replace(/\\/g, '/')}
Writes financials.png next to the script.
"""
import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

TASK = ${stringRepr(req.task)}
ROWS = [
${rows}
]
METRICS = [("revenue", "Revenue"), ("net_income", "Net income")]


def series(metric):
    """{entity: [(year, value), ...]} sorted by year, for one metric."""
    by_entity = {}
    for row in ROWS:
        if row["metric"] == metric:
            by_entity.setdefault(row["entity"], []).append((int(row["period"][2:]), row["value"]))
    return {entity: sorted(points) for entity, points in by_entity.items()}


def main():
    fig, axes = plt.subplots(1, len(METRICS), figsize=(13, 5))
    for ax, (metric, title) in zip(axes, METRICS):
        for entity, points in sorted(series(metric).items()):
            ax.plot([y for y, _ in points], [v for _, v in points], marker="o", label=entity)
        ax.set_title(f"{title} (USD millions)")
        ax.set_xlabel("Fiscal year")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(TASK[:120])
    fig.tight_layout()
    fig.savefig("financials.png", dpi=150)
    print("wrote financials.png")


if __name__ == "__main__":
    main()
`;
  return { language: 'python', code, dependencies: ['matplotlib'], entrypoint: 'plot_financials.py' };
}
