// Membership (balancer): a 6th node joining 5 takes at most 1/6 + 5% of 1000 routes, every one of them
// onto itself; taking it out again gives each route its old node; and removing one of the five moves
// only that node's routes. The 6th node joins through fnlb's management API, or, where the balancer
// discovers nodes itself (DNS: the swarm topology scales the service), by itself within 2 DNS
// intervals of being listed there. Placement is measured on 1000 unrouted paths, which cost no
// containers, or where their answers name no node on 100 routes made for it (200 and 50 at quick
// scale, the bound on the share moved widened for fewer: guard/engine/checks.ts, sampledBound).
import { describe } from 'vitest';
import { discoveryChecks, membershipAddChecks, membershipRemoveChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import {
  countByNode,
  PLACEMENT_TEST_TIMEOUT_MS,
  placement,
  placementFailures,
  placementKeys,
  placementUnmeasurable,
  referencePlacement,
} from '../../guard/measure/placement.js';
import { distributionOf } from '../../guard/report/figures.js';
import { LbManagement } from '../../guard/topology/lb-management.js';

const ONLINE_TIMEOUT_MS = 30_000;
const guard = guardProperty('membership');
const KEYS = guard.workload.placement;

describe(`membership changes over ${KEYS.keys} routes`, () => {
  guard.test(
    'a 6th node takes about 1/6 of the routes, all onto itself, and gives them back when removed',
    async ({ suite, info, faults, judge, draw, skip, bounds }) => {
      const { keys, before } = await referencePlacement(suite, await placementKeys(suite, 'member', KEYS));
      const paths = keys.paths;
      const unmeasurable = placementUnmeasurable(before, keys);
      if (unmeasurable) skip(unmeasurable);
      const mgmt = new LbManagement(info);
      const discovers = info.capabilities.discover;
      const dnsIntervalS = info.balancer.dnsIntervalS;
      if (discovers && dnsIntervalS === undefined) skip("the balancer's DNS interval is unknown");
      const sixth = await faults.add();
      // From when the balancer could find it, where the topology knows (Swarm: its health check passed
      // and DNS lists it), else from now; wall clock, as the engine's health log records it.
      const findable = sixth.findableAt ?? Date.now();
      let inBalancer = discovers;
      let discarded = false;
      try {
        await suite.addNode(sixth.address, sixth.url);
        if (!discovers) {
          await mgmt.add(sixth.address);
          inBalancer = true;
        }
        if (discovers) {
          // A balancer that never finds it fails the discovery check, with the wait as its measure.
          const found = await mgmt.waitOnline([sixth.address], ONLINE_TIMEOUT_MS).then(
            () => true,
            () => false,
          );
          if (!found) {
            judge(discoveryChecks(bounds, Date.now() - findable, dnsIntervalS as number), [
              `${sixth.address} not online at the balancer ${ONLINE_TIMEOUT_MS} ms after the topology had it serving and listed in DNS`,
            ]);
            throw new Error(`${sixth.address} never came online at the balancer, whatever the bound`);
          }
        } else {
          await mgmt.waitOnline([sixth.address], ONLINE_TIMEOUT_MS);
        }
        const onlineAfterMs = Date.now() - findable;
        const withSixth = await placement(suite, keys);
        const moved = paths.filter((path) => withSixth.nodeOf.get(path) !== before.nodeOf.get(path));
        const elsewhere = moved.filter((path) => withSixth.nodeOf.get(path) !== sixth.address);
        if (discovers) {
          // The balancer lets go of it by itself too, once the topology has taken it away.
          discarded = true;
          await faults.discard(sixth.address);
          await mgmt.waitGone([sixth.address], ONLINE_TIMEOUT_MS);
        } else {
          await mgmt.remove(sixth.address);
        }
        inBalancer = false;
        const after = await placement(suite, keys);
        const notBack = paths.filter((path) => after.nodeOf.get(path) !== before.nodeOf.get(path));
        draw({
          distributions: [
            distributionOf('routes per node before', 'routes', countByNode(before.nodeOf)),
            distributionOf(`routes per node with ${sixth.address}`, 'routes', countByNode(withSixth.nodeOf)),
            distributionOf('routes per node after it left', 'routes', countByNode(after.nodeOf)),
          ],
        });
        judge(
          [
            ...membershipAddChecks(bounds, moved.length, paths.length, elsewhere.length),
            ...(discovers ? discoveryChecks(bounds, onlineAfterMs, dnsIntervalS as number) : []),
            ...membershipRemoveChecks({ movedFromOtherNodes: notBack.length, orphaned: after.failures.size }),
          ],
          [
            `placed: ${keys.description}`,
            `routes per node before: ${JSON.stringify(Object.fromEntries(countByNode(before.nodeOf)))}`,
            `with ${sixth.address}: ${JSON.stringify(Object.fromEntries(countByNode(withSixth.nodeOf)))}`,
            discovers
              ? `${sixth.address} joined by itself (DNS every ${dnsIntervalS} s), online ${Math.round(onlineAfterMs)} ms after ${sixth.findableAt ? 'its health check passed (listed in DNS)' : 'it served'}`
              : `${sixth.address} joined through the management API`,
            ...elsewhere
              .slice(0, 5)
              .map((path) => `${path}: ${before.nodeOf.get(path)} -> ${withSixth.nodeOf.get(path)}`),
            ...placementFailures(after),
          ],
        );
      } finally {
        // Never leave the balancer with a node about to be discarded, whatever failed above.
        if (inBalancer && !discovers) await mgmt.remove(sixth.address).catch(() => {});
        if (!discarded) await faults.discard(sixth.address);
        suite.forgetNode(sixth.address);
      }
    },
    { needs: ['add'], timeout: PLACEMENT_TEST_TIMEOUT_MS },
  );

  guard.test(
    'removing a node moves only its routes',
    async ({ suite, info, judge, draw, skip }) => {
      const { keys, before } = await referencePlacement(suite, await placementKeys(suite, 'leave', KEYS));
      const paths = keys.paths;
      const unmeasurable = placementUnmeasurable(before, keys);
      if (unmeasurable) skip(unmeasurable);
      const mgmt = new LbManagement(info);
      const removed = suite.nodes[suite.nodes.length - 1] as string;
      await mgmt.remove(removed);
      try {
        const after = await placement(suite, keys);
        const movedFromOtherNodes = paths.filter(
          (path) => before.nodeOf.get(path) !== removed && after.nodeOf.get(path) !== before.nodeOf.get(path),
        ).length;
        const orphaned = paths.filter(
          (path) => before.nodeOf.get(path) === removed && (after.nodeOf.get(path) ?? removed) === removed,
        ).length;
        draw({
          distributions: [
            distributionOf('routes per node before', 'routes', countByNode(before.nodeOf)),
            distributionOf(`routes per node without ${removed}`, 'routes', countByNode(after.nodeOf)),
          ],
        });
        judge(membershipRemoveChecks({ movedFromOtherNodes, orphaned }), [
          `placed: ${keys.description}`,
          `removed ${removed}, which had ${countByNode(before.nodeOf).get(removed) ?? 0} routes`,
          ...placementFailures(after),
        ]);
      } finally {
        await mgmt.add(removed);
        await mgmt.waitOnline([removed], ONLINE_TIMEOUT_MS);
      }
    },
    { timeout: PLACEMENT_TEST_TIMEOUT_MS },
  );
});
