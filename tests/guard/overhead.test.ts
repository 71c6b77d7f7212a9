// Overhead (balancer): what the balancer adds to a hot 1 ms call, against the same call sent straight
// to the route's node in the same moment (guard/measure/overhead.ts: each caller alternates the two),
// at the 50th and 99th percentiles, one caller and eight. A balancer change that adds milliseconds to
// every call fails the absolute bound, or, within it, the comparison with a baseline run (latency is
// compared by default, with a tolerance in milliseconds). The calls through the balancer must reach
// the route's own node (at eight callers, fnlb's floor of 8 in flight keeps them there), or the
// comparison would be with another node's containers.
import { describe } from 'vitest';
import { overheadChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { homes, loadWithFault } from '../../guard/measure/load.js';
import { addedMs, pairedLatency } from '../../guard/measure/overhead.js';
import { percentile } from '../../src/harness/stats.js';

const CONCURRENCIES = [1, 8] as const;
const QUERY = '?ms=1';
const guard = guardProperty('overhead');

describe('a hot 1 ms route, straight to its node and through the balancer', () => {
  guard.test(
    'the balancer adds little to the median and the 99th percentile call',
    async ({ suite, judge, skip, bounds, workload }) => {
      await suite.createRoute({ path: '/overhead', image: suite.image('sleep'), format: 'http' });
      const route = suite.invokePath('/overhead');
      // Its node, and hot containers for eight callers there: warmed straight at the node.
      const placed = await loadWithFault(suite, [route], { calls: 5, concurrency: 1, query: QUERY });
      const home = homes(placed.calls).get(route);
      if (home === undefined) skip(`the route could not be placed: ${placed.calls[0]?.error ?? 'no answer'}`);
      const node = home as string;
      await pairedLatency(suite, node, '/overhead', QUERY, 40, 8);
      const measured = [];
      for (const concurrency of CONCURRENCIES) {
        measured.push(
          await pairedLatency(suite, node, '/overhead', QUERY, workload.overhead.callsEach, concurrency),
        );
      }
      const percentiles = (sorted: number[]) =>
        sorted.length === 0
          ? 'no call'
          : `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`;
      judge(
        measured.flatMap((run) =>
          overheadChecks(bounds, {
            concurrency: run.concurrency,
            addedP50Ms: addedMs(run, 50),
            addedP99Ms: addedMs(run, 99),
            calls: 2 * workload.overhead.callsEach,
            succeeded: run.direct.length + run.through.length,
            elsewhere: run.elsewhere,
          }),
        ),
        [
          `route on ${node}`,
          ...measured.map(
            (run) =>
              `${run.concurrency} caller(s): straight ${percentiles(run.direct)}, through the balancer ${percentiles(run.through)}; ${run.failed} failed, ${run.elsewhere} served elsewhere`,
          ),
        ],
      );
    },
  );
});
