// Each threshold of the guard must fail on the distributions that a broken system produces (calls
// spread round-robin, one container per call, everything on one node, a serial runner) and pass on a
// healthy one: proof that no check is vacuous. Node checks must also pass where only the balancer is
// at fault (a burst piled on one node, sequential calls sprayed), so a failure blames the right part.
// tests/integration/guard-bite.test.ts shows the same on live, deliberately broken balancers.
import { describe, expect, it } from 'vitest';
import {
  balanceChecks,
  type Check,
  checkReport,
  discoveryChecks,
  exactlyOnceChecks,
  failedChecks,
  failoverChecks,
  frozenChecks,
  gracefulStopChecks,
  herdChecks,
  hotReuseChecks,
  membershipAddChecks,
  membershipRemoveChecks,
  type NodeRouteCounts,
  overheadChecks,
  pathVariantChecks,
  recoveryChecks,
  sampledBound,
  scaleOutChecks,
  spillChecks,
  stickinessChecks,
  undecided,
} from '../../guard/engine/checks.js';
import { resolveSettings } from '../../guard/settings/resolve.js';
import { Ring } from '../../src/lb/ring.js';

/** The table's bounds, as a run that sets none has them. */
const { bounds } = resolveSettings().settings;

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const perNode = (counts: number[]) =>
  Object.fromEntries(NODES.map((node, index) => [node, counts[index] ?? 0]));
/** Per node: [received, started, hot]. */
const routeCounts = (counts: Array<[number, number, number]>): Record<string, NodeRouteCounts> =>
  Object.fromEntries(
    NODES.map((node, index) => {
      const [received, started, hot] = counts[index] ?? [0, 0, 0];
      return [node, { received, started, hot }];
    }),
  );

function expectFails(checks: Check[], name: string) {
  expect(
    failedChecks(checks).map((check) => check.name),
    checkReport(checks),
  ).toContain(name);
}

function expectPasses(checks: Check[]) {
  expect(failedChecks(checks), checkReport(checks)).toEqual([]);
}

