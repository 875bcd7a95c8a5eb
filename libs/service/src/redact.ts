/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets: passwords (NATS), API and gateway keys, tokens,
 * mnemonics and seeds (hotkeys), credentials files, authorization headers. Matched on the
 * last word of the name, camelCase or snake_case (`natsPassword`, `ORCH_CHUTES_API_KEY`,
 * `apiKey`), so `hotkey` (an SS58 address) or `tokens` (a count) stay readable.
 */
const SECRET_WORD =
  /(^|_)(pass|passwd|password|secret|api_?key|apikey|gateway_?key|access_?key|private_?key|token|authorization|cookie|creds|credentials|mnemonic|seed|hotkey_?uri|phrase)$/i;
/** Whole names that hold a secret although their last word does not say so. */
const SECRET_NAMES = new Set(['orch_hotkey', 'x-api-key']);

/** True when a field called `key` holds a secret and must not be logged. */
export function isSecretKey(key: string): boolean {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_');
  return SECRET_WORD.test(words) || SECRET_NAMES.has(key.toLowerCase());
}

/** `scheme://user:password@host` → `scheme://user:[redacted]@host`. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s/]+@/gi;
/** `Bearer abc…`, `Basic abc…` as in an echoed Authorization header. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** Removes secrets that travel inside text: passwords in URLs, bearer and basic credentials. */
export function redactText(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(AUTH_SCHEME, `$1 ${REDACTED}`);
}
