// Threshold checks over measured distributions. Each check compares one measured number with one
// named bound and carries the bound's reason, so a failure reads "measured 37, bound <= 10: <why>".
// Pure functions of recorded numbers, so tests/unit can show each check failing on bad distributions.
import { THRESHOLDS, type Threshold } from '../tests/thresholds.js';

export interface Check {
  name: string;
  measured: number;
  op: '<=' | '>=';
  bound: number;
  reason: string;
  ok: boolean;
}

export function atMost(name: string, measured: number, threshold: Threshold): Check {
  return {
    name,
    measured,
    op: '<=',
    bound: threshold.value,
    reason: threshold.reason,
    ok: measured <= threshold.value,
  };
}

export function atLeast(name: string, measured: number, threshold: Threshold): Check {
  return {
    name,
    measured,
    op: '>=',
    bound: threshold.value,
    reason: threshold.reason,
    ok: measured >= threshold.value,
  };
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

export function describeCheck(check: Check): string {
  const mark = check.ok ? 'ok  ' : 'FAIL';
  return `${mark} ${check.name}: measured ${round(check.measured)}, bound ${check.op} ${round(check.bound)} (${check.reason})`;
}

export function failedChecks(checks: readonly Check[]): Check[] {
  return checks.filter((check) => !check.ok);
}

/** Text for an assertion message: every check, failing ones first, plus any context lines. */
export function checkReport(checks: readonly Check[], context: readonly string[] = []): string {
  const ordered = [...failedChecks(checks), ...checks.filter((check) => check.ok)];
  return [...ordered.map(describeCheck), ...context].join('\n');
}

const values = (counts: Record<string, number>) => Object.values(counts);
const sum = (numbers: number[]) => numbers.reduce((total, value) => total + value, 0);
const nodesUsed = (counts: Record<string, number>) => values(counts).filter((count) => count > 0).length;

/** A bound that is not configurable: it follows from the test itself (every call must succeed). */
function required(value: number, reason: string): Threshold {
  return { value, env: '', reason };
}

const allSucceed = (succeeded: number, calls: number) =>
  atLeast('calls succeeded', succeeded, required(calls, 'every call of the test must succeed'));

/** Sequential calls to one route: calls served per node. */
export function stickinessChecks(callsPerNode: Record<string, number>, calls: number): Check[] {
  return [
    atMost('nodes serving the route', nodesUsed(callsPerNode), THRESHOLDS.stickyMaxNodes),
    allSucceed(sum(values(callsPerNode)), calls),
  ];
}

/** Sequential calls to one route: containers started in the cluster and calls answered hot. */
export function hotReuseChecks(measured: { containersStarted: number; hotCalls: number }): Check[] {
  return [
    atMost('containers started in the cluster', measured.containersStarted, THRESHOLDS.hotMaxContainers),
    atLeast(
      'containers started in the cluster',
      measured.containersStarted,
      required(1, 'the first call must start a container'),
    ),
    atLeast('calls answered hot', measured.hotCalls, THRESHOLDS.hotMinHotCalls),
  ];
}

/** A concurrent burst to a fast cold route: containers started per node. */
export function stampedeChecks(
  startedPerNode: Record<string, number>,
  succeeded: number,
  calls: number,
): Check[] {
  const started = values(startedPerNode);
  return [
    atMost('containers started on the busiest node', Math.max(0, ...started), THRESHOLDS.stampedeMaxPerNode),
    atMost('containers started in the cluster', sum(started), THRESHOLDS.stampedeMaxCluster),
    allSucceed(succeeded, calls),
  ];
}

/** The same burst to a slow route: the policy must scale out. */
export function scaleOutChecks(
  startedPerNode: Record<string, number>,
  succeeded: number,
  calls: number,
): Check[] {
  return [
    atLeast('containers started in the cluster', sum(values(startedPerNode)), THRESHOLDS.scaleOutMinCluster),
    allSucceed(succeeded, calls),
  ];
}

/** Many routes, sequential calls each: nodes used per route and calls served per node. */
export function balanceChecks(
  nodesPerRoute: readonly number[],
  loadPerNode: Record<string, number>,
  calls: number,
): Check[] {
  const loads = values(loadPerNode);
  const mean = loads.length === 0 ? 0 : sum(loads) / loads.length;
  return [
    allSucceed(sum(loads), calls),
    atMost('most nodes used by one route', Math.max(0, ...nodesPerRoute), THRESHOLDS.balanceMaxNodesPerRoute),
    atMost(
      'busiest node load / mean',
      mean === 0 ? Number.POSITIVE_INFINITY : Math.max(...loads) / mean,
      THRESHOLDS.balanceMaxOverMean,
    ),
    atLeast(
      'idlest node load / mean',
      mean === 0 ? 0 : Math.min(...loads) / mean,
      THRESHOLDS.balanceMinNodeShare,
    ),
  ];
}

/** A hot slow route under many callers: nodes that served it. */
export function spillChecks(callsPerNode: Record<string, number>): Check[] {
  const used = nodesUsed(callsPerNode);
  return [
    atLeast('nodes serving the hot route', used, THRESHOLDS.spillMinNodes),
    atMost('nodes serving the hot route', used, THRESHOLDS.spillMaxNodes),
  ];
}

/** A node killed mid-run: failures overall (bounded by the calls it had in flight) and after it was marked down. */
export function failoverChecks(measured: {
  failed: number;
  inFlightOnKilledNode: number;
  failedAfterMarkedDown: number;
}): Check[] {
  return [
    atMost(
      'failed calls',
      measured.failed,
      required(measured.inFlightOnKilledNode, 'only the calls in flight on the killed node may fail'),
    ),
    atMost(
      'failed calls after the node was marked down',
      measured.failedAfterMarkedDown,
      THRESHOLDS.failoverMaxAfterDown,
    ),
  ];
}

/** A node added: the share of routes whose node changed. */
export function membershipAddChecks(moved: number, routes: number): Check[] {
  return [
    atMost('share of routes moved', moved / routes, THRESHOLDS.membershipAddMaxMoved),
    atLeast(
      'routes moved to the new node',
      moved,
      required(1, 'the new node must take some routes, or it is unused'),
    ),
  ];
}

/** A node removed: routes that moved although they were not on it, and its routes that found a new node. */
export function membershipRemoveChecks(measured: { movedFromOtherNodes: number; orphaned: number }): Check[] {
  return [
    atMost(
      'routes moved that were not on the removed node',
      measured.movedFromOtherNodes,
      required(0, "consistent hashing moves only the removed node's routes"),
    ),
    atMost(
      'routes of the removed node left without an answer',
      measured.orphaned,
      required(0, 'every route must be served after a removal'),
    ),
  ];
}
