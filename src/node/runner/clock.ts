// Time as the runner sees it, injectable so unit tests drive the launch policy with a fake clock.
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  setTimeout(callback: () => void, ms: number): Timer;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    // Unref'd: a pending idle or call timer alone never keeps the node alive; live children do.
    const handle = setTimeout(callback, ms).unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
