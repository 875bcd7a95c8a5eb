import { randomBytes } from 'node:crypto';

/** Crockford base32: no I, L, O or U, so ids survive being read aloud or retyped. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new job id: `job_` + 26 base32 characters, ULID-style — 10 encode the millisecond
 * timestamp (so ids sort by submission time in KV listings and logs) and 16 encode
 * 80 random bits (so replicas need no coordination to avoid collisions).
 */
export function newJobId(now: number = Date.now()): string {
  let time = '';
  let ms = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  const random = randomBytes(16);
  let rest = '';
  // Each byte contributes 5 of its bits: 16 × 5 = 80 random bits.
  for (const byte of random) rest += ALPHABET[byte & 31];
  return `job_${time}${rest}`;
}
