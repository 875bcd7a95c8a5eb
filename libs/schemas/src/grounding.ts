import { truncateText } from '@orchestra/contracts';

/**
 * Grounding: a claim is accepted only when it can be found in what the client supplied. A quote
 * must be in its source verbatim (whitespace aside: documents are re-flowed by every tool that
 * touches them, words are not), and a figure must be in its quote as filings write numbers.
 */

/** Whitespace runs (newlines, tabs, no-break spaces) as one space, trimmed. */
export function normalizeWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Whether `quote` appears in `source`, whitespace-normalised; an empty quote is never grounded. */
export function quoteIsIn(quote: string, normalizedSource: string): boolean {
  const q = normalizeWhitespace(quote);
  return q.length > 0 && normalizedSource.includes(q);
}

/** How a quote is shown in a rejection: short enough for a re-ask, long enough to find. */
export function excerpt(text: string, chars = 80): string {
  return JSON.stringify(truncateText(normalizeWhitespace(text), chars));
}

/** Scale words filings write after an amount. */
const SCALE_WORDS: Readonly<Record<string, number>> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };

/** One number as written in a text. */
export interface WrittenNumber {
  /** The characters it was read from, e.g. `$1.2 billion`, `(2,722)`, `45.2%`. */
  readonly text: string;
  /** Signed value as written, before any scale word: -2722 for `(2,722)`, 1.2 for `$1.2 billion`. */
  readonly value: number;
  /** The scale word's factor (1 when none). */
  readonly scale: number;
  readonly percent: boolean;
}

/**
 * Numbers as filings write them: thousands separators (`383,285`), decimals, a currency sign
 * (`$`, `€`, `£`, `¥`, `US$`), negatives in parentheses (`(2,722)`) or with a minus sign, a
 * percent sign, and a scale word (`$1.2 billion`, `$383,285 million`). Linear: one regex pass.
 */
export function numbersIn(text: string): WrittenNumber[] {
  const found: WrittenNumber[] = [];
  const pattern = /(\(\s?)?([-−–]\s?)?(?:[A-Z]{1,2}\$\s?|[$€£¥]\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\))?\s?(%|percent\b|thousand\b|million\b|billion\b|trillion\b)?/gi;
  for (const m of text.matchAll(pattern)) {
    const [all, open, minus, int, frac, close, suffix] = m;
    const before = text.slice(0, m.index ?? 0);
    if (!open && /[A-Za-z0-9]$/.test(before)) continue; // part of a word or code (FY2023, Q3)
    // A code (10-K, 3D), judged right after the digits: the match may have taken the space before a word (`4,250 people`).
    if (!suffix && /^(?:[A-Za-z]|-[A-Za-z])/.test(text.slice((m.index ?? 0) + all.trimEnd().length))) continue;
    const magnitude = Number(int.replace(/,/g, '') + (frac ?? ''));
    const negative = Boolean(open && close) || Boolean(minus);
    const word = suffix?.toLowerCase();
    found.push({
      text: all.trim(),
      value: negative ? -magnitude : magnitude,
      scale: word && word in SCALE_WORDS ? SCALE_WORDS[word] : 1,
      percent: word === '%' || word === 'percent',
    });
  }
  return found;
}

/** The factor of a row unit's scale suffix: `USD_millions` → 1e6; `USD`, `percent`, `USD_per_share` → 1. */
export function unitScale(unit: string): number {
  const suffix = /_(thousands|millions|billions)$/.exec(unit)?.[1];
  return suffix ? SCALE_WORDS[suffix.replace(/s$/, '')] : 1;
}

/** Same amount, up to floating-point noise (1.2 × 1e9 against 1200 × 1e6). */
function sameAmount(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Whether a text states `value` (in `unit`) as filings write it: the same digits in the unit's
 * scale (`383,285` for 383285 USD_millions, `(2,722)` for -2722), or the same amount with a
 * scale word (`$383.285 billion`, `$383,285 million`). A percentage matches only a percent unit.
 * Rounding is not a match: `$383.3 billion` does not state 383,285 million.
 */
export function statesValue(text: string, value: number, unit: string): boolean {
  const percentUnit = unit === 'percent';
  const scale = unitScale(unit);
  return numbersIn(text).some((n) => {
    if (n.percent !== percentUnit && n.percent) return false;
    if (n.scale === 1) return sameAmount(n.value, value) || sameAmount(n.value, value * scale);
    return sameAmount(n.value * n.scale, value * scale);
  });
}

/** How a filing's table writes a value: `383,285`, `(2,722)`, `6.13`. */
export function asFiled(value: number): string {
  const [int, frac] = Math.abs(value).toString().split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? `.${frac}` : '');
  return value < 0 ? `(${grouped})` : grouped;
}
