// The counters behind GET /stats (shape in common/wire.ts). Each is changed by the runner or a pool
// (pool.ts) at the moment the event happens (a call queued, a container started, ...); nothing is
// derived later, and the runner reads its starts in flight from here. The per-route table keeps the
// most recently called MAX_ROUTES routes: a node that served many routes over its life does not keep
// them all.
import type { NodeStats, RouteStats } from '../../common/wire.js';

/** Routes the table keeps; each entry is small and its key at most an app name and a route path. */
export const MAX_ROUTES = 10_000;

export class RunnerStats {
  readonly calls = { queued: 0, running: 0, complete: 0, failed: 0 };
  readonly containers = { started: 0, starting: 0, busy: 0, idle: 0, stopped: 0, evicted: 0 };
  /** In least recently used order: a route touched moves to the end. */
  private readonly routes = new Map<string, RouteStats>();
  private routesDropped = 0;

  constructor(private readonly maxRoutes = MAX_ROUTES) {}

  /** Counters of a route, keyed `<app><path>` as /stats shows them. */
  route(key: string): RouteStats {
    let stats = this.routes.get(key);
    if (stats !== undefined) {
      this.routes.delete(key);
    } else {
      stats = {
        calls: 0,
        cold: 0,
        hot: 0,
        containers_started: 0,
        run_ms_ewma: 0,
        start_ms_ewma: 0,
        launch_hold: null,
      };
    }
    this.routes.set(key, stats);
    while (this.routes.size > this.maxRoutes) {
      this.routes.delete(this.routes.keys().next().value as string);
      this.routesDropped++;
    }
    return stats;
  }

  /** A route's counters as they are, without counting it as touched; undefined when not in the table. */
  peek(key: string): Readonly<RouteStats> | undefined {
    return this.routes.get(key);
  }

  snapshot(node: string, pools: number): NodeStats {
    return {
      node,
      calls: { ...this.calls },
      containers: { ...this.containers },
      routes: Object.fromEntries([...this.routes].map(([key, stats]) => [key, { ...stats }])),
      routes_dropped: this.routesDropped,
      pools,
    };
  }
}
