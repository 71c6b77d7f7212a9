// Settings shared by the property-based fuzz files (tests/unit/formats-fuzz, tests/reliability/fuzz-*):
// one fixed seed by default, so a run is repeatable and a failure can be replayed, printed at the start;
// FNG_FUZZ_SEED overrides it (any integer) and FNG_FUZZ_RUNS scales every count (a factor, 1 by default).

/** The seed used when FNG_FUZZ_SEED is unset: fixed, so CI runs the same cases every time. */
export const DEFAULT_FUZZ_SEED = 20_240_611;

export interface FuzzSettings {
  seed: number;
  /** Multiplier for every run count (FNG_FUZZ_RUNS), so a soak can run 10x the cases. */
  scale: number;
}

function numberFrom(name: string, fallback: number, valid: (value: number) => boolean): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!valid(value))
    throw new Error(`${name}=${text}: want ${name === 'FNG_FUZZ_SEED' ? 'an integer' : 'a positive number'}`);
  return value;
}

export function fuzzSettings(): FuzzSettings {
  return {
    seed: numberFrom('FNG_FUZZ_SEED', DEFAULT_FUZZ_SEED, Number.isSafeInteger),
    scale: numberFrom('FNG_FUZZ_RUNS', 1, (value) => Number.isFinite(value) && value > 0),
  };
}

/** `count` scaled by FNG_FUZZ_RUNS, at least 1. */
export function scaled(settings: FuzzSettings, count: number): number {
  return Math.max(1, Math.round(count * settings.scale));
}

/** The line each fuzz file prints first, so a failure's output says how to replay it. */
export function describeSeed(what: string, settings: FuzzSettings): string {
  return `[fuzz] ${what}: seed ${settings.seed} (FNG_FUZZ_SEED), scale ${settings.scale} (FNG_FUZZ_RUNS)`;
}
