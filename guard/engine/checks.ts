// Threshold checks over measured distributions. Each check compares one measured number with one
// named bound and carries the bound's reason, so a failure reads "measured 37, bound <= 10: <why>".
// Node checks are judged per node against what that node received, so a balancer that piles a burst
// on one node fails spill, not that node's stampede check. Pure functions of recorded numbers, so
// tests/unit can show each check failing on bad distributions.
import { type BoundCheck, boundText, formatMeasure, withinBound } from '../../src/common/bound-check.js';
import type { Bounds, Threshold } from '../settings/resolve.js';
import type { MeasureKind } from '../settings/table.js';
import { FULL_WORKLOAD } from './workload.js';

export interface Check extends BoundCheck {
  name: string;
  measured: number;
  reason: string;
  /** The environment variable that overrode the bound, when one did. */
  overriddenBy?: string;
  /** How it is compared with a baseline run, and how much worse it may be than the baseline's. */
  kind: MeasureKind;
  tolerance: number;
  /**
   * Why the measure is only a lower bound (some of what it counts could not be seen): it then
   * decides a maximum it already exceeds and a minimum it already meets, and nothing else.
   */
  atLeast?: string;
}

function check(name: string, measured: number, op: Check['op'], threshold: Threshold): Check {
  return {
    name,
    measured,
    op,
    bound: threshold.value,
    reason: threshold.reason,
    ...(threshold.overridden ? { overriddenBy: threshold.env } : {}),
    kind: threshold.kind,
    tolerance: threshold.tolerance,
    ok: withinBound(measured, op, threshold.value),
  };
}

export const atMost = (name: string, measured: number, threshold: Threshold) =>
  check(name, measured, '<=', threshold);
export const atLeast = (name: string, measured: number, threshold: Threshold) =>
  check(name, measured, '>=', threshold);

/** A lower bound that cannot decide its check: within a maximum, or short of a minimum. */
export function undecided(check: Check): boolean {
  return check.atLeast !== undefined && (check.op === '<=') === check.ok;
}

/** The measured value as reports write it: `37`, or `at least 37` for a lower bound. */
export function measuredText(check: Pick<Check, 'measured' | 'atLeast'>): string {
  return `${check.atLeast !== undefined ? 'at least ' : ''}${formatMeasure(check.measured)}`;
}

/** The bound as reports write it: `<= 10`, marked with the variable that set it when one did. */
export function boundWithSource(check: Pick<Check, 'op' | 'bound' | 'overriddenBy'>): string {
  return `${boundText(check.op, check.bound)}${check.overriddenBy ? ` (set by ${check.overriddenBy})` : ''}`;
}

export function describeCheck(check: Check): string {
  const mark = undecided(check) ? '??  ' : check.ok ? 'ok  ' : 'FAIL';
  return `${mark} ${check.name}: measured ${measuredText(check)}, bound ${boundWithSource(check)} (${check.reason})`;
}

/** Checks that failed for certain: a lower bound fails only a maximum it already exceeds. */
export function failedChecks(checks: readonly Check[]): Check[] {
  return checks.filter((check) => !check.ok && !undecided(check));
}

/** Text for an assertion message: every check, failing ones first, plus any context lines. */
export function checkReport(checks: readonly Check[], context: readonly string[] = []): string {
  const failed = failedChecks(checks);
  const ordered = [...failed, ...checks.filter((check) => !failed.includes(check))];
  return [...ordered.map(describeCheck), ...context].join('\n');
}

type PerNode = Record<string, number>;

const values = (counts: PerNode) => Object.values(counts);
const sum = (numbers: number[]) => numbers.reduce((total, value) => total + value, 0);
const nodesUsed = (counts: PerNode) => values(counts).filter((count) => count > 0).length;

/** A bound that is not configurable: it follows from the test itself (every call must succeed). */
export function required(value: number, reason: string): Threshold {
  return { value, env: '', reason, overridden: false, kind: 'own', tolerance: 0 };
}

/**
 * `succeeded`: calls answered as the function answers, by a node of the topology (a 200 from something
 * else, such as a runner's own error as JSON, names no node and is no success).
 */
export const allSucceed = (succeeded: number, calls: number) =>
  atLeast(
    'calls succeeded',
    succeeded,
    required(calls, 'every call of the test must succeed, answered by a node of the topology'),
  );

/** Sequential calls to one route: calls served per node. */
export function stickinessChecks(bounds: Bounds, callsPerNode: PerNode, calls: number): Check[] {
  return [
    atMost('nodes serving the route', nodesUsed(callsPerNode), bounds.stickyMaxNodes),
    allSucceed(sum(values(callsPerNode)), calls),
  ];
}

