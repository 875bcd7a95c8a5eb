/**
 * How the good fake LLM answers Orchestra's own prompts (libs/schemas promptFor): it reads them
 * as a model would, never from canned answers. From the system message it takes the capability
 * (`You are hired for the capability <name>`) and the output JSON Schema (the JSON after
 * `It must conform to this JSON Schema:`); from the user message the documents (`Document <id>:
 * <title>` over a fenced text block) and the task input (the fenced ```json block after
 * `Input`). Then, deterministically:
 *
 * - extraction (an output whose rows carry `documentId` and `quote`): every figure the documents
 *   state, from table lines (a line ending in two or more years gives the columns) and from sentences (an
 *   amount with a scale word, dated by the year in its sentence), as (entity, period, metric,
 *   value, unit) with the line it was read from as the quote, kept to the requested entities,
 *   periods and metrics;
 * - analysis (an output of findings with citations): a finding per company and line item over
 *   the years, per post and per search result, each citing the items it rests on with words
 *   copied from them, and citing a company's row whenever it names its ticker;
 * - report (an output of a title and sections of cited paragraphs): a section restating the
 *   given findings, each cited with its statement as the quote, and a section of the analysis
 *   above over the given rows, posts and results;
 * - data extraction (an output of `data` and `evidence`): a value of the client's schema (in the
 *   input) whose every string is a document sentence naming its key (else the first sentence) and
 *   every number the first one written in such a sentence, each with that sentence as evidence;
 * - code (an output with `code`, `dependencies` and `entrypoint`): a matplotlib script that plots
 *   the given rows per line item and company over the periods;
 * - anything else: a value conforming to the JSON Schema, its strings taken from the prompt.
 */

import { splitSentences } from './sentences';

export interface PromptMessage {
  readonly role: string;
  readonly content: string;
}

