import { z } from 'zod';
import { semanticCheck } from './check';
import { compileClientSchema, conformsToClientSchema } from './client-schema';
import { FinancialDocumentSchema } from './financials';
import { excerpt, normalizeWhitespace, numbersIn, quoteIsIn } from './grounding';

/**
 * data.extract@1: any structured data a client describes with its own JSON Schema, read from the
 * documents it supplied. Every leaf string and number of the data must be backed by evidence: a
 * quote, verbatim in a named document, that contains it (the same grounding as data.financials@2).
 */

/** Input of a `data.extract@1` step: documents, the client's JSON Schema of the data (bounded by compileClientSchema), and how to read them. */
export const ExtractInputSchema = z
  .object({
    documents: z.array(FinancialDocumentSchema).min(1).max(20),
    schema: z
      .record(z.string(), z.unknown())
      .superRefine((schema, ctx) => {
        const compiled = compileClientSchema(schema);
        if (!compiled.ok) for (const error of compiled.errors) ctx.addIssue({ code: 'custom', message: `the extraction schema is unusable: ${error}` });
      })
      .describe('A JSON Schema (draft 2020-12) the extracted data must conform to'),
    instructions: z.string().min(1).max(4000).optional(),
  })
  .strict();
export type ExtractInput = z.infer<typeof ExtractInputSchema>;

export const EvidenceSchema = z
  .object({
    path: z.string().max(1_000).describe('JSON pointer to a value in data, e.g. /company/name or /items/0/price'),
    documentId: z.string().min(1).max(100).describe('The id of the document quoted'),
    quote: z.string().min(1).max(2_000).describe('Words copied verbatim from that document, containing the value'),
  })
  .strict();

/** Output of a `data.extract@1` step. */
export const ExtractionSchema = z
  .object({
    data: z.unknown().describe("The extracted data, conforming to the input's schema"),
    evidence: z.array(EvidenceSchema).max(1_000),
  })
  .strict();
export type Extraction = z.infer<typeof ExtractionSchema>;

/** The string and number leaves of a value, by JSON pointer (RFC 6901). Iterative: the value's depth was bounded when it was parsed. */
export function leavesOf(value: unknown): Map<string, string | number> {
  const leaves = new Map<string, string | number>();
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [node, at] = stack.pop() as [unknown, string];
    if (typeof node === 'string' || typeof node === 'number') leaves.set(at, node);
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) stack.push([child, `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`]);
    }
  }
  return leaves;
}

/** Whether a quote contains a leaf: a string verbatim (whitespace aside), a number as written (`1,418,702`, `(2,722)`, `45.2%`). */
function quoteContains(normalizedQuote: string, leaf: string | number): boolean {
  if (typeof leaf === 'string') return quoteIsIn(leaf, normalizedQuote);
  return numbersIn(normalizedQuote).some((n) => n.value === leaf);
}

/**
 * data.extract@1: the data conforms to the client's schema; every evidence entry names a
 * supplied document, quotes it verbatim and points at a value of the data; every leaf string
 * and number is contained in the quote of an evidence entry pointing at it.
 */
export const checkExtraction = semanticCheck('data.extract@1', { output: ExtractionSchema, input: ExtractInputSchema }, (output: Extraction, input: ExtractInput) => {
  const errors: string[] = [];
  const conforms = conformsToClientSchema(input.schema, output.data);
  if (!conforms.ok) errors.push(...conforms.errors.map((e) => `data${e.startsWith('(root)') ? e.slice('(root)'.length) : e}`));
  const documents = new Map(input.documents.map((d) => [d.id, d] as const));
  const normalized = new Map<string, string>();
  const leaves = leavesOf(output.data);
  const backing = new Map<string, string[]>();
  output.evidence.forEach((e, i) => {
    const document = documents.get(e.documentId);
    if (!document) {
      errors.push(`evidence.${i}: no document ${excerpt(e.documentId, 100)}; the documents are ${[...documents.keys()].join(', ')}`);
      return;
    }
    let text = normalized.get(e.documentId);
    if (text === undefined) normalized.set(e.documentId, (text = normalizeWhitespace(document.text)));
    if (!quoteIsIn(e.quote, text)) {
      errors.push(`evidence.${i}: quote ${excerpt(e.quote)} is not in document ${e.documentId}; quote its words verbatim`);
      return;
    }
    if (!leaves.has(e.path)) {
      errors.push(`evidence.${i}: path ${excerpt(e.path, 120)} is no string or number in data; give a JSON pointer such as /name or /items/0/price`);
      return;
    }
    backing.set(e.path, [...(backing.get(e.path) ?? []), normalizeWhitespace(e.quote)]);
  });
  for (const [path, leaf] of leaves) {
    const quotes = backing.get(path);
    if (!quotes) errors.push(`data${path}: ${excerpt(String(leaf), 60)} has no evidence; add { path: "${path}", documentId, quote } quoting where it is written`);
    else if (!quotes.some((q) => quoteContains(q, leaf)))
      errors.push(`data${path}: ${excerpt(String(leaf), 60)} is not in its evidence quote; copy the value as the document writes it`);
  }
  return errors;
});
