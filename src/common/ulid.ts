// Fn's ids: ULIDs (48 bits of milliseconds, then 80 random bits, in Crockford's base32), so ids sort
// by creation time and a client can tell an Fn id at a glance.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A 26-character ULID for `now` (ms since the epoch). */
export function ulid(now = Date.now()): string {
  let time = '';
  let ms = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  // 80 random bits as 16 symbols of 5 bits: read from 10 bytes, 5 bits at a time.
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let random = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      random += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return time + random;
}

export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
