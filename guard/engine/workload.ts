// How much each property sends, at each scale of run. `full` is the default and what the bounds were
// set for; `quick` shrinks the workloads for a pre-merge check (all but spill's, which is already
// as small as its property allows), each as far as its property still bites: the guard's own tests run the deliberately broken balancers at quick scale
// (tests/integration/guard-bite.test.ts). Where a bound judges a share or a ratio measured over fewer
// samples, its margin is widened to the same number of standard deviations (checks.ts,
// sampledBound), so an ideal balancer fails it no more often at quick than at full; what a flaw does
// (every call of a route on another node, a node idle) is far outside either.

export const SCALES = ['full', 'quick'] as const;
export type Scale = (typeof SCALES)[number];

export interface Workload {
  /** Sequential calls to one route; routes whose paths are spelled five other ways. */
  sticky: { calls: number; variantRoutes: number };
  hotReuse: { calls: number };
  /**
   * herd and scale-out's concurrent burst. Below about 55 calls fnlb's bound of 8 in flight per node
   * spreads the burst so thin that a serial node keeps up and scale-out cannot tell it apart.
   */
  burst: { calls: number };
  /** Routes, and sequential calls to each; the calls of a route all go together, so routes decide. */
  balance: { routes: number; callsEach: number };
  /**
   * Concurrent callers and calls per caller, in each of the warm-up and the measured run: the same at
   * both scales. The property is where 24 callers go once the load is steady; with fewer calls each,
   * the start of the run, when all 24 arrive at once, would weigh more, and 5 each cost only about
   * 2 s of the property's 15.
   */
  spill: { callers: number; callsPerCaller: number };
  /** failover, graceful-stop and frozen: routes, calls, and after how many completed calls the fault comes. */
  nodeDown: { routes: number; calls: number; faultAfter: number };
  /** Unrouted paths placed by membership, recovery and malformed; routes made where those name no node. */
  placement: { keys: number; routeKeys: number };
  /** Calls of a real route after the malformed requests. */
  malformed: { calls: number };
  /** Calls per status the function answers; how much longer than the balancer's timeout the long call runs. */
  noDuplicate: { callsEach: number; outliveMs: number };
  /** Calls each way (straight to the node, through the balancer) at each number of callers. */
  overhead: { callsEach: number };
}

export const WORKLOADS: Record<Scale, Workload> = {
  full: {
    sticky: { calls: 100, variantRoutes: 8 },
    hotReuse: { calls: 100 },
    burst: { calls: 100 },
    balance: { routes: 500, callsEach: 4 },
    spill: { callers: 24, callsPerCaller: 5 },
    nodeDown: { routes: 40, calls: 1000, faultAfter: 300 },
    placement: { keys: 1000, routeKeys: 100 },
    malformed: { calls: 100 },
    noDuplicate: { callsEach: 5, outliveMs: 2000 },
    overhead: { callsEach: 1000 },
  },
  quick: {
    sticky: { calls: 30, variantRoutes: 4 },
    hotReuse: { calls: 30 },
    burst: { calls: 60 },
    balance: { routes: 200, callsEach: 2 },
    spill: { callers: 24, callsPerCaller: 5 },
    nodeDown: { routes: 20, calls: 400, faultAfter: 120 },
    placement: { keys: 200, routeKeys: 50 },
    malformed: { calls: 40 },
    noDuplicate: { callsEach: 2, outliveMs: 1000 },
    overhead: { callsEach: 300 },
  },
};

/** The workload every bound was set for: a measure over fewer samples widens its bound. */
export const FULL_WORKLOAD = WORKLOADS.full;
