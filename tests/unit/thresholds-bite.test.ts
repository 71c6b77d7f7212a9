// Each threshold of the integration suite must fail on the distributions that a broken system
// produces (calls spread round-robin, one container per call, everything on one node, a serial
// runner) and pass on a healthy one: proof that no check is vacuous.
import { describe, expect, it } from 'vitest';
import {
  balanceChecks,
  type Check,
  checkReport,
  failedChecks,
  failoverChecks,
  hotReuseChecks,
  membershipAddChecks,
  membershipRemoveChecks,
  scaleOutChecks,
  spillChecks,
  stampedeChecks,
  stickinessChecks,
} from '../../helpers/checks.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const perNode = (counts: number[]) =>
  Object.fromEntries(NODES.map((node, index) => [node, counts[index] ?? 0]));

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
    expectFails(stickinessChecks(perNode([20, 20, 20, 20, 20]), 100), 'nodes serving the route');
    expectFails(stickinessChecks(perNode([90]), 100), 'calls succeeded');
    expectPasses(stickinessChecks(perNode([0, 0, 100]), 100));
  });

  it('hot reuse: one container per call fails, one container passes', () => {
    expectFails(hotReuseChecks({ containersStarted: 100, hotCalls: 0 }), 'containers started in the cluster');
    expectFails(hotReuseChecks({ containersStarted: 100, hotCalls: 0 }), 'calls answered hot');
    expectFails(hotReuseChecks({ containersStarted: 0, hotCalls: 100 }), 'containers started in the cluster');
    expectPasses(hotReuseChecks({ containersStarted: 1, hotCalls: 99 }));
  });

  it('stampede: one container per call (the herd) fails, a few per node pass', () => {
    const herd = stampedeChecks(perNode([100]), 100, 100);
    expectFails(herd, 'containers started on the busiest node');
    expectFails(herd, 'containers started in the cluster');
    expectFails(stampedeChecks(perNode([3, 3, 3, 3]), 100, 100), 'containers started in the cluster');
    expectFails(stampedeChecks(perNode([2]), 97, 100), 'calls succeeded');
    expectPasses(stampedeChecks(perNode([2, 1]), 100, 100));
  });

  it('scale-out: a serial runner fails, scaling out passes', () => {
    expectFails(scaleOutChecks(perNode([1, 1]), 100, 100), 'containers started in the cluster');
    expectPasses(scaleOutChecks(perNode([8, 6]), 100, 100));
  });

  it('balance: everything on one node fails, round-robin fails, an even ring passes', () => {
    const oneNode = balanceChecks(new Array(500).fill(1), perNode([2000]), 2000);
    expectFails(oneNode, 'busiest node load / mean');
    expectFails(oneNode, 'idlest node load / mean');
    expectFails(
      balanceChecks(new Array(500).fill(4), perNode([400, 400, 400, 400, 400]), 2000),
      'most nodes used by one route',
    );
    expectFails(
      balanceChecks(new Array(500).fill(1), perNode([1000, 250, 250, 250, 250]), 2000),
      'busiest node load / mean',
    );
    expectPasses(balanceChecks(new Array(500).fill(1), perNode([420, 380, 400, 410, 390]), 2000));
    expectFails(balanceChecks(new Array(500).fill(1), perNode([0, 0, 0, 0, 0]), 2000), 'calls succeeded');
  });

  it('spill: one node fails, all five fail, two to four pass', () => {
    expectFails(spillChecks(perNode([320])), 'nodes serving the hot route');
    expectFails(spillChecks(perNode([64, 64, 64, 64, 64])), 'nodes serving the hot route');
    expectPasses(spillChecks(perNode([200, 120])));
  });

  it('failover: failures beyond the in-flight calls, or after marking down, fail', () => {
    expectFails(
      failoverChecks({ failed: 100, inFlightOnKilledNode: 8, failedAfterMarkedDown: 92 }),
      'failed calls',
    );
    expectFails(
      failoverChecks({ failed: 3, inFlightOnKilledNode: 8, failedAfterMarkedDown: 1 }),
      'failed calls after the node was marked down',
    );
    expectPasses(failoverChecks({ failed: 3, inFlightOnKilledNode: 8, failedAfterMarkedDown: 0 }));
  });

  it('membership: a reshuffle or an unused new node fails, about 1/6 passes', () => {
    expectFails(membershipAddChecks(500, 1000), 'share of routes moved');
    expectFails(membershipAddChecks(0, 1000), 'routes moved to the new node');
    expectPasses(membershipAddChecks(170, 1000));
    expectFails(
      membershipRemoveChecks({ movedFromOtherNodes: 120, orphaned: 0 }),
      'routes moved that were not on the removed node',
    );
    expectPasses(membershipRemoveChecks({ movedFromOtherNodes: 0, orphaned: 0 }));
  });

  it('names the measured value, the bound and the reason in the report', () => {
    const report = checkReport(stampedeChecks(perNode([100]), 100, 100));
    expect(report).toMatch(
      /^FAIL containers started on the busiest node: measured 100, bound <= 3 \(.*herd.*\)$/m,
    );
  });
});
