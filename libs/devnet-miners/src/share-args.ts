/**
 * The devnet's `--faulty [share]` and `--hostile [share]` switches, shared by the devnet
 * process and the launcher that starts it.
 */

/** The share a bare `--faulty` or `--hostile` means: 30% of each subnet's miners. */
export const DEFAULT_SHARE = 0.3;

/** The share switches. */
export const SHARE_FLAGS = ['--faulty', '--hostile'] as const;

/**
 * `argv` with DEFAULT_SHARE after each share switch given without a value (last, or
 * followed by another option), so `parseArgs` can read every switch as a string.
 */
export function withShareDefaults(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    out.push(arg);
    const next = argv[i + 1];
    if ((SHARE_FLAGS as readonly string[]).includes(arg) && (next === undefined || next.startsWith('--'))) out.push(String(DEFAULT_SHARE));
  });
  return out;
}

/** A share of miners between 0 and 1; throws naming the switch (or variable) and the bad value. */
export function parseShare(name: string, raw: string): number {
  const share = raw.trim() === '' ? NaN : Number(raw);
  if (!(share >= 0 && share <= 1)) throw new RangeError(`${name} takes a share of miners between 0 and 1 (e.g. 0.3), got "${raw}"`);
  return share;
}
