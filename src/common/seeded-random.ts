// A seeded pseudo-random sequence for the harness's call plan and the soak's load: the same seed makes
// the same choices, so a run can be repeated; nothing here needs to be unpredictable.

/** mulberry32: numbers in [0, 1), aperiodic enough for plans and schedules. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
