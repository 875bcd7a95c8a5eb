/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns the wait in ms,
 * clamped to [0, maxMs], or undefined when the header is absent or unreadable (a stranger's
 * header is never trusted to set an unbounded wait).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number, maxMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    // An HTTP-date names its day and month ("Tue, 01 Dec 2026 00:00:05 GMT"); Date.parse would also take "-1" or "1.5" as years.
    if (!/[A-Za-z]/.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), maxMs);
}
