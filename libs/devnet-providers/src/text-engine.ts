/**
 * The good fake LLM: a small deterministic engine that answers by reading the prompt, never from
 * canned answers. Same messages, same answer. Its rules, in order:
 *
 * 0. A prompt Orchestra built (libs/schemas promptFor: a system message naming the capability and
 *    its output JSON Schema) is read as structured-answers.ts describes: figures extracted from
 *    its documents with quotes, analyses citing the input's items, plotting scripts over rows,
 *    and a conforming value for any other JSON Schema.
 * 1. The prompt splits into a *document* and *instructions*. The document is what sits in fenced
 *    blocks (```), or after a line `Document:` / `Filing:` / `Text:` / `Context:` (to the end of
 *    that message); failing both, the whole last user message. Everything else is instructions.
 * 2. A requested JSON shape is the first JSON value (object or array) in the instructions, or in
 *    a ```json fence. Placeholders are read by type: a number or "number" wants a figure, a string
 *    wants text, true/false or "boolean" wants a yes/no, an array repeats its first element.
 * 3. Figures are the numbers in the document's sentences (commas, decimals, %, currency signs and
 *    codes such as NZ$ or SEK, and million/billion/thousand are recognised; bare years are not).
 *    A figure belongs to a key when each of the key's words (`net_loss`, `netLoss` → net, loss)
 *    occurs in its sentence before it, or is the word right after it ("18,240 tonnes"); the first
 *    such figure in the document is taken, as written (812.5 for "€812.5 million"). A figure's
 *    metric is the run of up to four content words before it ("net profit after tax").
 * 4. Filling the shape, per key: a figure-wanting key takes its figure (or null); a key named like
 *    quote/sentence/evidence/citation/excerpt takes the sentence of the last figure filled (or the
 *    best sentence); unit/currency/scale keys take the last figure's unit; other strings take
 *    the best-matching sentence for the key's words; an array of objects becomes one object per
 *    figure of the document (`metric` = the words before the number, `value`, `unit`, `quote`).
 *    A bare percentage right after a figure is that figure's change ("revenue change").
 * 5. Without a JSON shape: asked to extract figures/numbers/amounts/metrics, it lists each figure
 *    as `- metric: value unit — "sentence"`; otherwise it quotes the two sentences sharing the
 *    most words with the instructions.
 *
 * The answer is exactly as good as the reading: figures absent from the document come back null.
 */

import { answerOrchestraPrompt, readOrchestraPrompt } from './structured-answers';
import { splitSentences } from './sentences';

export { splitSentences } from './sentences';

export interface EngineMessage {
  readonly role: string;
  readonly content: string;
}

interface Figure {
  readonly value: number;
  readonly text: string;
  readonly unit: string;
  readonly metric: string;
  readonly sentence: string;
  /** Index of the number in the sentence. */
  readonly at: number;
  /** The word right after the number ("tonnes" in "18,240 tonnes"), which may name what it counts. */
  readonly next: string;
}

const STOPWORDS = new Set(
  (
    'a an the of to at by from in on for and or with as was were is are be been has had have its it this that than ' +
    'up down rose fell grew increased decreased narrowed widened reached totaled totalled amounted stood came reported ' +
    'reports posted recorded about approximately roughly nearly over under some per compared against while during year fiscal ' +
    'ended ending came'
  ).split(' '),
);

