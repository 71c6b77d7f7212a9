// The memory fnlb may hold for request bodies kept for a retry: each body up to a per-request limit,
// all of them together up to a total. A body that does not fit (too large, or the total is spent)
// streams straight to its first node and gets that one attempt only; so a crowd of slow uploads can
// slow calls down but never grow the balancer's memory past the budget.

export class ReplayBudget {
  #used = 0;

  constructor(
    /** Largest body kept for replay. */
    readonly perRequest: number,
    /** All kept bodies together. */
    readonly total: number,
  ) {}

  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` from the budget; false (nothing taken) when they do not fit. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.total) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
