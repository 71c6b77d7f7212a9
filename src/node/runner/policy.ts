// The launch policy of one hot pool, as a pure function of counts and estimates: evaluated whenever a
// call waits or a container frees up; memory admission comes after it. Its rules in order are the
// Hold values below. The adaptive one weighs the queue's average wait against the start time, with a
// start that overlaps n others expected to take S * (n + 1) since starts share one engine; the
// measurements that gave it this shape are in docs/launch-policy.md.

export interface PoolView {
  /** Calls of this pool waiting for a container. */
  waiting: number;
  idle: number;
  busy: number;
  starting: number;
  /** This node has finished at least one call of the pool. */
  everCompleted: boolean;
  /** EWMA of run time R, undefined before the first measurement. */
  runMs: number | undefined;
  /** EWMA of start time S, undefined before the first measurement. */
  startMs: number | undefined;
}

export interface NodeView {
  /** Starts in flight on this node, for every route. */
  starting: number;
  maxStarts: number;
}

export type Hold = 'no-waiters' | 'starter-bound' | 'first-start-guard' | 'adaptive' | 'start-cap';

export type LaunchDecision = { launch: true } | { launch: false; hold: Hold };

/** The last queued call's wait behind busy and starting containers: R * (waiting + 1) / max(1, busy + starting). */
export function expectedWaitMs(pool: PoolView, runMs: number): number {
  return (runMs * (pool.waiting + 1)) / Math.max(1, pool.busy + pool.starting);
}

/** The average queued call waits half as long as the last one. */
export function averageWaitMs(pool: PoolView, runMs: number): number {
  return expectedWaitMs(pool, runMs) / 2;
}

/** How long a start launched now is expected to take, behind the starts already in flight. */
export function expectedStartMs(startMs: number, node: NodeView): number {
  return startMs * (node.starting + 1);
}

export function launchDecision(pool: PoolView, node: NodeView): LaunchDecision {
  const effectiveWaiters = pool.waiting - pool.idle;
  if (effectiveWaiters <= 0) return { launch: false, hold: 'no-waiters' };
  // Starter bound: never more starters than effective waiters.
  if (pool.starting >= effectiveWaiters) return { launch: false, hold: 'starter-bound' };
  const serving = pool.busy + pool.starting;
  // First start guard: until a call has finished here, one container and everyone waits for it.
  if (!pool.everCompleted && serving + pool.idle > 0) return { launch: false, hold: 'first-start-guard' };
  // Adaptive: queue behind busy containers while that is expected to beat a start. With nothing
  // busy or starting there is nothing to queue behind.
  if (pool.everCompleted && serving > 0 && pool.runMs !== undefined && pool.startMs !== undefined) {
    if (averageWaitMs(pool, pool.runMs) <= expectedStartMs(pool.startMs, node)) {
      return { launch: false, hold: 'adaptive' };
    }
  }
  if (node.starting >= node.maxStarts) return { launch: false, hold: 'start-cap' };
  return { launch: true };
}

/**
 * A runner without the policy: a container for every call that finds none idle, up to the start
 * cap. The herd the policy exists to prevent, kept for the guard's own tests only (FN_TEST_LAUNCH=naive),
 * to show that its herd check catches a node that stampedes.
 */
export function naiveLaunchDecision(pool: PoolView, node: NodeView): LaunchDecision {
  if (pool.waiting - pool.idle <= pool.starting) return { launch: false, hold: 'no-waiters' };
  if (node.starting >= node.maxStarts) return { launch: false, hold: 'start-cap' };
  return { launch: true };
}
