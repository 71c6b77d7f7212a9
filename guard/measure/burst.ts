// A burst of concurrent calls to a fresh cold route, for the node properties herd and scale-out: what
// each node received (by the nodes' own word), what each started (node-counters.ts), and, where the
// nodes serve /stats, the launch policy's averages for the context of a failure.
import type { SuiteFile } from '../engine/suite-file.js';
import { type RouteCounters, routeCounters } from './node-counters.js';

export interface Burst {
  counters: RouteCounters;
  calls: number;
  context: string[];
}

export async function burst(suite: SuiteFile, path: string, ms: number, calls: number): Promise<Burst> {
  // A short idle timeout hands the burst's containers' memory back soon after the test.
  const lostBefore = suite.engine?.lost ?? 0;
  await suite.createRoute({ path, image: suite.image('sleep'), format: 'http', idle_timeout: 5 });
  const { records } = await suite.drive([path], calls, calls, `?ms=${ms}`);
  const counters = await routeCounters(suite, path, records, lostBefore);
  const ewmas = suite.info.capabilities.nodeStats
    ? [
        'EWMAs per node:',
        ...[...(await suite.stats())].map(([node, nodeStats]) => {
          const route = nodeStats.routes[`${suite.app}${path}`];
          return `${node}: run ${route?.run_ms_ewma.toFixed(1)} ms, start ${route?.start_ms_ewma.toFixed(1)} ms`;
        }),
      ]
    : [];
  const failed = records.filter((record) => !record.ok);
  const unnamed = records.filter((record) => record.ok && record.node === null);
  return {
    counters,
    calls,
    context: [
      `per node (received, started, hot), from ${counters.source}: ${JSON.stringify(counters.counts)}`,
      ...counters.context,
      ...ewmas,
      ...(failed[0] ? [`first failure: ${failed[0].status} ${failed[0].error} ${failed[0].body}`] : []),
      ...(unnamed.length > 0
        ? [`${unnamed.length} calls answered ${unnamed[0]?.status} naming no node of the topology`]
        : []),
    ],
  };
}
