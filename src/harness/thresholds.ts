// The threshold flags turned into verdicts, in the measured-beside-bound shape the guard's checks
// share (src/common/bound-check.ts). Each verdict carries, for per-route checks, the worst route, so a
// failing CI run says what went wrong without a rerun. Nothing measured (no successful call) fails a
// check rather than passing it vacuously.
import { type BoundCheck, type BoundOp, boundText, withinBound } from '../common/bound-check.js';
import type { ThresholdBounds } from './flags.js';
import type { Summary } from './stats.js';

type Flag = 'max-nodes-per-route' | 'min-home-share' | 'max-load-ratio' | 'max-failures';

export interface ThresholdVerdict extends BoundCheck {
  flag: Flag;
  /** The same as `ok`: the name the harness's JSON report has always used. */
  passed: boolean;
  /** One line: measured vs bound, and where. */
  detail: string;
}

const NOTHING_MEASURED = 'no successful call to measure';

/** A verdict: `measured` (as printed) against `bound`, and where it was measured. */
function verdict(
  flag: Flag,
  op: BoundOp,
  bound: number,
  measured: number | null,
  shown = '',
  where = '',
): ThresholdVerdict {
  const ok = withinBound(measured, op, bound);
  const detail =
    measured === null ? NOTHING_MEASURED : `measured ${shown}${where}, bound ${boundText(op, bound)}`;
  return { flag, op, bound, measured, ok, passed: ok, detail };
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
  if (summary.totals.succeeded === 0) return verdict(flag, '<=', bound, null);
  const measured = summary.nodesPerRoute.max;
  const worst = summary.routes.find((route) => route.nodeCount === measured);
  const where = worst ? ` on route ${worst.route} (${routeNodes(summary, worst.route)})` : '';
  return verdict(flag, '<=', bound, measured, `${measured} node${measured === 1 ? '' : 's'}`, where);
}

function minHomeShare(summary: Summary, bound: number): ThresholdVerdict {
  const flag = 'min-home-share';
  const share = summary.homeShare;
  if (share === null) return verdict(flag, '>=', bound, null);
  const where = ` on route ${share.worstRoute} (${routeNodes(summary, share.worstRoute)})`;
  return verdict(flag, '>=', bound, share.min, share.min.toFixed(3), where);
}

/** Busiest node over the mean of all nodes listed (idle ones included, so "all on one node" shows). */
function maxLoadRatio(summary: Summary, bound: number): ThresholdVerdict {
  const flag = 'max-load-ratio';
  const total = summary.totals.succeeded;
  if (total === 0) return verdict(flag, '<=', bound, null);
  const busiest = summary.nodes.reduce((best, node) => (node.executions > best.executions ? node : best));
  const mean = total / summary.nodes.length;
  const measured = busiest.executions / mean;
  const where = ` (${busiest.node} served ${busiest.executions}, mean ${mean.toFixed(1)} over ${summary.nodes.length} nodes)`;
  return verdict(flag, '<=', bound, measured, measured.toFixed(2), where);
}

function maxFailures(summary: Summary, bound: number): ThresholdVerdict {
  const { failed, made } = summary.totals;
  return verdict('max-failures', '<=', bound, failed, `${failed} failed of ${made} calls`);
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