interface Document {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

type JsonSchema = Record<string, unknown>;

/** What an Orchestra prompt says, or undefined when the messages are not one. */
export interface OrchestraPrompt {
  readonly capability: string;
  readonly schema: JsonSchema;
  readonly documents: readonly Document[];
  readonly input: Record<string, unknown>;
}

const SCHEMA_LINE = 'It must conform to this JSON Schema:';

export function readOrchestraPrompt(messages: readonly PromptMessage[]): OrchestraPrompt | undefined {
  const system = messages.find((m) => m.role === 'system' && m.content.includes(SCHEMA_LINE));
  const user = [...messages].reverse().find((m) => m.role === 'user');
  if (!system || !user) return undefined;
  const capability = /You are hired for the capability ([\w.-]+)/.exec(system.content)?.[1] ?? 'unknown';
  const schema = parseJson(system.content.slice(system.content.indexOf(SCHEMA_LINE) + SCHEMA_LINE.length).trim());
  if (!isObject(schema)) return undefined;
  const documents: Document[] = [];
  for (const m of user.content.matchAll(/^Document (\S+?)(?:: (.*))?\n(`{3,})text\n([\s\S]*?)\n\3$/gm)) documents.push({ id: m[1], title: m[2] ?? '', text: m[4] });
  const fence = /^Input[^\n]*:\n(`{3,})json\n([\s\S]*?)\n\1$/m.exec(user.content);
  const input = fence ? parseJson(fence[2]) : undefined;
  return { capability, schema, documents, input: isObject(input) ? input : {} };
}

/** The answer to an Orchestra prompt: one JSON value, as the prompt demands. */
export function answerOrchestraPrompt(prompt: OrchestraPrompt): string {
  const props = propertiesOf(itemsOf(propertiesOf(prompt.schema).rows));
  if ('documentId' in props && 'quote' in props) return JSON.stringify({ rows: extractRows(prompt.documents, prompt.input) });
  const findings = propertiesOf(prompt.schema).findings;
  if (findings !== undefined && 'citations' in propertiesOf(itemsOf(findings))) return JSON.stringify(analyse(prompt.input));
  const top = propertiesOf(prompt.schema);
  if ('data' in top && 'evidence' in top) return JSON.stringify(extractData(prompt.input.schema, prompt.documents));
  if ('title' in top && 'sections' in top) return JSON.stringify(report(prompt.input));
  if ('code' in top && 'entrypoint' in top && 'dependencies' in top) return JSON.stringify(plotScript(prompt.input));
  const text = [...prompt.documents.map((d) => d.text), JSON.stringify(prompt.input)].join('\n');
  return JSON.stringify(conform(prompt.schema, '', splitSentences(text)));
}

// ---------------------------------------------------------------- extraction

/** Line items as filings name them, and the snake_case metric a reader files them under. */
const METRIC_NAMES: readonly (readonly [RegExp, string])[] = [
  [/^(total )?(net )?(sales|revenues?)$|^total net sales$|^revenue$/, 'revenue'],
  [/^net (income|earnings|profit)( \(loss\))?$|^net loss$/, 'net_income'],
  [/^operating (income|profit)( \(loss\))?$/, 'operating_income'],
  [/^gross margin$/, 'gross_margin'],
  [/^gross profit$/, 'gross_profit'],
  [/^diluted( earnings per share| eps)?$/, 'diluted_eps'],
  [/^basic( earnings per share| eps)?$/, 'basic_eps'],
];

const metricOf = (label: string): string => {
  const words = label
    .toLowerCase()
    .replace(/[^a-z0-9()/ ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const known = METRIC_NAMES.find(([pattern]) => pattern.test(words));
  return known
    ? known[1]
    : words
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .replace(/^(\d)/, 'm_$1')
        .slice(0, 64);
};

/** Words that introduce a line item rather than name it ("and net income", "the Company’s total net sales"). */
const LEAD_WORDS = /^(?:and|the|in|its|our|their|while|whereas|company'?s|company’s)$/i;

/** The metric a phrase names, leading connectives dropped: "and net income" → net_income, "Microsoft Cloud revenue" → microsoft_cloud_revenue. */
function metricNamedLast(phrase: string): string {
  const words = phrase.trim().split(/\s+/);
  while (words.length > 1 && LEAD_WORDS.test(words[0])) words.shift();
  return metricOf(words.join(' '));
}

interface Row {
  entity: string;
  period: string;
  metric: string;
  value: number;
  unit: string;
  documentId: string;
  quote: string;
}

const YEAR = /\b(19|20)\d\d\b/g;
const AMOUNT = /(\()?\s?(-)?(?:[A-Z]{1,2}\$\s?|[$€£]\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\))?(\s?%|\s(?:thousand|million|billion)\b)?/g;

/** Rows of every figure the documents state, kept to the request (entities, periods, metrics). */
export function extractRows(documents: readonly Document[], request: Record<string, unknown>): Row[] {
  const wanted = (key: string): Set<string> | undefined => (Array.isArray(request[key]) ? new Set((request[key] as unknown[]).map((x) => String(x))) : undefined);
  const entities = wanted('entities');
  const periods = wanted('periods');
  const metrics = wanted('metrics');
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const document of documents) {
    const entity = entityOf(document, entities);
    if (!entity) continue;
    const currency = /\b(EUR|GBP|JPY|CHF)\b|€|£/.exec(document.text)?.[0] ?? 'USD';
    const code = currency === '€' ? 'EUR' : currency === '£' ? 'GBP' : currency;
    for (const row of [...tableRows(document, entity, code), ...sentenceRows(document, entity, code)]) {
      const key = `${row.entity}/${row.period}/${row.metric}`;
      if (seen.has(key) || (periods && !periods.has(row.period)) || (metrics && !metrics.has(row.metric))) continue;
      seen.add(key);
      rows.push(row);
    }
  }
  return rows;
}

/** The ticker a document is about: a requested one it names, else the one it declares ("Nasdaq: AAPL", "Trading symbol AAPL"). */
function entityOf(document: Document, requested: Set<string> | undefined): string | undefined {
  const text = `${document.title}\n${document.text}`;
  if (requested) return [...requested].find((ticker) => new RegExp(`(?<![A-Za-z0-9])${ticker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`).test(text));
  return /\b(?:NASDAQ|Nasdaq|NYSE|NZX|LSE|ticker|[Tt]rading symbol(?:\(s\))?)\s*:?\s*([A-Z][A-Z.]{0,5})\b/.exec(text)?.[1];
}

/** The unit a document's tables are stated in ("in millions"), per line (per-share and percent lines are exceptions). */
function tableUnit(text: string, code: string): string {
  const scale = /\bin (thousands|millions|billions)\b/i.exec(text)?.[1]?.toLowerCase();
  return scale ? `${code}_${scale}` : code;
}

/** Table lines: a header line of years names the columns; each later line with a label and as many amounts is a row per year. */
function tableRows(document: Document, entity: string, code: string): Row[] {
  const rows: Row[] = [];
  let years: string[] = [];
  const unit = tableUnit(document.text, code);
  for (const line of document.text.split('\n')) {
    // A header: two or more years, and nothing but years from the first of them on ("Year Ended June 30,   2023   2022").
    const headerYears = line.match(YEAR) ?? [];
    const fromFirstYear = line.slice(line.search(YEAR)).replace(YEAR, '');
    if (headerYears.length >= 2 && /^[\s|]*$/.test(fromFirstYear)) {
      years = headerYears;
      continue;
    }
    if (years.length === 0) continue;
    const label = /^[\s|]*([A-Za-z][A-Za-z ,'’/()&-]*?[A-Za-z)])[\s|:$]*(?=[\s|$(]*[-(]?\d)/.exec(line)?.[1];
    if (!label) continue;
    const figures = line.slice(line.indexOf(label) + label.length);
    // A table line is a label and amounts only; words after the first amount make it prose.
    if (!/^[\s|$€£\d,.()%—–-]*$/.test(figures)) continue;
    const amounts = [...figures.matchAll(AMOUNT)].filter((m) => !m[6]?.includes('%'));
    if (amounts.length < years.length) continue;
    const perShare = /per share|\beps\b|^diluted$|^basic$/i.test(label);
    amounts.slice(0, years.length).forEach((m, i) => {
      rows.push({
        entity,
        period: `FY${years[i]}`,
        metric: metricOf(label),
        value: amountOf(m),
        unit: perShare ? `${code}_per_share` : unit,
        documentId: document.id,
        quote: line.trim(),
      });
    });
  }
  return rows;
}

/** Sentences with an amount and a scale word ("net income was $97.0 billion during 2023"): the metric is named before it, the year in the sentence. */
function sentenceRows(document: Document, entity: string, code: string): Row[] {
  const rows: Row[] = [];
  const fiscalYear = /\b(?:fiscal(?: year)?|FY)\s?((?:19|20)\d\d)\b/i.exec(`${document.title} ${document.text}`)?.[1];
  for (const sentence of splitSentences(document.text)) {
    const year = sentence.match(YEAR)?.[0] ?? fiscalYear;
    if (!year) continue;
    let previousEnd = 0;
    for (const m of sentence.matchAll(AMOUNT)) {
      const scale = m[6]?.trim();
      const at = m.index ?? 0;
      const before = sentence.slice(previousEnd, at);
      previousEnd = at + m[0].length;
      if (!scale || scale === '%') continue;
      const label = /([A-Za-z][A-Za-z'’ ]*?)\s+(?:was|were|of|totaled|reached|increased to|decreased to|rose to|fell to)\s*$/i.exec(before)?.[1];
      if (!label) continue;
      const metric = metricNamedLast(label);
      rows.push({ entity, period: `FY${year}`, metric, value: amountOf(m), unit: `${code}_${scale}s`, documentId: document.id, quote: sentence });
    }
  }
  return rows;
}

function amountOf(m: RegExpMatchArray): number {
  const magnitude = Number(m[3].replace(/,/g, '') + (m[4] ?? ''));
  return (m[1] && m[5]) || m[2] ? -magnitude : magnitude;
}

// ---------------------------------------------------------------- analysis

interface AnyRow {
  entity: string;
  period: string;
  metric: string;
  value: number;
  unit: string;
  quote?: string;
}
interface Citation {
  item: 'rows' | 'posts' | 'results';
  index?: number;
  url?: string;
  quote?: string;
}
interface Finding {
  statement: string;
  citations: Citation[];
}

const MAX_FINDINGS = 50;

/** Findings over the input's rows, posts and results, each citing what it rests on, with words copied from it. */
export function analyse(input: Record<string, unknown>): { summary: string; findings: Finding[] } {
  const rows = arrayOf<AnyRow>(input.rows);
  const posts = arrayOf<{ url: string; source: string; author: string; date: string; text: string }>(input.posts);
  const results = arrayOf<{ url: string; title: string; snippet: string; date?: string }>(input.results);
  const findings: Finding[] = [];
  const series = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const key = `${row.entity}\u0000${row.metric}`;
    series.set(key, [...(series.get(key) ?? []), i]);
  });
  for (const indices of series.values()) {
    const sorted = [...indices].sort((a, b) => rows[a].period.localeCompare(rows[b].period));
    const first = rows[sorted[0]];
    const last = rows[sorted[sorted.length - 1]];
    const metric = first.metric.replace(/_/g, ' ');
    const cite = (i: number): Citation => ({ item: 'rows', index: i, ...(rows[i].quote ? { quote: rows[i].quote } : {}) });
    if (sorted.length === 1) {
      findings.push({ statement: `${first.entity} reported ${metric} of ${figure(first)} in ${first.period}.`, citations: [cite(sorted[0])] });
      continue;
    }
    const change = first.value !== 0 ? ((last.value - first.value) / Math.abs(first.value)) * 100 : undefined;
    const direction = last.value > first.value ? 'rose' : last.value < first.value ? 'fell' : 'held';
    const pct = change === undefined ? '' : ` (${change >= 0 ? '+' : ''}${change.toFixed(1)}%)`;
    findings.push({
      statement: `${first.entity} ${metric} ${direction} from ${figure(first)} in ${first.period} to ${figure(last)} in ${last.period}${pct}.`,
      citations: [cite(sorted[0]), cite(sorted[sorted.length - 1])],
    });
  }
  const withTickerRows = (statement: string, citations: Citation[]): Finding => ({ statement, citations: [...citations, ...tickerRowCitations(rows, statement)] });
  posts.slice(0, 8).forEach((post) => {
    const words = firstWords(post.text);
    findings.push(withTickerRows(`@${post.author || 'someone'} on ${post.source} (${post.date.slice(0, 10)}): "${words}"`, [{ item: 'posts', url: post.url, quote: words }]));
  });
  results.slice(0, 8).forEach((result, i) => {
    const host = /^https?:\/\/([^/]+)/.exec(result.url)?.[1] ?? 'the web';
    findings.push(withTickerRows(`${host}${result.date ? ` (${result.date.slice(0, 10)})` : ''} reports: ${result.title}`, [{ item: 'results', index: i, quote: result.title }]));
  });
  const kept = findings.slice(0, MAX_FINDINGS);
  if (kept.length === 0) return { summary: 'The input holds nothing to analyse.', findings: [] };
  const parts = [rows.length && `${rows.length} figures`, posts.length && `${posts.length} posts`, results.length && `${results.length} web results`].filter(Boolean).join(', ');
  const question = typeof input.question === 'string' ? input.question : 'the question';
  const summary = `${question.slice(0, 300)} — from ${parts}: ${kept[0].statement}`.slice(0, 4000);
  return { summary, findings: kept };
}

/** A statement naming a company cites one of its rows (the checks demand it): a citation of the first row of each ticker it names. */
function tickerRowCitations(rows: readonly AnyRow[], statement: string): { item: 'rows'; index: number }[] {
  const tickers = [...new Set(rows.map((r) => r.entity))];
  const named = tickers.filter((t) => new RegExp(`(?<![A-Za-z0-9])${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`).test(statement));
  return named.map((t) => ({ item: 'rows' as const, index: rows.findIndex((r) => r.entity === t) }));
}

function figure(row: AnyRow): string {
  const grouped = Math.abs(row.value).toLocaleString('en-US', { maximumFractionDigits: 6 });
  return `${row.value < 0 ? '-' : ''}${grouped} ${row.unit.replace(/_/g, ' ')}`;
}

/** The first sentence of a text (at most 200 characters, cut at a word), copied verbatim. */
function firstWords(text: string): string {
  const sentence = splitSentences(text)[0] ?? text;
  if (sentence.length <= 200) return sentence;
  const cut = sentence.slice(0, 200);
  return cut.slice(0, Math.max(1, cut.lastIndexOf(' ')));
}

// ---------------------------------------------------------------- data extraction

interface Evidence {
  path: string;
  documentId: string;
  quote: string;
}

/** A number as written, not part of a code (FY2025, 10-K): `4,250`, `1418702`, `36.9`. */
const WRITTEN_NUMBER = /(?<![A-Za-z0-9.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![A-Za-z0-9]|-[A-Za-z]|\))/;

/** Data of the client's schema read from the documents, every string and number with the sentence it came from as evidence. */
export function extractData(schema: unknown, documents: readonly Document[]): { data: unknown; evidence: Evidence[] } {
  const sentences = documents.flatMap((d) => splitSentences(d.text).map((text) => ({ documentId: d.id, text })));
  const evidence: Evidence[] = [];
  const naming = (key: string, number: boolean) => {
    const words = key
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 2);
    const usable = sentences.filter((s) => !number || WRITTEN_NUMBER.test(s.text));
    return usable.find((s) => words.some((w) => s.text.toLowerCase().includes(w))) ?? usable[0];
  };
  const fill = (node: unknown, key: string, path: string, depth: number): unknown => {
    if (!isObject(node) || depth > 16) return null;
    if ('const' in node || Array.isArray(node.enum)) return conform(node, key, []);
    const type = Array.isArray(node.type) ? node.type.find((t) => t !== 'null') : node.type;
    if (type === 'object') {
      const props = propertiesOf(node);
      const required = Array.isArray(node.required) ? (node.required as string[]) : Object.keys(props);
      return Object.fromEntries(required.filter((k) => k in props).map((k) => [k, fill(props[k], k, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1)]));
    }
    if (type === 'array') {
      const count = Math.max(1, typeof node.minItems === 'number' ? node.minItems : 1);
      return Array.from({ length: count }, (_, i) => fill(node.items, key, `${path}/${i}`, depth + 1));
    }
    if (type === 'string' || type === 'number' || type === 'integer') {
      const sentence = naming(key, type !== 'string');
      if (!sentence) return conform(node, key, []);
      const written = WRITTEN_NUMBER.exec(sentence.text);
      const value = type === 'string' ? sentence.text : Number(`${written?.[1] ?? '0'}${written?.[2] ?? ''}`.replace(/,/g, ''));
      evidence.push({ path, documentId: sentence.documentId, quote: sentence.text });
      return value;
    }
    return conform(node, key, []);
  };
  return { data: fill(schema, '', '', 0), evidence };
}

// ---------------------------------------------------------------- report

interface ReportCitation {
  item: 'rows' | 'posts' | 'results' | 'findings';
  index?: number;
  url?: string;
  quote?: string;
}

/** A report: the given findings restated (each citing itself, quoted), then the analysis of the given items, a paragraph per finding. */
export function report(input: Record<string, unknown>): { title: string; sections: { heading: string; paragraphs: { text: string; citations: ReportCitation[] }[] }[] } {
  const question = typeof input.question === 'string' ? input.question : undefined;
  const title = (typeof input.title === 'string' ? input.title : (question ?? 'Report')).slice(0, 300);
  const given = arrayOf<{ statement: string }>(input.findings).slice(0, MAX_FINDINGS);
  const rows = arrayOf<AnyRow>(input.rows);
  const sections = [];
  if (given.length > 0) {
    sections.push({
      heading: 'Findings',
      paragraphs: given.map((f, i) => ({
        text: f.statement,
        citations: [{ item: 'findings' as const, index: i, quote: f.statement.slice(0, 1000) }, ...tickerRowCitations(rows, f.statement)],
      })),
    });
  }
  const evidence = analyse(input).findings;
  if (evidence.length > 0) sections.push({ heading: 'Evidence', paragraphs: evidence.map((f) => ({ text: f.statement, citations: f.citations })) });
  return { title, sections };
}

// ---------------------------------------------------------------- code

/** A matplotlib script plotting the rows: one panel per line item, one line per company over the periods. */
export function plotScript(input: Record<string, unknown>): { language: 'python'; code: string; dependencies: string[]; entrypoint: string } {
  const rows = arrayOf<AnyRow>(input.rows).map(({ entity, period, metric, value, unit }) => ({ entity, period, metric, value, unit }));
  const task = typeof input.task === 'string' ? input.task : 'Plot the figures.';
  // A JSON string literal is also a Python string literal (same escapes), so the data and the
  // task travel into the script without any quoting of our own.
  const code = `"""Plots the given figures: one panel per line item, one line per company over the periods.

Writes trends.png next to the script.
"""
import json

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

TASK = ${JSON.stringify(task)}
ROWS = json.loads(${JSON.stringify(JSON.stringify(rows))})


def series(rows):
    """{metric: {entity: [(period, value), ...]}}, periods in order."""
    out = {}
    for row in rows:
        out.setdefault(row["metric"], {}).setdefault(row["entity"], []).append((row["period"], row["value"]))
    return {m: {e: sorted(points) for e, points in by_entity.items()} for m, by_entity in out.items()}


def main():
    data = series(ROWS)
    units = {row["metric"]: row["unit"] for row in ROWS}
    fig, axes = plt.subplots(len(data), 1, figsize=(8, 3.5 * len(data)), squeeze=False)
    for ax, (metric, by_entity) in zip(axes[:, 0], sorted(data.items())):
        for entity, points in sorted(by_entity.items()):
            ax.plot([p for p, _ in points], [v for _, v in points], marker="o", label=entity)
        ax.set_title(metric.replace("_", " "))
        ax.set_ylabel(units[metric].replace("_", " "))
        ax.legend()
    fig.suptitle(TASK[:80])
    fig.tight_layout()
    fig.savefig("trends.png", dpi=120)
    print("wrote trends.png")


if __name__ == "__main__":
    main()
`;
  return { language: 'python', code, dependencies: ['matplotlib'], entrypoint: 'plot_trends.py' };
}

// ---------------------------------------------------------------- any JSON Schema

/** A value conforming to a JSON Schema (the subset z.toJSONSchema and clients write), strings taken from the prompt's sentences. */
export function conform(schema: unknown, key: string, sentences: readonly string[]): unknown {
  if (!isObject(schema)) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const options = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(options) && options.length) return conform(options.find((o) => isObject(o) && o.type !== 'null') ?? options[0], key, sentences);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = propertiesOf(schema);
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : Object.keys(props);
      return Object.fromEntries(required.filter((k) => k in props).map((k) => [k, conform(props[k], k, sentences)]));
    }
    case 'array': {
      const count = Math.max(1, typeof schema.minItems === 'number' ? schema.minItems : 1);
      return Array.from({ length: count }, (_, i) => conform(schema.items, key, sentences.slice(i)));
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 0;
      return type === 'integer' ? Math.ceil(min) : min;
    }
    case 'boolean':
      return false;
    case 'string':
      return stringFor(schema, key, sentences);
    default:
      return null;
  }
}

function stringFor(schema: JsonSchema, key: string, sentences: readonly string[]): string {
  const format = schema.format;
  if (format === 'date-time' || /date|time/i.test(key)) return format === 'date' ? '2026-01-01' : '2026-01-01T00:00:00.000Z';
  if (format === 'uri' || format === 'url' || /url|link|href/i.test(key)) return 'https://orchestra.example/source';
  const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : 2000;
  const keyWords = key
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 2);
  const text = sentences.find((s) => keyWords.some((w) => s.toLowerCase().includes(w))) ?? sentences[0] ?? key ?? 'n/a';
  return text.padEnd(min, '.').slice(0, max);
}

// ---------------------------------------------------------------- helpers

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function propertiesOf(schema: unknown): Record<string, unknown> {
  return isObject(schema) && isObject(schema.properties) ? schema.properties : {};
}

function itemsOf(schema: unknown): unknown {
  return isObject(schema) ? schema.items : undefined;
}

function arrayOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}
