import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AnalysisRequest, AnalysisRequestSchema, AnalysisSchema, Analysis } from './analysis';
import { PythonCode, PythonCodeSchema } from './code';
import { FinancialRow, Financials, FinancialsRequest, FinancialsRequestSchema, FinancialsSchema, rowKey } from './financials';
import { checkPythonSyntax } from './python-syntax';
import { SchemaId } from './registry';
import { describeIssues, standardize, Standardized } from './standardize';
import { UnverifiableError } from './unverifiable';

/**
 * Semantic checks: what a schema cannot say. A schema-valid answer may still answer another
 * question (rows nobody asked for, citations of rows that do not exist, code that does not
 * parse). Each check compares an output with the task's input and returns errors in the
 * `path: message` form of describeIssues, so they can be fed back to the next miner.
 */

/**
 * Checks one output against its task's input. Resolves to `[]` when the output answers the
 * input, else to the errors. Throws UnverifiableError when it cannot judge (checker missing,
 * input invalid): that is never the answer's fault.
 */
export type SemanticCheck = (output: unknown, input: unknown, options?: VerifyOptions) => Promise<string[]>;

/** What verifyOutput may take as already established about the raw answer. */
export interface VerifyOptions {
  /**
   * The Python syntax check already passed on exactly this raw answer (the dispatcher's hedge
   * race ran it; see `answerDigest`), so the parse is not run again. Every other check still is.
   */
  readonly syntaxChecked?: boolean;
}

/** As many errors as describeIssues reports: enough to fix the answer, short enough to re-ask with. */
const MAX_ERRORS = 20;

/** Listing every missing row would drown the re-ask; this many are named, the rest counted. */
const MAX_NAMED_MISSING = 10;

/**
 * A check over typed values: the output is parsed with its schema (a shape error is reported as
 * such), the input with the capability's input schema (an invalid input throws UnverifiableError:
 * the dispatcher validated it before hiring, so it means a planning bug, not a bad answer).
 */
function semanticCheck<O, I>(
  schemaId: SchemaId,
  schemas: { output: z.ZodType<O>; input: z.ZodType<I> },
  check: (output: O, input: I, options: VerifyOptions) => string[] | Promise<string[]>,
): SemanticCheck {
  return async (output, input, options = {}) => {
    const parsedInput = schemas.input.safeParse(input);
    if (!parsedInput.success) {
      throw new UnverifiableError(`cannot check ${schemaId}: the task input is invalid (${describeIssues(parsedInput.error).join('; ')})`, {
        retryable: false,
        cause: parsedInput.error,
      });
    }
    const parsedOutput = schemas.output.safeParse(output);
    if (!parsedOutput.success) return describeIssues(parsedOutput.error);
    return (await check(parsedOutput.data, parsedInput.data, options)).slice(0, MAX_ERRORS);
  };
}

/** data.financials@1: every requested (entity, period, metric) exactly once, and nothing else. Tickers compare case-insensitively. */
function checkFinancials(output: Financials, input: FinancialsRequest): string[] {
  const keyOf = (row: Pick<FinancialRow, 'entity' | 'period' | 'metric'>) => rowKey({ ...row, entity: row.entity.toUpperCase() });
  const requested = new Set(input.entities.flatMap((entity) => input.periods.flatMap((period) => input.metrics.map((metric) => keyOf({ entity, period, metric })))));
  const rowErrors: string[] = [];
  const seen = new Map<string, number>();
  output.rows.forEach((row, i) => {
    const key = keyOf(row);
    const first = seen.get(key);
    if (first !== undefined) rowErrors.push(`rows.${i}: duplicates rows.${first} (${key})`);
    else if (!requested.has(key)) rowErrors.push(`rows.${i}: ${key} was not requested`);
    else seen.set(key, i);
  });
  const missing = [...requested].filter((key) => !seen.has(key));
  if (!missing.length) return rowErrors;
  const more = missing.length > MAX_NAMED_MISSING ? ` and ${missing.length - MAX_NAMED_MISSING} more` : '';
  return [`rows: missing ${missing.length} requested row(s): ${missing.slice(0, MAX_NAMED_MISSING).join(', ')}${more}`, ...rowErrors];
}

/**
 * text.analysis@1: every citation is the index of an input row, and a finding whose statement
 * names a ticker of the input rows (as a whole word, case-sensitive: tickers are upper case)
 * cites at least one row of that company.
 */
function checkAnalysis(output: Analysis, input: AnalysisRequest): string[] {
  const last = input.rows.length - 1;
  const tickers = [...new Set(input.rows.map((row) => row.entity))].map((ticker) => ({
    ticker,
    named: new RegExp(`(?<![A-Za-z0-9])${ticker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`),
  }));
  const errors: string[] = [];
  output.findings.forEach((finding, i) => {
    finding.citations.forEach((row, j) => {
      if (row > last) errors.push(`findings.${i}.citations.${j}: row ${row} does not exist; the input has rows 0..${last}`);
    });
    const cited = new Set(finding.citations.filter((row) => row <= last).map((row) => input.rows[row].entity));
    for (const { ticker, named } of tickers) {
      if (named.test(finding.statement) && !cited.has(ticker)) errors.push(`findings.${i}: the statement names ${ticker} but cites no ${ticker} row`);
    }
  });
  return errors;
}

/** code.python@1: the entrypoint is a .py file and the code parses as Python (never run). The input is not consulted. */
async function checkPythonCode(output: PythonCode, _input: unknown, options: VerifyOptions): Promise<string[]> {
  const errors = output.entrypoint.endsWith('.py') ? [] : [`entrypoint: must name a .py file, got ${JSON.stringify(output.entrypoint)}`];
  return options.syntaxChecked ? errors : [...errors, ...(await checkPythonSyntax(output.code))];
}

/** The semantic check of each output schema that has one (schemas absent here have none). */
export const SEMANTIC_CHECKS: Readonly<Partial<Record<SchemaId, SemanticCheck>>> = {
  'data.financials@1': semanticCheck('data.financials@1', { output: FinancialsSchema, input: FinancialsRequestSchema }, checkFinancials),
  'text.analysis@1': semanticCheck('text.analysis@1', { output: AnalysisSchema, input: AnalysisRequestSchema }, checkAnalysis),
  'code.python@1': semanticCheck('code.python@1', { output: PythonCodeSchema, input: z.unknown() }, checkPythonCode),
};

/**
 * standardize() then the schema's semantic check against the task's input: the whole verdict of
 * the JSON Standardization Layer in one call. A schema-valid answer that fails its check is
 * `{ ok: false, kind: 'semantic', errors }`. Throws UnverifiableError when a check cannot run.
 */
export async function verifyOutput<T = unknown>(schemaId: string, raw: string, input: unknown, options: VerifyOptions = {}): Promise<Standardized<T>> {
  const shaped = standardize<T>(schemaId, raw);
  const check = SEMANTIC_CHECKS[schemaId as SchemaId];
  if (!shaped.ok || !check) return shaped;
  const errors = await check(shaped.value, input, options);
  return errors.length ? { ok: false, kind: 'semantic', errors } : shaped;
}

/**
 * The digest a check verdict is tied to: SHA-256 (hex) of the raw answer's UTF-8. A verdict
 * carried from one service to another is reused only for the very text it was reached on, so
 * an answer changed on the way (cut to a size budget, say) is judged afresh.
 */
export function answerDigest(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}
