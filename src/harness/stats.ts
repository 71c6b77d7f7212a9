// Statistics over the recorded calls: executions per node (every -nodes entry, zero included, in the
// order given), the node set of each route, home share (the fraction of a route's successful calls
// served by its most-used node: 1 when a route sticks to one node, 1/k when spread evenly over k),
// latency percentiles, failures and cold starts. Pure functions of the records, so the thresholds can
// be tested on recorded distributions without a deployment.
import type { CallRecord } from './drive.js';

/** Nearest-rank percentile of an ascending, non-empty list: always a value that was measured. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty list');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface Distribution {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] as number,
  };
}

export interface NodeSummary {
  /** Address from -nodes, or the raw id of a node that served calls but is not in -nodes. */
  node: string;
  id: string | null;
  /** False for a -nodes entry whose discovery failed, and for ids outside -nodes. */
  discovered: boolean;
  /** Successful calls it served (the historic count). */
  executions: number;
  cold: number;
  failures: number;
}

export interface RouteSummary {
  route: string;
  calls: number;
  succeeded: number;
  failed: number;
  /** Successful calls per node. */
  nodes: Record<string, number>;
  nodeCount: number;
  homeNode: string | null;
  /** Null when the route had no successful call. */
  homeShare: number | null;
}

export interface NodesPerRoute {
  /** Most nodes any route used. */
  max: number;
  /** Mean over routes with at least one successful call. */
  mean: number;
  /** Routes by the number of nodes they used (key "0": routes without a successful call). */
  distribution: Record<string, number>;
}

export interface HomeShareSummary {
  min: number;
  mean: number;
  /** The route with the lowest home share. */
  worstRoute: string;
}

export interface Totals {
  /** Calls the run was asked to make. */
  planned: number;
  /** Calls made (fewer than planned when stopped by the deadline or Ctrl-C). */
  made: number;
  succeeded: number;
  failed: number;
  /** Failed calls that got no HTTP answer at all (refused, reset, timed out). */
  noResponse: number;
  /** Calls answered with `Fn-Cold: true`. */
  cold: number;
}

export interface Summary {
  totals: Totals;
  nodes: NodeSummary[];
  routes: RouteSummary[];
  nodesPerRoute: NodesPerRoute;
  homeShare: HomeShareSummary | null;
  latencySeconds: Distribution | null;
  inFunctionSeconds: Distribution | null;
}

export interface SummaryInput {
  records: readonly CallRecord[];
  planned: number;
  /** -nodes with the id discovery found for each (undefined when it failed). */
  discovered: ReadonlyArray<{ node: string; id: string | undefined }>;
  /** The invoked paths, in call order. */
  routes: readonly string[];
}

function summarizeNodes(input: SummaryInput): NodeSummary[] {
  const byNode = new Map<string, NodeSummary>();
  for (const { node, id } of input.discovered) {
    byNode.set(node, {
      node,
      id: id ?? null,
      discovered: id !== undefined,
      executions: 0,
      cold: 0,
      failures: 0,
    });
  }
  for (const record of input.records) {
    if (record.node === null) continue;
    let summary = byNode.get(record.node);
    if (summary === undefined) {
      summary = {
        node: record.node,
        id: record.node,
        discovered: false,
        executions: 0,
        cold: 0,
        failures: 0,
      };
      byNode.set(record.node, summary);
    }
    if (record.ok) summary.executions++;
    else summary.failures++;
    if (record.cold) summary.cold++;
  }
  return [...byNode.values()];
}

function summarizeRoutes(input: SummaryInput): RouteSummary[] {
  const byRoute = new Map<string, RouteSummary>();
  for (const route of input.routes) {
    byRoute.set(route, {
      route,
      calls: 0,
      succeeded: 0,
      failed: 0,
      nodes: {},
      nodeCount: 0,
      homeNode: null,
      homeShare: null,
    });
  }
  for (const record of input.records) {
    const summary = byRoute.get(record.route);
    if (summary === undefined) continue;
    summary.calls++;
    if (!record.ok) {
      summary.failed++;
      continue;
    }
    summary.succeeded++;
    // A success nothing attributes is still a call of the route: count it under an explicit key.
    const node = record.node ?? 'unknown';
    summary.nodes[node] = (summary.nodes[node] ?? 0) + 1;
  }
  for (const summary of byRoute.values()) {
    const counts = Object.entries(summary.nodes);
    summary.nodeCount = counts.length;
    if (summary.succeeded === 0) continue;
    const [homeNode, homeCalls] = counts.reduce((best, entry) => (entry[1] > best[1] ? entry : best));
    summary.homeNode = homeNode;
    summary.homeShare = homeCalls / summary.succeeded;
  }
  return [...byRoute.values()];
}

function summarizeNodesPerRoute(routes: readonly RouteSummary[]): NodesPerRoute {
  const distribution: Record<string, number> = {};
  let max = 0;
  let sum = 0;
  let measured = 0;
  for (const route of routes) {
    distribution[route.nodeCount] = (distribution[route.nodeCount] ?? 0) + 1;
    max = Math.max(max, route.nodeCount);
    if (route.nodeCount > 0) {
      sum += route.nodeCount;
      measured++;
    }
  }
  return { max, mean: measured === 0 ? 0 : sum / measured, distribution };
}

function summarizeHomeShare(routes: readonly RouteSummary[]): HomeShareSummary | null {
  let worst: RouteSummary | undefined;
  let sum = 0;
  let measured = 0;
  for (const route of routes) {
    if (route.homeShare === null) continue;
    sum += route.homeShare;
    measured++;
    if (worst === undefined || route.homeShare < (worst.homeShare as number)) worst = route;
  }
  if (worst === undefined) return null;
  return { min: worst.homeShare as number, mean: sum / measured, worstRoute: worst.route };
}

export function summarize(input: SummaryInput): Summary {
  const routes = summarizeRoutes(input);
  const succeeded = input.records.filter((record) => record.ok);
  return {
    totals: {
      planned: input.planned,
      made: input.records.length,
      succeeded: succeeded.length,
      failed: input.records.length - succeeded.length,
      noResponse: input.records.filter((record) => record.status === null).length,
      cold: input.records.filter((record) => record.cold).length,
    },
    nodes: summarizeNodes(input),
    routes,
    nodesPerRoute: summarizeNodesPerRoute(routes),
    homeShare: summarizeHomeShare(routes),
    latencySeconds: distribution(succeeded.map((record) => record.responseSeconds)),
    inFunctionSeconds: distribution(
      succeeded.flatMap((record) => (record.durationSeconds === null ? [] : [record.durationSeconds])),
    ),
  };
}