const FIGURE =
  /(?:([A-Z]{1,3}\$|[$€£¥]|\b(?:USD|EUR|GBP|SEK|NOK|DKK|CHF|JPY|AUD|CAD|NZD)\b)\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(%|percent\b|million\b|billion\b|thousand\b|bn\b|mn\b)?/gi;
const MONTHS = /^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*$/;
const QUOTE_KEY = /quote|sentence|evidence|citation|excerpt|source_text/i;
const UNIT_KEY = /^(unit|currency|scale)s?$/i;

/** The engine's answer to a conversation. */
export function answerPrompt(messages: readonly EngineMessage[]): string {
  const orchestra = readOrchestraPrompt(messages);
  if (orchestra) return answerOrchestraPrompt(orchestra);
  const { document, instructions, template } = readPrompt(messages);
  const sentences = splitSentences(document);
  const figures = sentences.flatMap(figuresOf);
  if (template !== undefined) return JSON.stringify(fill(template, '', { sentences, figures, last: undefined }));
  if (/\b(extract|figures?|numbers?|amounts?|metrics?)\b/i.test(instructions)) {
    if (figures.length === 0) return 'The document states no figures.';
    return figures.map((f) => `- ${f.metric || 'figure'}: ${f.value}${f.unit ? ` ${f.unit}` : ''} — "${f.sentence}"`).join('\n');
  }
  const best = rank(sentences, words(instructions)).slice(0, 2);
  return best.length > 0 ? best.map((s) => `"${s}"`).join(' ') : 'The prompt contains no document to answer from.';
}

/** Document, instructions and the requested JSON shape of a conversation (rules 1 and 2). */
export function readPrompt(messages: readonly EngineMessage[]): { document: string; instructions: string; template?: unknown } {
  const docs: string[] = [];
  const rest: string[] = [];
  let template: unknown;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  for (const message of messages) {
    let text = message.content;
    text = text.replace(/```(\w*)\n?([\s\S]*?)```/g, (_all, lang: string, body: string) => {
      if (lang.toLowerCase() === 'json' && template === undefined) {
        const parsed = tolerantJson(body.trim());
        if (parsed !== undefined) {
          template = parsed;
          return ' ';
        }
      }
      docs.push(body);
      return ' ';
    });
    const marker = /^(document|filing|text|context)\s*:\s*$/im.exec(text) ?? /^(document|filing|text|context)\s*:/im.exec(text);
    if (marker) {
      docs.push(text.slice(marker.index + marker[0].length));
      text = text.slice(0, marker.index);
    }
    rest.push(text);
  }
  let instructions = rest.join('\n');
  if (template === undefined) {
    const found = firstJson(instructions);
    if (found) {
      template = found.value;
      instructions = instructions.slice(0, found.start) + ' ' + instructions.slice(found.end);
    }
  }
  if (docs.length === 0 && lastUser) {
    const found = firstJson(lastUser.content);
    docs.push(found ? lastUser.content.slice(0, found.start) + ' ' + lastUser.content.slice(found.end) : lastUser.content);
  }
  return { document: docs.join('\n'), instructions, template };
}

interface FillState {
  readonly sentences: readonly string[];
  readonly figures: readonly Figure[];
  last: Figure | undefined;
}

function fill(template: unknown, key: string, state: FillState): unknown {
  if (Array.isArray(template)) {
    const element = template[0];
    if (element !== null && typeof element === 'object' && !Array.isArray(element)) {
      return state.figures.map((figure) => fillRecord(element as Record<string, unknown>, figure));
    }
    if (wantsNumber(element)) return figuresFor(key, state.figures).map((f) => f.value);
    if (QUOTE_KEY.test(key)) return [...new Set(state.figures.map((f) => f.sentence))];
    return rank(state.sentences, splitKey(key)).slice(0, 3);
  }
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template as Record<string, unknown>)) out[k] = fill(v, k, state);
    return out;
  }
  if (wantsNumber(template)) {
    const figure = figuresFor(key, state.figures)[0];
    if (figure) state.last = figure;
    return figure ? figure.value : null;
  }
  if (wantsBoolean(template)) {
    const keyWords = splitKey(key);
    return keyWords.length > 0 && state.sentences.some((s) => keyWords.every((w) => words(s).some((x) => sameWord(x, w))));
  }
  if (QUOTE_KEY.test(key)) return state.last?.sentence ?? rank(state.sentences, splitKey(key))[0] ?? '';
  if (UNIT_KEY.test(key)) return state.last?.unit ?? '';
  return rank(state.sentences, splitKey(key))[0] ?? '';
}

function fillRecord(element: Record<string, unknown>, figure: Figure): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(element)) {
    if (wantsNumber(v)) out[k] = figure.value;
    else if (QUOTE_KEY.test(k)) out[k] = figure.sentence;
    else if (UNIT_KEY.test(k)) out[k] = figure.unit;
    else if (wantsBoolean(v)) out[k] = true;
    else out[k] = figure.metric;
  }
  return out;
}

function wantsNumber(v: unknown): boolean {
  return typeof v === 'number' || (typeof v === 'string' && /^(number|integer|float|int)$/i.test(v.trim()));
}

function wantsBoolean(v: unknown): boolean {
  return typeof v === 'boolean' || (typeof v === 'string' && /^(boolean|bool)$/i.test(v.trim()));
}

