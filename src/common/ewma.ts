// Exponentially weighted moving averages seeded from their first sample (never from zero): the
// runner's run and start time estimates (R and S of the launch policy) and the balancer's view of
// each node's reported queueing and measured latency, which also fades with time.

/** One step of the average: the first sample seeds it, later ones move it by `alpha` of the difference. */
function step(previous: number | undefined, sample: number, alpha: number): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}

export class Ewma {
  #value: number | undefined;

  constructor(private readonly alpha: number) {}

  add(sample: number): void {
    this.#value = step(this.#value, sample, this.alpha);
  }

  /** Undefined until the first sample. */
  get value(): number | undefined {
    return this.#value;
  }
}

/**
 * An average that also halves every `halfLifeMs` without samples. A node that reported a long queue
 * gets avoided, so it may receive no new samples; without the fade its last bad report would keep it
 * avoided forever.
 */
export class DecayingEwma {
  #value: number | undefined;
  #at = 0;

  constructor(
    private readonly alpha: number,
    private readonly halfLifeMs: number,
  ) {}

  /** 0 until the first sample. */
  value(now: number): number {
    if (this.#value === undefined) return 0;
    return this.#value * 0.5 ** (Math.max(0, now - this.#at) / this.halfLifeMs);
  }

  add(sample: number, now: number): void {
    this.#value = step(this.#value === undefined ? undefined : this.value(now), sample, this.alpha);
    this.#at = now;
  }
}
