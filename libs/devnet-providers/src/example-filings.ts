import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The example's client inputs: the filings shipped in `fixtures/filings` (provenance in its
 * README) as `documents`, which figures to extract from them, and what social posts and news to
 * analyse beside them. `npm start` submits these with the example goal; tests use them as the
 * client would.
 */

export interface ExampleDocument {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** The repository's `fixtures/filings`, found upwards from here (source or built: both sit under the repository). */
export function exampleFilingsDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'fixtures', 'filings');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no fixtures/filings above ${from}: run from a checkout of the repository`);
  }
}

/** Every `.txt` in a folder as a document: its file name (without .txt) is its id, its first line its title. */
export function loadDocuments(dir: string = exampleFilingsDir()): ExampleDocument[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      return { id: f.slice(0, -'.txt'.length), title: text.split('\n', 1)[0].trim().slice(0, 300), text };
    });
}

/** The inputs of the example request (`POST /v1/jobs` with the example goal). */
export function exampleInputs(dir?: string): Record<string, unknown> {
  return {
    documents: loadDocuments(dir),
    entities: ['AAPL', 'MSFT'],
    periods: ['FY2021', 'FY2022', 'FY2023'],
    metrics: ['revenue', 'operating_income', 'net_income'],
    social: { keywords: ['Apple', 'Microsoft'], keywordMode: 'any', limit: 10 },
    news: { query: 'Apple Microsoft annual results revenue net income', count: 10 },
  };
}
