import { z } from 'zod';

/** An ISO 8601 date (`2025-01-31`) or UTC date-time (`2025-01-31T12:00:00Z`), as queries take them. */
export const IsoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?$/, 'an ISO date (YYYY-MM-DD) or UTC date-time (YYYY-MM-DDTHH:MM:SSZ)')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'a real date');

/** `YYYY-MM-DD` of an ISO date or date-time. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** `YYYY-MM-DDTHH:MM:SSZ` of an ISO date (start of day, or end of day for `end`) or date-time. */
export function instantOf(iso: string, end = false): string {
  if (iso.length === 10) return `${iso}T${end ? '23:59:59' : '00:00:00'}Z`;
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Why a date falls outside a query's window (`since` from the start of its day, `until` to the
 * end of its day, as providers read them), or undefined when it is inside or there is no window.
 */
export function outsideWindow(date: string, window: { since?: string; until?: string }): string | undefined {
  const at = Date.parse(date.length === 10 ? instantOf(date) : date);
  if (Number.isNaN(at)) return `date ${JSON.stringify(date.slice(0, 40))} is not a date`;
  if (window.since && at < Date.parse(instantOf(window.since))) return `dated ${date}, before since ${window.since}`;
  // A bare date is the whole day: it is inside when that day starts before `until` ends.
  if (window.until && at > Date.parse(instantOf(window.until, true))) return `dated ${date}, after until ${window.until}`;
  return undefined;
}