describe('recorded bad distributions fail the thresholds', () => {
  it('stickiness: round-robin spread fails, one node passes', () => {
    expectFails(stickinessChecks(bounds, perNode([20, 20, 20, 20, 20]), 100), 'nodes serving the route');
    expectFails(stickinessChecks(bounds, perNode([90]), 100), 'calls succeeded');
    expectPasses(stickinessChecks(bounds, perNode([0, 0, 100]), 100));
  });

  it('stickiness of spellings: a raw-path hash fails, the canonical path passes', () => {
    expectFails(
      pathVariantChecks({ variants: 40, elsewhere: 29, failed: 0 }),
      'path spellings served by another node than the route’s',
    );
    expectFails(pathVariantChecks({ variants: 40, elsewhere: 0, failed: 3 }), 'path spellings that failed');
    expectPasses(pathVariantChecks({ variants: 40, elsewhere: 0, failed: 0 }));
  });

  it('hot reuse: one container per call fails, one container per node that got calls passes', () => {
    const herd = hotReuseChecks(bounds, routeCounts([[100, 100, 0]]), 100);
    expectFails(herd, 'containers started on n1');
    expectFails(herd, 'calls answered cold on n1');
    expectFails(hotReuseChecks(bounds, routeCounts([[100, 0, 100]]), 100), 'containers started on n1');
    // Nothing received by any node (every call failed or none was attributed) judges nothing: it fails.
    expectFails(hotReuseChecks(bounds, routeCounts([[0, 0, 0]]), 100), 'calls succeeded');
    expectPasses(hotReuseChecks(bounds, routeCounts([[100, 1, 99]]), 100));
    // A round-robin balancer: each node got 20 sequential calls and reused its container. Not the nodes' fault.
    expectPasses(
      hotReuseChecks(
        bounds,
        routeCounts([
          [20, 1, 19],
          [20, 1, 19],
          [20, 1, 19],
          [20, 1, 19],
          [20, 1, 19],
        ]),
        100,
      ),
    );
  });

  it('herd: one container per call fails; judged by what each node received', () => {
    const herd = herdChecks(bounds, routeCounts([[100, 100, 0]]), 100);
    expectFails(herd, 'containers started on n1');
    expectFails(
      herdChecks(
        bounds,
        routeCounts([
          [20, 20, 0],
          [20, 4, 16],
        ]),
        100,
      ),
      'containers started on n1',
    );
    expectFails(herdChecks(bounds, routeCounts([[20, 2, 18]]), 100), 'calls succeeded');
    expectPasses(
      herdChecks(
        bounds,
        routeCounts([
          [50, 2, 48],
          [50, 1, 49],
        ]),
        100,
      ),
    );
    // A balancer piled the whole burst on one node, which started 5: the node did not stampede.
    expectPasses(herdChecks(bounds, routeCounts([[100, 5, 95]]), 100));
    // A node that got calls but started nothing: its count (or the engine's watch of it) missed them.
    expectFails(herdChecks(bounds, routeCounts([[100, 0, 100]]), 100), 'containers started on n1');
    // Every call answered 200 by something that names no node (Fn's runner answering its own error as
    // JSON): no node received a call, and that must not pass for want of a node to judge.
    expectFails(herdChecks(bounds, routeCounts([[0, 0, 0]]), 100), 'calls succeeded');
    expectFails(scaleOutChecks(bounds, routeCounts([[0, 0, 0]]), 100), 'calls succeeded');
  });

  it('scale-out: a serial runner fails, scaling out in proportion passes', () => {
    expectFails(
      scaleOutChecks(
        bounds,
        routeCounts([
          [50, 1, 49],
          [50, 1, 49],
        ]),
        100,
      ),
      'containers started on n1',
    );
    expectPasses(
      scaleOutChecks(
        bounds,
        routeCounts([
          [50, 8, 42],
          [50, 6, 44],
        ]),
        100,
      ),
    );
    expectFails(scaleOutChecks(bounds, routeCounts([[90, 30, 60]]), 100), 'calls succeeded');
  });

  const balance = (routes: number, nodesEach: number, loads: number[], calls: number) =>
    balanceChecks(bounds, {
      routes,
      nodesPerRoute: new Array(routes).fill(nodesEach),
      loadPerNode: perNode(loads),
      calls,
    });

  it('balance: everything on one node fails, round-robin fails, an even ring passes', () => {
    const oneNode = balance(500, 1, [2000], 2000);
    expectFails(oneNode, 'busiest node load / mean');
    expectFails(oneNode, 'idlest node load / mean');
    expectFails(balance(500, 4, [400, 400, 400, 400, 400], 2000), 'most nodes used by one route');
    expectFails(balance(500, 1, [1000, 250, 250, 250, 250], 2000), 'busiest node load / mean');
    expectPasses(balance(500, 1, [420, 380, 400, 410, 390], 2000));
    expectFails(balance(500, 1, [0, 0, 0, 0, 0], 2000), 'calls succeeded');
  });

  it('balance at quick scale (200 routes x 2): the same flaws fail the widened ratio bounds', () => {
    const quick = (loads: number[]) => balance(200, 1, loads, 400);
    const oneNode = quick([400]);
    expectFails(oneNode, 'busiest node load / mean');
    expectFails(oneNode, 'idlest node load / mean');
    // Round-robin: each route's two calls on two nodes.
    expectFails(balance(200, 2, [80, 80, 80, 80, 80], 400), 'most nodes used by one route');
    // Historic jump hash's busiest node at 2.5x the mean, and a node left idle.
    expectFails(quick([200, 50, 50, 50, 50]), 'busiest node load / mean');
    expectFails(quick([100, 100, 100, 100, 0]), 'idlest node load / mean');
    // An ideal ring's sampling spread over 200 routes is sqrt(200 x 1/5 x 4/5) = 5.7 routes a node:
    // loads 4.5 deviations out on both sides (the full bounds allow 5.6 over 500 routes) pass at quick
    // scale and would fail the bounds set for 500 routes.
    const spread = 4.5 * Math.sqrt(200 * 0.2 * 0.8) * 2;
    const sampled = [80 + spread, 80 - spread, 80, 80, 80];
    expectPasses(quick(sampled));
    expectFails(balance(500, 1, sampled, 400), 'busiest node load / mean');
    expectFails(balance(500, 1, sampled, 400), 'idlest node load / mean');
  });

  it('spill: one node fails, all five fail, two to four pass', () => {
    expectFails(spillChecks(bounds, perNode([320]), 320), 'nodes serving the hot route');
    expectFails(spillChecks(bounds, perNode([64, 64, 64, 64, 64]), 320), 'nodes serving the hot route');
    expectFails(spillChecks(bounds, perNode([200, 100]), 320), 'calls succeeded');
    expectPasses(spillChecks(bounds, perNode([200, 120]), 320));
  });

  it('failover: failures beyond the in-flight calls, or after marking down, fail', () => {
    expectFails(
      failoverChecks(bounds, { failed: 100, inFlightOnKilledNode: 8, failedAfterMarkedDown: 92 }),
      'failed calls',
    );
    expectFails(
      failoverChecks(bounds, { failed: 3, inFlightOnKilledNode: 8, failedAfterMarkedDown: 1 }),
      'failed calls after the node was marked down',
    );
    expectPasses(failoverChecks(bounds, { failed: 3, inFlightOnKilledNode: 8, failedAfterMarkedDown: 0 }));
  });

  it('graceful stop and recovery: a failed call, or a route that did not come back exactly, fails', () => {
    expectFails(gracefulStopChecks(bounds, { failed: 4, servedByStopped: 60 }), 'failed calls');
    expectFails(
      gracefulStopChecks(bounds, { failed: 0, servedByStopped: 0 }),
      'calls the stopped node served before it stopped',
    );
    expectPasses(gracefulStopChecks(bounds, { failed: 0, servedByStopped: 60 }));
    expectFails(
      recoveryChecks(bounds, { intervalsUntilBack: 9, wrongPlacements: 0, victimRoutes: 200 }),
      'health intervals until its routes were back',
    );
    expectFails(
      recoveryChecks(bounds, { intervalsUntilBack: 1, wrongPlacements: 80, victimRoutes: 200 }),
      'routes not on their node before the kill',
    );
    expectPasses(recoveryChecks(bounds, { intervalsUntilBack: 1.5, wrongPlacements: 0, victimRoutes: 200 }));
  });

  it('overhead: milliseconds added to every call fail, a balancer that adds little passes', () => {
    const run = (addedP50Ms: number, addedP99Ms: number, elsewhere = 0) =>
      overheadChecks(bounds, {
        concurrency: 1,
        addedP50Ms,
        addedP99Ms,
        calls: 600,
        succeeded: 600,
        elsewhere,
      });
    // The slow mutant's 5 ms on every call.
    expectFails(run(5.2, 6.1), 'ms added to the median call at 1 caller');
    expectFails(run(0.4, 40), 'ms added to the 99th percentile call at 1 caller');
    expectFails(run(0.4, 2, 3), 'calls through the balancer served by another node at 1 caller');
    expectPasses(run(0.4, 2.5));
    expectFails(
      overheadChecks(bounds, {
        concurrency: 8,
        addedP50Ms: 0.4,
        addedP99Ms: 2,
        calls: 600,
        succeeded: 590,
        elsewhere: 0,
      }),
      'calls succeeded',
    );
  });

  it('frozen: a node never taken out, failures beyond its calls, or routes moved after the thaw fail', () => {
    const frozen = (measured: Partial<Parameters<typeof frozenChecks>[1]>) =>
      frozenChecks(bounds, {
        failed: 6,
        onFrozenNode: 6,
        failedAfterTakenOut: 0,
        intervalsUntilOut: 1.4,
        failedWhileStillFrozen: 0,
        wrongPlacements: 0,
        frozenRoutes: 8,
        ...measured,
      });
    expectPasses(frozen({}));
    // A health check without a timeout never notices: calls go on failing to the end of the load.
    expectFails(
      frozen({ intervalsUntilOut: 6, failed: 40, onFrozenNode: 40 }),
      'health intervals until the frozen node was taken out',
    );
    expectFails(frozen({ failed: 12 }), 'failed calls');
    // Gone round only by its bounded load: once the hung calls time out, the node gets calls again.
    expectFails(
      frozen({ failedWhileStillFrozen: 8 }),
      'calls of its routes that failed past the upstream timeout, the node still frozen',
    );
    expectFails(frozen({ failedAfterTakenOut: 2 }), 'failed calls after the node was taken out');
    expectFails(
      frozen({ wrongPlacements: 3 }),
      'routes not on their node before the freeze, once it was thawed',
    );
    expectFails(frozen({ frozenRoutes: 0 }), 'routes of the frozen node');
  });

  it('no duplicate execution: a retried call and a call never run both fail', () => {
    expectFails(
      exactlyOnceChecks('calls answering 503', { calls: 5, executions: 10 }),
      'executions of calls answering 503',
    );
    expectFails(
      exactlyOnceChecks('calls answering 503', { calls: 5, executions: 0 }),
      'executions of calls answering 503',
    );
    expectPasses(exactlyOnceChecks('calls answering 503', { calls: 5, executions: 5 }));
  });

  it('membership over fewer routes: the widened bound keeps an ideal ring passing as often as over 1000', () => {
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'].map((node) => `${node}:8080`);
    const before = new Ring(five, 160);
    const after = before.with('n6:8080');
    const widened = (samples: number) =>
      sampledBound(bounds.membershipAddMaxMoved, { ideal: 1 / 6, op: '<=', samples, setFor: 1000 });
    // 300 sets of 100 keys (fnlb's own ring): how often the share moved exceeds each bound.
    const shares = Array.from({ length: 300 }, (_, set) => {
      const keys = Array.from({ length: 100 }, (_, index) => `/t/app-${set}/key-${index}`);
      return keys.filter((key) => before.home(key) !== after.home(key)).length / keys.length;
    });
    const over = (bound: number) => shares.filter((share) => share > bound).length;
    expect(over(widened(100).value)).toBeLessThanOrEqual(3);
    // The bound set for 1000 routes would fail an ideal ring on 100 routes far more often.
    expect(over(bounds.membershipAddMaxMoved.value)).toBeGreaterThan(over(widened(100).value));
    expect(widened(1000)).toBe(bounds.membershipAddMaxMoved);
    // The same margin in standard deviations: 1/6 + 0.05 over 1000 routes is 1/6 + 0.05 * sqrt(10) over 100.
    expect(widened(100).value).toBeCloseTo(1 / 6 + 0.05 * Math.sqrt(10), 6);
    // A reshuffle (5/6 of the routes move) still fails the widened bound by far.
    expect(5 / 6).toBeGreaterThan(widened(100).value + 0.4);
  });

  it('a widened bound moves away from the ideal on its own side only, and never for a bound that cannot hold', () => {
    const threshold = bounds.balanceMinNodeShare;
    const lower = sampledBound(threshold, { ideal: 1, op: '>=', samples: 125, setFor: 500 });
    expect(lower.value).toBeCloseTo(1 - 0.5 * 2, 6);
    expect(lower.reason).toContain('measuring 125 routes, not 500');
    const impossible = { ...threshold, value: 1.2 };
    expect(sampledBound(impossible, { ideal: 1, op: '>=', samples: 125, setFor: 500 })).toBe(impossible);
    expect(sampledBound(threshold, { ideal: 1, op: '>=', samples: 0, setFor: 500 })).toBe(threshold);
  });

  it('membership: a reshuffle, an unused new node or moves between old nodes fail, about 1/6 passes', () => {
    expectFails(membershipAddChecks(bounds, 500, 1000), 'share of routes moved');
    expectFails(membershipAddChecks(bounds, 0, 1000), 'routes moved to the new node');
    expectFails(membershipAddChecks(bounds, 170, 1000, 20), 'routes moved between old nodes');
    expectPasses(membershipAddChecks(bounds, 170, 1000));
    // Over 100 routes (routes made for placement) the share varies more: the bound widens by the
    // extra spread, and a reshuffle still fails.
    expectPasses(membershipAddChecks(bounds, 28, 100));
    expectFails(membershipAddChecks(bounds, 35, 100), 'share of routes moved');
    expectFails(
      membershipRemoveChecks({ movedFromOtherNodes: 120, orphaned: 0 }),
      'routes moved that were not on the removed node',
    );
    expectPasses(membershipRemoveChecks({ movedFromOtherNodes: 0, orphaned: 0 }));
  });

  it('discovery: a node found later than 2 DNS intervals fails, one found after a read and a check passes', () => {
    expectFails(discoveryChecks(bounds, 5000, 2), 'DNS intervals until the new node was online');
    expectPasses(discoveryChecks(bounds, 3000, 2));
  });

  it('names the measured value, the bound and the reason in the report', () => {
    const report = checkReport(herdChecks(bounds, routeCounts([[100, 100, 0]]), 100));
    expect(report).toMatch(/^FAIL containers started on n1: measured 100, bound <= 10 \(.*herd.*\)$/m);
  });
});