/** Figures whose sentence names every word of the key before them (or right after, as a counted noun), in document order. */
function figuresFor(key: string, figures: readonly Figure[]): Figure[] {
  const keyWords = splitKey(key);
  if (keyWords.length === 0) return [];
  return figures.filter((f) => {
    const before = words(f.sentence.slice(0, f.at));
    return keyWords.every((w) => sameWord(f.next, w) || before.some((x) => sameWord(x, w)));
  });
}

function figuresOf(sentence: string): Figure[] {
  const out: Figure[] = [];
  let previousEnd = 0;
  for (const m of sentence.matchAll(FIGURE)) {
    const [text, currency, int, frac, scale] = m;
    const at = m.index ?? 0;
    // A bare 4-digit number is a year (FY2025, "in 2024"), not a figure.
    if (!currency && !frac && !scale && /^(19|20)\d\d$/.test(int)) continue;
    if (!currency && /[A-Za-z]$/.test(sentence.slice(0, at))) continue; // part of a word or code (Q3, FY25)
    const next = words(sentence.slice(at + text.length))[0] ?? '';
    if (!currency && !scale && MONTHS.test(next)) continue; // the day of a date ("30 June 2026")
    const unit = [currency ?? '', (scale ?? '').toLowerCase().replace(/^percent$/, '%')].filter(Boolean).join(' ');
    // The metric is named between the previous figure and this one; a bare percentage after a
    // figure ("revenue of €812m, up 7%") is that figure's change.
    let metric = metricBefore(sentence.slice(previousEnd, at));
    const previous = out[out.length - 1];
    if (!metric && unit === '%' && previous) metric = `${previous.metric} change`.trim();
    out.push({ value: Number(int.replace(/,/g, '') + (frac ?? '')), text: text.trim(), unit, metric, sentence, at, next });
    previousEnd = at + text.length;
  }
  return out;
}

/** Words that join a metric's name rather than end it ("profit after tax"). */
const CONNECTORS = new Set(['after', 'before']);

/**
 * The run of content words right before a figure, trailing verbs and prepositions dropped, at
 * most four: "Net profit after tax came in at NZ$ 4.06m" → "net profit after tax".
 */
function metricBefore(before: string): string {
  const ws = words(before);
  let i = ws.length - 1;
  while (i >= 0 && (STOPWORDS.has(ws[i]) || CONNECTORS.has(ws[i]) || /^\d/.test(ws[i]))) i--;
  const picked: string[] = [];
  for (; i >= 0 && picked.length < 4; i--) {
    if ((STOPWORDS.has(ws[i]) && !CONNECTORS.has(ws[i])) || /^\d/.test(ws[i])) break;
    picked.unshift(ws[i]);
  }
  while (picked.length > 0 && CONNECTORS.has(picked[0])) picked.shift();
  return picked.join(' ');
}

/** Sentences ranked by how many of `wanted` words they share (ties keep document order); none sharing any are dropped. */
function rank(sentences: readonly string[], wanted: readonly string[]): string[] {
  const want = wanted.filter((w) => !STOPWORDS.has(w));
  return sentences
    .map((s, i) => ({ s, i, score: want.filter((w) => words(s).some((x) => sameWord(x, w))).length }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((x) => x.s);
}

function words(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 0);
}

/** `net_loss`, `netLoss`, `net-loss` → ["net", "loss"]. */
function splitKey(key: string): string[] {
  return words(key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]/g, ' ')).filter((w) => !STOPWORDS.has(w));
}

/** Same word up to a plural or simple suffix (revenue/revenues, margin/margins). */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const stem = (w: string): string => w.replace(/(ies|es|s|ed|ing)$/, '');
  return a.length > 3 && b.length > 3 && stem(a) === stem(b);
}

/** JSON, or a placeholder template such as {"revenue": number, "quote": string}. */
function tolerantJson(text: string): unknown {
  for (const candidate of [text, text.replace(/:\s*(number|string|boolean|integer)\b/g, ': "$1"')]) {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

/** The first balanced `{…}` or `[…]` in a text that reads as JSON (or a placeholder template). */
function firstJson(text: string): { value: unknown; start: number; end: number } | undefined {
  for (let start = 0; start < text.length; start++) {
    const open = text[start];
    if (open !== '{' && open !== '[') continue;
    const end = balancedEnd(text, start);
    if (end < 0) continue;
    const value = tolerantJson(text.slice(start, end));
    if (value !== undefined && typeof value === 'object' && value !== null) return { value, start, end };
  }
  return undefined;
}

function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
