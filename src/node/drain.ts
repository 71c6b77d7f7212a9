// The node's graceful stop, as a balancer in front of it needs it. On SIGTERM the node keeps its
// listener and its connections, and answers every new request with 503 `Fn-Refused: draining`
// (Retry-After, Connection: close): a call it refused without running, which a balancer may send to
// another node, and a signal to take this node out at once. Calls in flight finish. Only when none
// is left and no call has arrived for a quiet period does the node close its listener and its idle
// connections: closing them earlier races a balancer that is writing its next request onto one, and
// that request would be lost after delivery. The whole drain is bounded by the shutdown timeout.
import { setTimeout as sleep } from 'node:timers/promises';

export const DRAIN_QUIET_MS = 1000;
const POLL_MS = 50;

export class Drain {
  #draining = false;
  #active = 0;
  #lastArrival = 0;

  get draining(): boolean {
    return this.#draining;
  }

  get active(): number {
    return this.#active;
  }

  /** A request (other than a health check) arrived; returns the function to call when it is done. */
  arrived(): () => void {
    this.#active++;
    this.#lastArrival = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#active--;
    };
  }

  /** Starts draining; resolves once the node may close (or when `deadlineMs` has passed). */
  async begin(deadlineMs: number, quietMs = DRAIN_QUIET_MS): Promise<'quiet' | 'deadline'> {
    this.#draining = true;
    // Quiet counts from the signal at the earliest: a balancer learns of the drain from its next call.
    this.#lastArrival = Math.max(this.#lastArrival, performance.now());
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const now = performance.now();
      if (this.#active === 0 && now - this.#lastArrival >= quietMs) return 'quiet';
      if (now >= deadline) return 'deadline';
      await sleep(POLL_MS);
    }
  }
}
