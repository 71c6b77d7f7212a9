// Membership (balancer), through fnlb's management API: a 6th node joining 5 takes at most 1/6 + 5% of
// 1000 routes, every one of them onto itself; taking it out again gives each route its old node; and
// removing one of the five moves only that node's routes. Placement is measured on unrouted paths
// (helpers/guard/placement.ts), so 1000 routes cost no containers.
import { describe } from 'vitest';
import { membershipAddChecks, membershipRemoveChecks } from '../../helpers/checks.js';
import { guardProperty } from '../../helpers/guard/guard.js';
import {
  countByNode,
  placement,
  placementUnmeasurable,
  unroutedPaths,
} from '../../helpers/guard/placement.js';
import { LbManagement } from '../../helpers/topology/lb-management.js';

const ROUTES = 1000;
const ONLINE_TIMEOUT_MS = 30_000;
const guard = guardProperty('membership');

describe('membership changes over 1000 routes', () => {
  guard.test(
    'a 6th node takes about 1/6 of the routes, all onto itself, and gives them back when removed',
    async ({ suite, info, faults, judge, skip }) => {
      const paths = unroutedPaths(suite, 'member', ROUTES);
      const before = await placement(suite, paths);
      const unmeasurable = placementUnmeasurable(before);
      if (unmeasurable) skip(unmeasurable);
      const mgmt = new LbManagement(info);
      const sixth = await faults.add();
      let inBalancer = false;
      try {
        await suite.addNode(sixth.address, sixth.url);
        await mgmt.add(sixth.address);
        inBalancer = true;
        await mgmt.waitOnline([sixth.address], ONLINE_TIMEOUT_MS);
        const withSixth = await placement(suite, paths);
        const moved = paths.filter((path) => withSixth.nodeOf.get(path) !== before.nodeOf.get(path));
        const elsewhere = moved.filter((path) => withSixth.nodeOf.get(path) !== sixth.address);
        await mgmt.remove(sixth.address);
        inBalancer = false;
        const after = await placement(suite, paths);
        const notBack = paths.filter((path) => after.nodeOf.get(path) !== before.nodeOf.get(path));
        judge(
          [
            ...membershipAddChecks(moved.length, ROUTES, elsewhere.length),
            ...membershipRemoveChecks({ movedFromOtherNodes: notBack.length, orphaned: after.failures.size }),
          ],
          [
            `routes per node before: ${JSON.stringify(Object.fromEntries(countByNode(before.nodeOf)))}`,
            `with ${sixth.address}: ${JSON.stringify(Object.fromEntries(countByNode(withSixth.nodeOf)))}`,
            ...elsewhere
              .slice(0, 5)
              .map((path) => `${path}: ${before.nodeOf.get(path)} -> ${withSixth.nodeOf.get(path)}`),
          ],
        );
      } finally {
        // Never leave the balancer with a node about to be discarded, whatever failed above.
        if (inBalancer) await mgmt.remove(sixth.address).catch(() => {});
        await faults.discard(sixth.address);
        suite.forgetNode(sixth.address);
      }
    },
    { needs: ['add'] },
  );

  guard.test('removing a node moves only its routes', async ({ suite, info, judge, skip }) => {
    const paths = unroutedPaths(suite, 'leave', ROUTES);
    const before = await placement(suite, paths);
    const unmeasurable = placementUnmeasurable(before);
    if (unmeasurable) skip(unmeasurable);
    const mgmt = new LbManagement(info);
    const removed = suite.nodes[suite.nodes.length - 1] as string;
    await mgmt.remove(removed);
    try {
      const after = await placement(suite, paths);
      const movedFromOtherNodes = paths.filter(
        (path) => before.nodeOf.get(path) !== removed && after.nodeOf.get(path) !== before.nodeOf.get(path),
      ).length;
      const orphaned = paths.filter(
        (path) => before.nodeOf.get(path) === removed && (after.nodeOf.get(path) ?? removed) === removed,
      ).length;
      judge(membershipRemoveChecks({ movedFromOtherNodes, orphaned }), [
        `removed ${removed}, which had ${countByNode(before.nodeOf).get(removed) ?? 0} routes`,
      ]);
    } finally {
      await mgmt.add(removed);
      await mgmt.waitOnline([removed], ONLINE_TIMEOUT_MS);
    }
  });
});
