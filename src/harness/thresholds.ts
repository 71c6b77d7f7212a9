// The threshold flags turned into verdicts. Each verdict carries the measured value beside the bound
// and, for per-route checks, the worst route, so a failing CI run says what went wrong without a rerun.
// Nothing measured (no successful call) fails a check rather than passing it vacuously.
import type { ThresholdBounds } from './flags.js';
import type { Summary } from './stats.js';

export interface ThresholdVerdict {
  flag: 'max-nodes-per-route' | 'min-home-share' | 'max-load-ratio' | 'max-failures';
  bound: number;
  /** Null when there was nothing to measure. */
  measured: number | null;
  passed: boolean;
  /** One line: measured vs bound, and where. */
  detail: string;
}

function routeNodes(summary: Summary, route: string): string {
  const found = summary.routes.find((candidate) => candidate.route === route);
  if (found === undefined) return '';
  return Object.entries(found.nodes)
    .sort((a, b) => b[1] - a[1])
    .map(([node, calls]) => `${node} ${calls}`)
    .join(', ');
}

function maxNodesPerRoute(summary: Summary, bound: number): ThresholdVerdict {
  const flag = 'max-nodes-per-route';
  if (summary.totals.succeeded === 0) {
    return { flag, bound, measured: null, passed: false, detail: 'no successful call to measure' };
  }
  const measured = summary.nodesPerRoute.max;
  const worst = summary.routes.find((route) => route.nodeCount === measured);
  const where = worst ? ` on route ${worst.route} (${routeNodes(summary, worst.route)})` : '';
  const passed = measured <= bound;
  return {
    flag,
    bound,
    measured,
    passed,
    detail: `measured ${measured} node${measured === 1 ? '' : 's'}${where}, bound <= ${bound}`,
  };
}

function minHomeShare(summary: Summary, bound: number): ThresholdVerdict {
  const flag = 'min-home-share';
  const share = summary.homeShare;
  if (share === null)
    return { flag, bound, measured: null, passed: false, detail: 'no successful call to measure' };
  return {
    flag,
    bound,
    measured: share.min,
    passed: share.min >= bound,
    detail: `measured ${share.min.toFixed(3)} on route ${share.worstRoute} (${routeNodes(summary, share.worstRoute)}), bound >= ${bound}`,
  };
}

/** Busiest node over the mean of all nodes listed (idle ones included, so "all on one node" shows). */
function maxLoadRatio(summary: Summary, bound: number): ThresholdVerdict {
  const flag = 'max-load-ratio';
  const total = summary.totals.succeeded;
  if (total === 0)
    return { flag, bound, measured: null, passed: false, detail: 'no successful call to measure' };
  const busiest = summary.nodes.reduce((best, node) => (node.executions > best.executions ? node : best));
  const mean = total / summary.nodes.length;
  const measured = busiest.executions / mean;
  return {
    flag,
    bound,
    measured,
    passed: measured <= bound,
    detail: `measured ${measured.toFixed(2)} (${busiest.node} served ${busiest.executions}, mean ${mean.toFixed(1)} over ${summary.nodes.length} nodes), bound <= ${bound}`,
  };
}

function maxFailures(summary: Summary, bound: number): ThresholdVerdict {
  const { failed, made } = summary.totals;
  return {
    flag: 'max-failures',
    bound,
    measured: failed,
    passed: failed <= bound,
    detail: `measured ${failed} failed of ${made} calls, bound <= ${bound}`,
  };
}

export function evaluateThresholds(summary: Summary, bounds: ThresholdBounds): ThresholdVerdict[] {
  const verdicts: ThresholdVerdict[] = [];
  if (bounds.maxNodesPerRoute !== undefined)
    verdicts.push(maxNodesPerRoute(summary, bounds.maxNodesPerRoute));
  if (bounds.minHomeShare !== undefined) verdicts.push(minHomeShare(summary, bounds.minHomeShare));
  if (bounds.maxLoadRatio !== undefined) verdicts.push(maxLoadRatio(summary, bounds.maxLoadRatio));
  if (bounds.maxFailures !== undefined) verdicts.push(maxFailures(summary, bounds.maxFailures));
  return verdicts;
}
