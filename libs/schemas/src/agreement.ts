import { UntrustedJsonError, valueDepthExceeds } from '@orchestra/contracts';
import { citationOf, type CitedAnalysis } from './analysis';
import { rowKey } from './financials';

/**
 * How a quorum step decides that two miners' answers agree: each checker maps an
 * accepted output to a fingerprint, and answers agree when their fingerprints are equal.
 * Fingerprints ignore what honest miners may legitimately differ on (row order, the
 * wording of a source or a finding), and keep what they must not (figures, citations).
 */
export const AGREEMENT_CHECKERS = {
  /** data.financials (either version): the same figures for the same (entity, period, metric), in any order; quotes and sources may differ. */
  'same-rows': (output: unknown) =>
    JSON.stringify(
      (output as { rows: { entity: string; period: string; metric: string; value: number; unit: string }[] }).rows.map((r) => `${rowKey(r)}=${r.value} ${r.unit}`).sort(),
    ),
  /** text.analysis (either version): findings resting on the same sets of items, whatever their wording and quotes. */
  'same-citations': (output: unknown) =>
    JSON.stringify((output as CitedAnalysis).findings.map((f) => [...new Set(f.citations.map((c) => citationKey(citationOf(c))))].sort().join(',')).sort()),
  /** Any capability: the same JSON, key order aside. */
  'same-json': (output: unknown) => canonicalJson(output),
} as const satisfies Record<string, (output: unknown) => string>;

export type AgreementChecker = keyof typeof AGREEMENT_CHECKERS;
export const AGREEMENT_CHECKER_NAMES = Object.keys(AGREEMENT_CHECKERS) as [AgreementChecker, ...AgreementChecker[]];

/** Which checkers make sense for which capability (`same-json` fits all). */
export const AGREEMENT_CHECKERS_BY_CAPABILITY: Readonly<Record<string, readonly AgreementChecker[]>> = {
  'data.financials': ['same-rows', 'same-json'],
  'text.analysis': ['same-citations', 'same-json'],
  'code.python': ['same-json'],
  'web.search': ['same-json'],
  'data.social': ['same-json'],
};

/** One item of an analysis' input as a citation names it: `rows/3`, `posts/https://…`. */
function citationKey(c: { item: string; index?: number; url?: string }): string {
  return `${c.item}/${c.index ?? c.url}`;
}

/** The fingerprint of an accepted output under a checker. */
export function agreementFingerprint(checker: AgreementChecker, output: unknown): string {
  return AGREEMENT_CHECKERS[checker](output);
}

/**
 * Deepest value canonicalJson walks: far above any JSON depth Orchestra accepts
 * (ORCH_JSON_MAX_DEPTH) and far below where V8's recursive JSON.stringify overflows its stack.
 */
export const CANONICAL_JSON_MAX_DEPTH = 1_000;

/**
 * JSON with object keys sorted at every level, so key order never makes two values differ.
 * Throws UntrustedJsonError (`too_deep`), not a RangeError, for a value nested deeper than
 * CANONICAL_JSON_MAX_DEPTH (checked iteratively first), so callers can blame its sender.
 */
export function canonicalJson(value: unknown): string {
  if (valueDepthExceeds(value, CANONICAL_JSON_MAX_DEPTH)) throw new UntrustedJsonError(`JSON nested deeper than ${CANONICAL_JSON_MAX_DEPTH} levels`, 'too_deep');
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