describe('counts that are lower bounds (containers gone before the engine could say whose)', () => {
  const LOST = '8 containers were gone before the engine could be asked whose they were';
  /** Per node: [received, started], counted from the engine with LOST containers unattributed. */
  const lowerCounts = (counts: Array<[number, number]>): Record<string, NodeRouteCounts> =>
    Object.fromEntries(
      counts.map(([received, started], index) => [
        NODES[index] as string,
        { received, started, hot: Math.max(0, received - started), startedAtLeast: LOST },
      ]),
    );

  it('fail a maximum they already exceed: a stampede losing containers is still a stampede', () => {
    const checks = herdChecks(bounds, lowerCounts([[100, 37]]), 100);
    expectFails(checks, 'containers started on n1');
    expect(checkReport(checks)).toContain('measured at least 37, bound <= 10');
  });

  it('decide nothing within a maximum: neither a failure nor a pass', () => {
    const checks = herdChecks(bounds, lowerCounts([[100, 4]]), 100);
    expectPasses(checks);
    const open = checks.filter(undecided).map((check) => check.name);
    expect(open).toEqual(['containers started on n1']);
    expect(checkReport(checks)).toContain('??   containers started on n1: measured at least 4');
  });

  it('pass a minimum they already meet, and leave one they fall short of undecided', () => {
    const met = scaleOutChecks(bounds, lowerCounts([[100, 12]]), 100);
    expectPasses(met);
    expect(met.filter(undecided)).toEqual([]);
    const short = scaleOutChecks(bounds, lowerCounts([[100, 5]]), 100);
    expectPasses(short);
    expect(short.filter(undecided).map((check) => check.name)).toEqual(['containers started on n1']);
  });

  it('leave exact counts as they were: the same 4 containers pass', () => {
    const exact = herdChecks(bounds, routeCounts([[100, 4, 96]]), 100);
    expectPasses(exact);
    expect(exact.filter(undecided)).toEqual([]);
  });
});
