import { Reputation } from '@orchestra/contracts';
import type { Price } from '@orchestra/providers';
import { decayedQuality } from '@orchestra/bittensor';
import type { SourceCandidate } from './source-call';

/**
 * Ranking of gateway sources and the merge of every provider's candidates into one list.
 * A gateway's sources are blended like miners (ranking.ts): price takes the place of the
 * chain's incentive, so score = ((1 − w)·priceFactor + w·quality) / (1 + ½·load).
 */

/** Cost at which the price factor is one half, USD per call. */
const REFERENCE_USD = 0.01;
/** Tokens of the reference call a per-token price is turned into USD with: a typical prompt and answer. */
const REFERENCE_PROMPT_TOKENS = 2_000;
const REFERENCE_COMPLETION_TOKENS = 1_000;
/** Price factor of a source whose price nobody knows: neither cheap nor dear. */
const UNKNOWN_PRICE_FACTOR = 0.5;
const LOAD_PENALTY = 0.5;

/** What a source is expected to cost per call, USD; undefined when unknown. */
export function expectedUsd(price: Price | undefined): number | undefined {
  if (!price) return undefined;
  if (price.kind === 'per_call') return price.usd;
  return (REFERENCE_PROMPT_TOKENS * price.promptUsdPerMTok + REFERENCE_COMPLETION_TOKENS * price.completionUsdPerMTok) / 1_000_000;
}

/** 0..1, 1 for free: REFERENCE_USD / (REFERENCE_USD + usd). */
export function priceFactor(usd: number | undefined): number {
  return usd === undefined ? UNKNOWN_PRICE_FACTOR : REFERENCE_USD / (REFERENCE_USD + usd);
}

/** A gateway source's score and the terms behind it. */
export function scoreSource(opts: { price: Price | undefined; reputation: Reputation | undefined; weight: number; halfLifeMs: number; now: Date; load: number }): {
  score: number;
  quality: number;
  priceFactor: number;
  usd: number | undefined;
} {
  const usd = expectedUsd(opts.price);
  const pf = priceFactor(usd);
  const quality = opts.reputation ? decayedQuality(opts.reputation, opts.now, opts.halfLifeMs) : 1;
  const w = opts.weight;
  return { score: ((1 - w) * pf + w * quality) / (1 + LOAD_PENALTY * opts.load), quality, priceFactor: pf, usd };
}

/**
 * One list from every provider's ranked candidates: providers in their configured order (the
 * capability's preference), each provider's sources by score; the re-asked source first if it
 * is among them; then `rankOffset` skipped (parallel quorum attempts each take their own).
 */
export function mergeCandidates(perProvider: ReadonlyArray<readonly SourceCandidate[]>, opts: { prefer?: string; rankOffset: number }): SourceCandidate[] {
  const all = perProvider.flatMap((list) => [...list].sort((a, b) => b.score - a.score || a.key.localeCompare(b.key)));
  const preferred = all.findIndex((c) => c.key === opts.prefer);
  if (preferred > 0) all.unshift(...all.splice(preferred, 1));
  return all.slice(opts.rankOffset);
}
