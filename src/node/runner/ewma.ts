/** Smallest sample kept, so an estimate is never zero (a zero would switch the policy off). */
export const MIN_SAMPLE_MS = 0.1;

/** Exponentially weighted moving average seeded from its first sample. */
export class Ewma {
  private current: number | undefined;

  constructor(private readonly alpha = 0.3) {}

  add(sampleMs: number): void {
    const sample = Math.max(MIN_SAMPLE_MS, sampleMs);
    this.current =
      this.current === undefined ? sample : this.alpha * sample + (1 - this.alpha) * this.current;
  }

  /** Undefined until the first sample. */
  get value(): number | undefined {
    return this.current;
  }
}
