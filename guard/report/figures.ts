// What a guard test records for a person to look at besides its checks: the calls of a load around a
// fault over time (who served each, which failed, and when the fault and the balancer's reaction
// came), and distributions of placement (routes per node, nodes per route). They go into the test's
// entry of fnlb-guard.json (`figures`) and are drawn in fnlb-guard.html; they decide nothing.

/** A load's calls over time, in ms from its first call. */
export interface Timeline {
  /** The nodes, in the order the timeline draws them (their addresses). */
  nodes: string[];
  /** Each call: when it started, the index in `nodes` of the node that served it (-1: none named), 1 ok or 0 failed. */
  calls: Array<[atMs: number, node: number, ok: 0 | 1]>;
  /** The moments that matter: the fault, the node gone, the balancer taking it out or back. */
  events: Array<{ atMs: number; label: string }>;
}

/** Counts by name (routes per node, nodes per route), drawn as bars. */
export interface Distribution {
  title: string;
  /** What a count counts (routes, calls, keys). */
  unit: string;
  /** Whole, non-negative counts, in the order the bars are drawn. */
  counts: Record<string, number>;
}

export interface Figures {
  timeline?: Timeline;
  distributions?: Distribution[];
}

/** Calls at most kept in a timeline: a longer load keeps every n-th call, the failed ones all. */
export const TIMELINE_MAX_CALLS = 5000;

/**
 * A timeline of `calls` (on one clock, `startedAt` in ms) with its `events` on the same clock, in ms
 * from the first call; every failed call is kept, successful ones thinned to TIMELINE_MAX_CALLS.
 */
export function timelineOf(
  nodes: readonly string[],
  calls: ReadonlyArray<{ startedAt: number; node: string | undefined | null; ok: boolean }>,
  events: ReadonlyArray<{ at: number; label: string }>,
): Timeline {
  const start = calls.reduce((first, call) => Math.min(first, call.startedAt), Number.POSITIVE_INFINITY);
  const origin = Number.isFinite(start) ? start : 0;
  const step = Math.max(1, Math.ceil(calls.length / TIMELINE_MAX_CALLS));
  const ms = (at: number) => Math.round((at - origin) * 10) / 10;
  return {
    nodes: [...nodes],
    calls: [...calls]
      .sort((a, b) => a.startedAt - b.startedAt)
      .filter((call, index) => !call.ok || index % step === 0)
      .map((call) => [ms(call.startedAt), call.node ? nodes.indexOf(call.node) : -1, call.ok ? 1 : 0]),
    events: events
      .filter((event) => Number.isFinite(event.at))
      .map((event) => ({ atMs: ms(event.at), label: event.label })),
  };
}

/** A distribution from counts by name, as a Map or a record, in the names' natural order (node2 before node10). */
export function distributionOf(
  title: string,
  unit: string,
  counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
): Distribution {
  const entries = counts instanceof Map ? [...counts] : Object.entries(counts);
  const order = new Intl.Collator('en', { numeric: true });
  return { title, unit, counts: Object.fromEntries(entries.sort(([a], [b]) => order.compare(a, b))) };
}
