/** Sentences of a text: split after . ! ? (not inside numbers like 4.2) and at line breaks. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"“(])|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
