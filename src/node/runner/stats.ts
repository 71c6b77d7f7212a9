// The counters behind GET /stats (shape in common/wire.ts). Each is changed by the runner at the
// moment the event happens (a call queued, a container started, ...); nothing is derived later.
import type { NodeStats, RouteStats } from '../../common/wire.js';

export class RunnerStats {
  readonly calls = { queued: 0, running: 0, complete: 0, failed: 0 };
  readonly containers = { started: 0, starting: 0, busy: 0, idle: 0, stopped: 0, evicted: 0 };
  private readonly routes = new Map<string, RouteStats>();

  /** Counters of a route, keyed `<app><path>` as /stats shows them. */
  route(key: string): RouteStats {
    let stats = this.routes.get(key);
    if (stats === undefined) {
      stats = { calls: 0, cold: 0, hot: 0, containers_started: 0, run_ms_ewma: 0, start_ms_ewma: 0 };
      this.routes.set(key, stats);
    }
    return stats;
  }

  snapshot(node: string): NodeStats {
    return {
      node,
      calls: { ...this.calls },
      containers: { ...this.containers },
      routes: Object.fromEntries([...this.routes].map(([key, stats]) => [key, { ...stats }])),
    };
  }
}
