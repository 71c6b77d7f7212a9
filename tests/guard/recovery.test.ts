// Recovery (balancer): a node killed, then started again, gets exactly its own routes back, and soon:
// within 3 of the balancer's health intervals from the moment it answers again. While it is down its
// routes are served by the others. Placement is measured on 1000 unrouted paths, or where their
// answers name no node on 100 routes made for it (guard/measure/placement.ts).
import { describe } from 'vitest';
import { recoveryChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import {
  countByNode,
  type Placement,
  placement,
  placementKeys,
  placementUnmeasurable,
  referencePlacement,
} from '../../guard/measure/placement.js';
import { tryWaitUntil, waitUntil } from '../../helpers/wait.js';

const ROUTES = 1000;
const POLL_MS = 100;
const guard = guardProperty('recovery');

function sameAs(reference: Placement, now: Placement, paths: readonly string[]): number {
  return paths.filter((path) => now.nodeOf.get(path) === reference.nodeOf.get(path)).length;
}

describe('a killed node started again', () => {
  guard.test(
    'gets exactly its own routes back within 3 health intervals',
    async ({ suite, info, faults, judge, skip, bounds }) => {
      const intervalS = info.balancer.hcIntervalS;
      if (intervalS === undefined) {
        skip(
          "the balancer's health interval is unknown (its command takes no {hc_interval}; external: set FN_LB_HC_INTERVAL)",
        );
      }
      const { keys, before } = await referencePlacement(suite, await placementKeys(suite, 'recover', ROUTES));
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
      // Poll the killed node's own paths (a short pass, so the time measured is the balancer's, not ours),
      // then check every path once they are back.
      const backAll = async () =>
        sameAs(before, await placement(suite, keys, { only: victimPaths }), victimPaths) ===
        victimPaths.length;
      const msUntilBack =
        (await tryWaitUntil("the killed node's routes back on it", backAll, budgetMs, POLL_MS)) ??
        Number.POSITIVE_INFINITY;
      const after = await placement(suite, keys);
      const wrong = paths.filter((path) => after.nodeOf.get(path) !== before.nodeOf.get(path));
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
  );
});