/** Other spellings of routes' paths: how many reached another node than the plain spelling, or failed. */
export function pathVariantChecks(measured: {
  variants: number;
  elsewhere: number;
  failed: number;
}): Check[] {
  return [
    atMost(
      'path spellings served by another node than the route’s',
      measured.elsewhere,
      required(
        0,
        'the node routes every spelling to the same route, so the balancer must send it to the same node',
      ),
    ),
    atMost(
      'path spellings that failed',
      measured.failed,
      required(0, 'every spelling names an existing route'),
    ),
  ];
}

/** Per node: what it received, what it started and answered hot for one route. */
export interface NodeRouteCounts {
  received: number;
  started: number;
  hot: number;
  /** Why `started` (and the cold calls it implies) is only a lower bound, when it is. */
  startedAtLeast?: string;
}

/** The checks of each node's counts; a node whose starts are a lower bound marks its checks so. */
function perNodeChecks(
  counts: Record<string, NodeRouteCounts>,
  each: (node: string, counts: NodeRouteCounts) => Check[],
): Check[] {
  return Object.entries(counts)
    .filter(([, node]) => node.received > 0 || node.started > 0)
    .flatMap(([node, nodeCounts]) => {
      const checks = each(node, nodeCounts);
      const why = nodeCounts.startedAtLeast;
      return why === undefined ? checks : checks.map((check) => ({ ...check, atLeast: why }));
    });
}

/** A node that received calls of a fresh route must have started a container for them. */
const startedOne = (node: string, started: number) =>
  atLeast(`containers started on ${node}`, started, required(1, 'its first call must start a container'));

const receivedSum = (counts: Record<string, NodeRouteCounts>) =>
  Object.values(counts).reduce((total, node) => total + node.received, 0);

/** Sequential calls: each node that received some starts one container and answers the rest hot. */
export function hotReuseChecks(
  bounds: Bounds,
  counts: Record<string, NodeRouteCounts>,
  calls: number,
): Check[] {
  return [
    ...perNodeChecks(counts, (node, { received, started, hot }) => [
      atMost(`containers started on ${node}`, started, bounds.hotMaxContainers),
      startedOne(node, started),
      atMost(`calls answered cold on ${node}`, received - hot, bounds.hotMaxColdCalls),
    ]),
    allSucceed(receivedSum(counts), calls),
  ];
}

/** The bound on containers a node may start for a burst of `received` concurrent calls. */
export function herdBound(bounds: Bounds, received: number): Threshold {
  const { stampedeMaxPerNode: floor, stampedeMaxShare: share } = bounds;
  const value = Math.max(floor.value, Math.ceil(share.value * received));
  return {
    value,
    env: floor.overridden ? floor.env : share.env,
    overridden: floor.overridden || share.overridden,
    reason: `${floor.reason}: max(${floor.value}, ${share.value} x ${received} calls received)`,
    kind: 'count',
    tolerance: floor.tolerance,
  };
}

/** A concurrent burst to a fast cold route: containers each node started for what it received. */
export function herdChecks(bounds: Bounds, counts: Record<string, NodeRouteCounts>, calls: number): Check[] {
  return [
    ...perNodeChecks(counts, (node, { received, started }) => [
      atMost(`containers started on ${node}`, started, herdBound(bounds, received)),
      // A count of nothing (a node, or a watch of its engine, that missed every start) must not pass.
      startedOne(node, started),
    ]),
    allSucceed(receivedSum(counts), calls),
  ];
}

/** The same burst to a slow route: each node must scale out for the calls it received. */
export function scaleOutChecks(
  bounds: Bounds,
  counts: Record<string, NodeRouteCounts>,
  calls: number,
): Check[] {
  const share = bounds.scaleOutMinShare;
  return [
    ...perNodeChecks(counts, (node, { received, started }) => [
      atLeast(`containers started on ${node}`, started, {
        ...share,
        value: Math.ceil(share.value * received),
        reason: `${share.reason}: ${share.value} x ${received} calls received`,
      }),
    ]),
    allSucceed(receivedSum(counts), calls),
  ];
}

/**
 * Many routes, sequential calls each: nodes used per route and calls served per node. The load
 * ratios' bounds were set for the full workload's routes and widen over fewer (sampledBound).
 */
