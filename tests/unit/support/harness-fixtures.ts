// Recorded call distributions for the harness's unit tests: the shapes a good and a broken balancer
// produce, built as the harness records them, so statistics, thresholds and reports are tested on
// data without a deployment.
import { type CallRecord, callPlan } from '../../../src/harness/drive.js';
import type { ThresholdBounds } from '../../../src/harness/flags.js';
import { type Summary, summarize } from '../../../src/harness/stats.js';

export const NODES = [
  '127.0.0.1:8082',
  '127.0.0.1:8083',
  '127.0.0.1:8084',
  '127.0.0.1:8085',
  '127.0.0.1:8086',
];

export function call(
  index: number,
  route: string,
  node: string | null,
  extra: Partial<CallRecord> = {},
): CallRecord {
  return {
    index,
    route,
    node,
    ok: true,
    status: 200,
    error: null,
    cold: false,
    responseSeconds: 0.01,
    durationSeconds: 0.005,
    body: null,
    ...extra,
  };
}

export function routeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `/r/primesapp/primes-${String(i + 1).padStart(4, '0')}`);
}

/** `calls` calls over `routes` in the harness's call order, the node of each chosen by `pick`. */
export function recorded(
  routes: readonly string[],
  calls: number,
  pick: (index: number, routeIndex: number) => string,
): { records: CallRecord[]; routes: readonly string[] } {
  const plan = callPlan(routes.length, calls);
  const records = plan.map((routeIndex, i) => call(i, routes[routeIndex] as string, pick(i, routeIndex)));
  return { records, routes };
}

export function summaryOf(run: { records: CallRecord[]; routes: readonly string[] }, nodes = NODES): Summary {
  return summarize({
    records: run.records,
    planned: run.records.length,
    discovered: nodes.map((node, i) => ({ node, id: `node-${i}` })),
    routes: run.routes,
  });
}

export const NO_BOUNDS: ThresholdBounds = {
  maxNodesPerRoute: undefined,
  minHomeShare: undefined,
  maxLoadRatio: undefined,
  maxFailures: undefined,
};

/** What a healthy fnlb does: each route on its home node, homes spread over the ring. */
export const sticky = (routeIndex: number) => NODES[(routeIndex * 7 + 3) % NODES.length] as string;
/** The first fnlb's bug: every call to the next node, whatever the route. */
export const roundRobin = (index: number) => NODES[index % NODES.length] as string;
/** A balancer that never balances. */
export const allOnOne = () => NODES[0] as string;
