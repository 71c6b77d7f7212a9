// A circuit around the database: after it failed to answer, calls fail at once (DatastoreUnavailable)
// instead of each waiting out its own connect timeout, and one call at a time probes it again, with
// the wait between probes doubling from `minMs` to `maxMs`. A call that succeeds closes the circuit.
// So a node whose database is away answers API writes 503 at once and serves cached routes without
// paying seconds per call.
import { DatastoreUnavailableError } from './datastore.js';

export class Circuit {
  #openUntil = 0;
  #delayMs = 0;
  #probing = false;
  #lastError = '';

  constructor(
    private readonly minMs = 500,
    private readonly maxMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `attempt` unless the circuit is open; `unavailable` tells a database failure from others. */
  async run<T>(attempt: () => Promise<T>, unavailable: (error: unknown) => boolean): Promise<T> {
    const probe = this.#delayMs > 0;
    if (probe && (this.now() < this.#openUntil || this.#probing)) {
      const waitMs = Math.max(0, Math.round(this.#openUntil - this.now()));
      throw new DatastoreUnavailableError(
        `the database did not answer (${this.#lastError}); next try in ${waitMs} ms`,
      );
    }
    if (probe) this.#probing = true;
    try {
      const result = await attempt();
      this.#delayMs = 0;
      return result;
    } catch (error) {
      if (unavailable(error)) {
        this.#delayMs = Math.min(this.maxMs, this.#delayMs === 0 ? this.minMs : this.#delayMs * 2);
        this.#openUntil = this.now() + this.#delayMs;
        this.#lastError = error instanceof Error ? error.message.slice(0, 200) : String(error);
      } else {
        this.#delayMs = 0;
      }
      throw error;
    } finally {
      if (probe) this.#probing = false;
    }
  }

  get open(): boolean {
    return this.#delayMs > 0 && this.now() < this.#openUntil;
  }
}