export function balanceChecks(
  bounds: Bounds,
  measured: { routes: number; nodesPerRoute: readonly number[]; loadPerNode: PerNode; calls: number },
): Check[] {
  const { nodesPerRoute, loadPerNode, calls } = measured;
  const loads = values(loadPerNode);
  const mean = loads.length === 0 ? 0 : sum(loads) / loads.length;
  const sample = { ideal: 1, samples: measured.routes, setFor: FULL_WORKLOAD.balance.routes };
  return [
    allSucceed(sum(loads), calls),
    atMost('most nodes used by one route', Math.max(0, ...nodesPerRoute), bounds.balanceMaxNodesPerRoute),
    atMost(
      'busiest node load / mean',
      mean === 0 ? Number.POSITIVE_INFINITY : Math.max(...loads) / mean,
      sampledBound(bounds.balanceMaxOverMean, { ...sample, op: '<=' }),
    ),
    atLeast(
      'idlest node load / mean',
      mean === 0 ? 0 : Math.min(...loads) / mean,
      sampledBound(bounds.balanceMinNodeShare, { ...sample, op: '>=' }),
    ),
  ];
}

/** A hot slow route under many callers: nodes that served it. */
export function spillChecks(bounds: Bounds, callsPerNode: PerNode, calls: number): Check[] {
  const used = nodesUsed(callsPerNode);
  return [
    atLeast('nodes serving the hot route', used, bounds.spillMinNodes),
    atMost('nodes serving the hot route', used, bounds.spillMaxNodes),
    allSucceed(sum(values(callsPerNode)), calls),
  ];
}

/** A node killed mid-run: failures overall (bounded by the calls it had in flight) and after it was marked down. */
export function failoverChecks(
  bounds: Bounds,
  measured: {
    failed: number;
    inFlightOnKilledNode: number;
    failedAfterMarkedDown: number;
  },
): Check[] {
  return [
    atMost(
      'failed calls',
      measured.failed,
      required(measured.inFlightOnKilledNode, 'only the calls in flight on the killed node may fail'),
    ),
    atMost(
      'failed calls after the node was marked down',
      measured.failedAfterMarkedDown,
      bounds.failoverMaxAfterDown,
    ),
  ];
}

/**
 * A node frozen mid-run (SIGSTOP, docker pause): it answers nothing and closes nothing, so only a
 * health check with a timeout notices. Failures bounded by the calls it had and was sent until the
 * balancer took it out, none after; taken out within a few health intervals; and once thawed it gets
 * exactly its routes back.
 */
export function frozenChecks(
  bounds: Bounds,
  measured: {
    failed: number;
    /** Calls in flight on it at the freeze, and calls of its routes sent to it until it was taken out. */
    onFrozenNode: number;
    failedAfterTakenOut: number;
    /** Health intervals from the freeze until the balancer took it out. */
    intervalsUntilOut: number;
    /** Calls of its routes that failed when called again, still frozen, past the upstream timeout. */
    failedWhileStillFrozen: number;
    /** Routes on another node than before the freeze, once it was thawed and back. */
    wrongPlacements: number;
    frozenRoutes: number;
  },
): Check[] {
  return [
    atMost(
      'failed calls',
      measured.failed,
      required(
        measured.onFrozenNode,
        'only the calls that were on the frozen node, or sent to it before it was taken out, may fail',
      ),
    ),
    atMost(
      'failed calls after the node was taken out',
      measured.failedAfterTakenOut,
      bounds.failoverMaxAfterDown,
    ),
    atMost(
      'health intervals until the frozen node was taken out',
      measured.intervalsUntilOut,
      bounds.frozenMaxIntervals,
    ),
    atMost(
      'calls of its routes that failed past the upstream timeout, the node still frozen',
      measured.failedWhileStillFrozen,
      required(
        0,
        'a frozen node stays out: a balancer that went round it only while its hung calls filled it sends it calls again once they time out',
      ),
    ),
    atMost(
      'routes not on their node before the freeze, once it was thawed',
      measured.wrongPlacements,
      required(0, 'a node that answers again gets exactly its own routes back'),
    ),
    atLeast(
      'routes of the frozen node',
      measured.frozenRoutes,
      required(1, 'the frozen node must have had routes, or nothing was tested'),
    ),
  ];
}

/** A node stopped with SIGTERM mid-run: it drains, so no call may fail. */
export function gracefulStopChecks(
  bounds: Bounds,
  measured: { failed: number; servedByStopped: number },
): Check[] {
  return [
    atMost('failed calls', measured.failed, bounds.gracefulMaxFailed),
    atLeast(
      'calls the stopped node served before it stopped',
      measured.servedByStopped,
      required(1, 'the stopped node must have carried load, or nothing was tested'),
    ),
  ];
}

