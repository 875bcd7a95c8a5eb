import { parseUntrustedJson } from '@orchestra/contracts';
import type { FinancialsRequest } from '@orchestra/schemas';
import { defineSynapse } from '../synapse';

/**
 * SN13 (macrocosm-os/data-universe, common/protocol.py `OnDemandRequest`). BaseProtocol adds
 * `version`; no `required_hash_fields`, so its body hash is sha3("") and the signature does not
 * cover the body (a data-universe property, kept as is).
 */
export const ON_DEMAND_REQUEST = defineSynapse({
  name: 'OnDemandRequest',
  fields: {
    version: { default: null },
    source: { default: null },
    usernames: { default: [] },
    keywords: { default: [] },
    url: { default: null },
    keyword_mode: { default: 'all' },
    start_date: { default: null },
    end_date: { default: null },
    limit: { default: 100 },
    data: { default: [] },
  },
  requiredHashFields: [],
});

/** data-universe limits: keywords max 5, usernames max 10, limit 1..1000. */
export const ON_DEMAND_MAX_KEYWORDS = 5;
export const ON_DEMAND_MAX_LIMIT = 1000;

/** The fields of an OnDemandRequest Orchestra sends. */
export interface OnDemandQuery {
  source: number | null;
  usernames: string[];
  keywords: string[];
  url: string | null;
  keyword_mode: 'any' | 'all';
  start_date: string | null;
  end_date: string | null;
  limit: number;
}

/** common/data.py `DataEntity` as it travels in JSON (content is bytes in Python, a UTF-8 string on the wire). */
export interface DataEntity {
  uri: string;
  datetime: string;
  source: number;
  label: { value: string } | null;
  content: string;
  content_size_bytes: number;
}

/**
 * Maps a FinancialsRequest onto OnDemandRequest queries. data-universe has no financial-filings
 * source, so this is Orchestra's convention with financial-data miners:
 * - `keywords` = tickers with `keyword_mode: "any"` (a row matches any one ticker); keywords are
 *   capped at 5, so more entities become several queries, whose rows the adapter concatenates;
 * - `usernames` = the metrics (line items), the only other free list (max 10): on social sources
 *   a username selects whose posts to return, here which series;
 * - `start_date`/`end_date` = 1 Jan of the first fiscal year to 31 Dec of the last: every fiscal
 *   year FYyyyy of the data set ends within calendar year yyyy (DataEntity.datetime = fiscal year end);
 * - `source` = None (no DataSource fits); `limit` = entities × periods × metrics, capped at 1000.
 */
export function financialsToOnDemand(req: FinancialsRequest): OnDemandQuery[] {
  const years = req.periods.map((p) => Number(p.slice(2)));
  const batches: string[][] = [];
  for (let i = 0; i < req.entities.length; i += ON_DEMAND_MAX_KEYWORDS) batches.push(req.entities.slice(i, i + ON_DEMAND_MAX_KEYWORDS));
  return batches.map((entities) => ({
    source: null,
    usernames: [...req.metrics],
    keywords: entities,
    url: null,
    keyword_mode: 'any',
    start_date: `${Math.min(...years)}-01-01T00:00:00Z`,
    end_date: `${Math.max(...years)}-12-31T23:59:59Z`,
    limit: Math.min(ON_DEMAND_MAX_LIMIT, entities.length * req.periods.length * req.metrics.length),
  }));
}

/**
 * The raw output for the verifier: `{"rows":[...]}` with each DataEntity's content parsed as JSON
 * (or left as the string when it is not JSON, or nested too deep to walk safely). Nothing is
 * validated here; the verifier does that.
 */
export function dataEntitiesToRaw(data: readonly unknown[]): string {
  const rows = data.map((entity) => {
    const content = (entity as Partial<DataEntity> | null)?.content;
    if (typeof content !== 'string') return content ?? entity;
    try {
      return parseUntrustedJson(content);
    } catch {
      return content;
    }
  });
  return JSON.stringify({ rows });
}
