// An exponentially weighted moving average that also fades with time. A node that reported a long
// queue gets avoided, so it may receive no new samples; without the fade its last bad report would
// keep it avoided forever.
export class DecayingEwma {
  #value = 0;
  #at = 0;

  constructor(
    private readonly alpha: number,
    private readonly halfLifeMs: number,
  ) {}

  value(now: number): number {
    if (this.#value === 0) return 0;
    return this.#value * 0.5 ** (Math.max(0, now - this.#at) / this.halfLifeMs);
  }

  add(sample: number, now: number): void {
    const current = this.value(now);
    this.#value = this.#at === 0 ? sample : current + this.alpha * (sample - current);
    this.#at = now;
  }
}