/** A killed node started again: how long until its routes came back, and whether only they moved. */
export function recoveryChecks(
  bounds: Bounds,
  measured: {
    intervalsUntilBack: number;
    wrongPlacements: number;
    victimRoutes: number;
  },
): Check[] {
  return [
    atMost(
      'health intervals until its routes were back',
      measured.intervalsUntilBack,
      bounds.recoveryMaxIntervals,
    ),
    atMost(
      'routes not on their node before the kill',
      measured.wrongPlacements,
      required(0, 'consistent hashing gives a node that comes back exactly its own routes'),
    ),
    atLeast(
      'routes of the killed node',
      measured.victimRoutes,
      required(1, 'the killed node must have had routes'),
    ),
  ];
}

/**
 * A bound set for a share or ratio measured over `setFor` samples (routes, keys), applied to one
 * measured over `samples`: its margin from the ideal value keeps the same number of standard
 * deviations of the measure, which grow by sqrt(setFor / samples) over fewer samples, so an ideal
 * balancer fails it as rarely as over `setFor` (membership's 1/6 + 0.05 over 1000 routes is about
 * 4.2 deviations; balance's 1.5 and 0.5 of the mean over 500 routes about 5.6). A bound on the wrong
 * side of the ideal (it could never hold), or measured over as many samples, is left as it is.
 */
export function sampledBound(
  threshold: Threshold,
  sample: { ideal: number; op: Check['op']; samples: number; setFor: number },
): Threshold {
  const margin = threshold.value - sample.ideal;
  const wide = sample.op === '<=' ? margin > 0 : margin < 0;
  if (sample.samples >= sample.setFor || sample.samples <= 0 || !wide) return threshold;
  const allowance = margin * (Math.sqrt(sample.setFor / sample.samples) - 1);
  return {
    ...threshold,
    value: threshold.value + allowance,
    reason: `${threshold.reason}; ${allowance > 0 ? '+' : ''}${allowance.toFixed(3)} for measuring ${sample.samples} routes, not ${sample.setFor}`,
  };
}

/** The number of routes the membership bound was set for: the share moved varies less over more. */
export const MEMBERSHIP_ROUTES = FULL_WORKLOAD.placement.keys;

/** A node added: the share of routes whose node changed, and where they went. */
export function membershipAddChecks(
  bounds: Bounds,
  moved: number,
  routes: number,
  movedElsewhere = 0,
): Check[] {
  return [
    atMost(
      'share of routes moved',
      moved / routes,
      sampledBound(bounds.membershipAddMaxMoved, {
        ideal: 1 / 6,
        op: '<=',
        samples: routes,
        setFor: MEMBERSHIP_ROUTES,
      }),
    ),
    atLeast(
      'routes moved to the new node',
      moved - movedElsewhere,
      required(1, 'the new node must take some routes, or it is unused'),
    ),
    atMost(
      'routes moved between old nodes',
      movedElsewhere,
      required(0, 'a new node takes routes only onto itself: the others keep theirs'),
    ),
  ];
}

/** A node the balancer found by itself (DNS): how many of its DNS intervals it took to serve it. */
export function discoveryChecks(bounds: Bounds, onlineAfterMs: number, dnsIntervalS: number): Check[] {
  return [
    atMost(
      'DNS intervals until the new node was online',
      onlineAfterMs / (dnsIntervalS * 1000),
      bounds.discoveryMaxIntervals,
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

/**
 * A hot route straight to its node and through the balancer, paired: the milliseconds the balancer
 * added at the 50th and 99th percentiles, every call answered, and the balancer's calls on that node.
 */
export function overheadChecks(
  bounds: Bounds,
  measured: {
    concurrency: number;
    addedP50Ms: number;
    addedP99Ms: number;
    calls: number;
    succeeded: number;
    elsewhere: number;
  },
): Check[] {
  const at = `at ${measured.concurrency} caller${measured.concurrency === 1 ? '' : 's'}`;
  return [
    atMost(`ms added to the median call ${at}`, measured.addedP50Ms, bounds.overheadP50Ms),
    atMost(`ms added to the 99th percentile call ${at}`, measured.addedP99Ms, bounds.overheadP99Ms),
    allSucceed(measured.succeeded, measured.calls),
    atMost(
      `calls through the balancer served by another node ${at}`,
      measured.elsewhere,
      required(0, 'the comparison is with the route’s own node: a hot route under light load stays there'),
    ),
  ];
}

/** Executions the nodes counted for calls made through the balancer. */
export function exactlyOnceChecks(what: string, measured: { calls: number; executions: number }): Check[] {
  return [
    atMost(
      `executions of ${what}`,
      measured.executions,
      required(measured.calls, 'a call that reached a function must not run again on another node'),
    ),
    atLeast(
      `executions of ${what}`,
      measured.executions,
      required(measured.calls, 'every call must run once'),
    ),
  ];
}
