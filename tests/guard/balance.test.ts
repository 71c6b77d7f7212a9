// Balance (balancer): 500 routes with 4 sequential calls each (200 x 2 at quick scale), through the balancer. Every route must
// stay on one node, and the routes must spread evenly: no node far above the mean (historic jump hash
// gave its busiest node 2.5x) and none idle. Always-one-node and round-robin both fail here.
import { describe, inject } from 'vitest';
import { balanceChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { callsPerNode, nodesPerRoute } from '../../guard/engine/suite-file.js';
import { distributionOf } from '../../guard/report/figures.js';

/** Well under fnlb's floor of 8 in flight per node, so every call may stay on its home node. */
const CONCURRENCY = 8;
const guard = guardProperty('balance');
const { routes: ROUTES, callsEach: CALLS_EACH } = guard.workload.balance;
const paths = Array.from({ length: ROUTES }, (_, index) => `/balance-${String(index).padStart(4, '0')}`);
/**
 * The test's time budget (a timeout, not a bound): 500 cold starts take about 25 s of processes, and a
 * Docker container's start about 0.35 s alone, about 6 per second with 8 at once on 2 cores (143 s
 * measured for the whole test); the balanceBudgetMs setting overrides it.
 */
const budgetMs =
  guard.settings.balanceBudgetMs ?? (inject('topology').kind === 'processes' ? 120_000 : 360_000);

describe(`${ROUTES} routes x ${CALLS_EACH} sequential calls`, () => {
  guard.test(
    'keep each route on one node and spread the routes evenly over every node',
    async ({ suite, judge, draw, bounds }) => {
      // Small, short-lived containers: 500 of them would otherwise sit idle for 30 s each.
      await suite.createRoutes(
        paths.map((path) => ({
          path,
          image: suite.image('sleep'),
          format: 'http',
          memory: 64,
          idle_timeout: 2,
        })),
      );
      const records = await suite.callEachRoute(paths, CALLS_EACH, CONCURRENCY);
      const failed = records.filter((record) => !record.ok);
      const perRoute = [...nodesPerRoute(records).values()].map((nodes) => nodes.size);
      const perNode = callsPerNode(records, suite.nodes);
      const ranked = Object.entries(perNode).sort(([, a], [, b]) => a - b);
      const routesSpread = new Map<string, number>();
      for (const nodes of perRoute) {
        const key = `${nodes} node${nodes === 1 ? '' : 's'}`;
        routesSpread.set(key, (routesSpread.get(key) ?? 0) + 1);
      }
      draw({
        distributions: [
          distributionOf('calls per node', 'calls', perNode),
          distributionOf('nodes per route', 'routes', routesSpread),
        ],
      });
      const [idlest, busiest] = [ranked[0], ranked.at(-1)];
      judge(
        balanceChecks(bounds, {
          routes: ROUTES,
          nodesPerRoute: perRoute,
          loadPerNode: perNode,
          calls: ROUTES * CALLS_EACH,
        }),
        [
          `calls per node: ${JSON.stringify(perNode)}`,
          ...(idlest && busiest
            ? [`idlest node ${idlest[0]}: ${idlest[1]} calls; busiest ${busiest[0]}: ${busiest[1]} calls`]
            : []),
          `failed calls: ${failed.length}${failed[0] ? ` (first: ${failed[0].status} ${failed[0].error} ${failed[0].body})` : ''}`,
        ],
      );
    },
    { timeout: budgetMs },
  );
});
