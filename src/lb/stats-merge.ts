// GET /1/lb/stats of a -workers cluster: the primary holds the node states and health checks, each
// worker its own share of the traffic counts. Counts add up; the reported queueing is the highest any
// worker saw (each learns it only from the calls it proxied); the bound is the highest a worker
// applies (each computes it from all workers' calls in flight, as last shared, so they agree within
// the calls of one share interval).

import type { LbNodeStats, LbRouteStats, LbStatsResponse } from '../common/lb-wire.js';
import { WAIT_MS_PER_LOAD_UNIT } from './balancer.js';

const SUMMED = [
  'in_flight',
  'requests',
  'responses_5xx',
  'undelivered',
  'refused_503',
  'upstream_errors',
] as const;

function mergeNode(base: LbNodeStats, parts: readonly LbNodeStats[]): LbNodeStats {
  const node = { ...base };
  for (const field of SUMMED) node[field] = parts.reduce((sum, part) => sum + part[field], 0);
  node.wait_ewma_ms = Math.max(0, ...parts.map((part) => part.wait_ewma_ms));
  const weight = parts.reduce((sum, part) => sum + part.requests, 0);
  node.headers_ewma_ms =
    weight === 0
      ? 0
      : Number(
          (parts.reduce((sum, part) => sum + part.headers_ewma_ms * part.requests, 0) / weight).toFixed(3),
        );
  node.load = Number((node.in_flight + node.wait_ewma_ms / WAIT_MS_PER_LOAD_UNIT).toFixed(3));
  return node;
}

function mergeRoute(into: LbRouteStats | undefined, route: LbRouteStats): LbRouteStats {
  const merged: LbRouteStats = into ?? { requests: 0, retries: 0, failures: 0, nodes: {} };
  merged.requests += route.requests;
  merged.retries += route.retries;
  merged.failures += route.failures;
  for (const [node, count] of Object.entries(route.nodes))
    merged.nodes[node] = (merged.nodes[node] ?? 0) + count;
  return merged;
}

/** `control` is the primary's own view (states, checks); `workers` each worker's local stats. */
export function mergeWorkerStats(
  control: LbStatsResponse,
  workers: readonly LbStatsResponse[],
  running: number,
): LbStatsResponse {
  const nodes: Record<string, LbNodeStats> = {};
  for (const [address, base] of Object.entries(control.nodes)) {
    const parts = workers.flatMap((worker) => worker.nodes[address] ?? []);
    nodes[address] = mergeNode(base, parts);
  }
  const routes: Record<string, LbRouteStats> = {};
  for (const worker of workers)
    for (const [key, route] of Object.entries(worker.routes)) routes[key] = mergeRoute(routes[key], route);
  return {
    total_in_flight: workers.reduce((sum, worker) => sum + worker.total_in_flight, 0),
    online: control.online,
    bound: Math.max(0, ...workers.map((worker) => worker.bound)),
    nodes,
    routes,
    routes_dropped: workers.reduce((sum, worker) => sum + worker.routes_dropped, 0),
    workers: { answered: workers.length, running },
  };
}
