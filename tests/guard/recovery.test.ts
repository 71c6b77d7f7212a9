// Recovery (balancer): a node killed, then started again, gets exactly its own routes back, and soon:
// within 3 of the balancer's health intervals from the moment it answers again. While it is down its
// routes are served by the others. Placement is measured on 1000 unrouted paths, or where their
// answers name no node on 100 routes made for it (200 and 50 at quick scale: guard/measure/placement.ts).
import { describe } from 'vitest';
import { recoveryChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import {
  countByNode,
  PLACEMENT_TEST_TIMEOUT_MS,
  placement,
  placementKeys,
  placementUnmeasurable,
  referencePlacement,
} from '../../guard/measure/placement.js';
import { distributionOf } from '../../guard/report/figures.js';
import { tryWaitUntil, waitUntil } from '../../helpers/wait.js';

const POLL_MS = 100;
const guard = guardProperty('recovery');

describe('a killed node started again', () => {
  guard.test(
    'gets exactly its own routes back within 3 health intervals',
    async ({ suite, info, faults, judge, draw, skip, bounds }) => {
      const intervalS = info.balancer.hcIntervalS;
      if (intervalS === undefined) {
        skip(
          "the balancer's health interval is unknown (its command takes no {hc_interval}; external: set FN_LB_HC_INTERVAL)",
        );
      }
      const { keys, before } = await referencePlacement(
        suite,
        await placementKeys(suite, 'recover', guard.workload.placement),
      );
      const paths = keys.paths;
      const unmeasurable = placementUnmeasurable(before, keys);
      if (unmeasurable) skip(unmeasurable);
      const victim = [...countByNode(before.nodeOf)].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
      const victimPaths = paths.filter((path) => before.nodeOf.get(path) === victim);

      await faults.kill(victim);
      let whileDown = before;
      await waitUntil(
        `${victim}'s routes to be served by other nodes`,
        async () => {
          whileDown = await placement(suite, keys, { only: victimPaths });
          return (
            whileDown.failures.size === 0 &&
            victimPaths.every((path) => whileDown.nodeOf.get(path) !== victim)
          );
        },
        30_000,
        POLL_MS,
      );
      await faults.start(victim);
      const budgetMs = 10 * (intervalS as number) * 1000;
      // Poll one of the killed node's paths, a call at a time, each timed from when it was sent: the
      // call that lands on the node back may start a container there (routes made for placement),
      // which is the node's time, not the balancer's. Every path is checked once it is back.
      const probe = victimPaths[0] as string;
      const backFrom = performance.now();
      let msUntilBack = Number.POSITIVE_INFINITY;
      const probeBack = async () => {
        const sentAt = performance.now();
        const now = await placement(suite, keys, { only: [probe], retry: false });
        if (now.nodeOf.get(probe) !== victim) return false;
        msUntilBack = sentAt - backFrom;
        return true;
      };
      await tryWaitUntil("the killed node's routes back on it", probeBack, budgetMs, POLL_MS);
      const after = await placement(suite, keys);
      const wrong = paths.filter((path) => after.nodeOf.get(path) !== before.nodeOf.get(path));
      draw({
        distributions: [
          distributionOf('routes per node before the kill', 'routes', countByNode(before.nodeOf)),
          distributionOf(
            `${victim}'s routes per node while it was down`,
            'routes',
            countByNode(whileDown.nodeOf),
          ),
          distributionOf('routes per node after it came back', 'routes', countByNode(after.nodeOf)),
        ],
      });
      judge(
        recoveryChecks(bounds, {
          intervalsUntilBack: msUntilBack / 1000 / (intervalS as number),
          wrongPlacements: wrong.length,
          victimRoutes: victimPaths.length,
        }),
        [
          `placed: ${keys.description}`,
          `killed ${victim} with ${victimPaths.length} of ${paths.length} routes; health interval ${intervalS} s (bound ${bounds.recoveryMaxIntervals.value} intervals)`,
          ...wrong
            .slice(0, 5)
            .map(
              (path) =>
                `${path}: was on ${before.nodeOf.get(path)}, now ${after.nodeOf.get(path) ?? after.failures.get(path)}`,
            ),
        ],
      );
    },
    { timeout: PLACEMENT_TEST_TIMEOUT_MS },
  );
});
