// Repeatable pseudo-random bytes for localhost/fnlb-guard/hostile's `garbage` mode, in their own module so a test
// can compute the very bytes a function wrote for a seed and know what the node must make of them.

/** xorshift32: the same bytes for the same seed, no dependency; the seed 0 would stay 0, so it is moved. */
export function pseudoRandomBytes(seed: number, count: number): Buffer {
  let state = seed >>> 0 || 0x9e3779b9;
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}
