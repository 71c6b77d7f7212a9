// Per node, for one of a file's routes: the calls it received (by the nodes' own word, from the
// calls' records), the containers it started and the calls it answered hot. Counted by the node
// itself (GET /stats) where it serves per-route counters, and by the Docker engine (engine-watch.ts)
// where its functions run as containers the suite can see; hot calls are then derived: every call
// a node received beyond the containers it started found one already running. With both, the node's
// own counts are used and must agree with the engine's: a node that under-reports is itself a finding.
// Engine counts with containers lost (made, but not attributable to a route and node) are lower bounds (checks.ts decides what such
// a count can still show).
import type { CallRecord } from '../../src/harness/drive.js';
import { atMost, type Check, type NodeRouteCounts, required } from '../engine/checks.js';
import { callsPerNode, type SuiteFile } from '../engine/suite-file.js';

/** Where per-node counts came from: the nodes' /stats, the engine (how it was watched), or both. */
export type CounterSource = string;
const STATS = 'the nodes’ /stats';

export interface RouteCounters {
  counts: Record<string, NodeRouteCounts>;
  source: CounterSource;
  /** With both sources: each node's own count of starts against the engine's (node checks). */
  agreement: Check[];
  context: string[];
  /** Why per-node counts cannot be had here; the test skips with it. */
  unmeasurable?: string;
}

/** Containers per node address as the engine saw them, or why they cannot be told apart by node. */
async function engineStarts(
  suite: SuiteFile,
  route: string,
  lostBefore: number,
): Promise<{ started: Record<string, number>; lost: number } | { unmeasurable: string; measured: string[] }> {
  const engine = suite.engine;
  if (engine === undefined) return { unmeasurable: 'no engine to watch', measured: [] };
  const untrusted = await engine.settle();
  // Whatever the reason, what was counted is reported beside it.
  const measured = [
    `containers of ${route} counted from ${engine.source}: ${engine.containersOf(route).length}; lost since the calls began: ${engine.lost - lostBefore}`,
  ];
  if (untrusted !== undefined) return { unmeasurable: untrusted, measured };
  const started: Record<string, number> = Object.fromEntries(suite.nodes.map((node) => [node, 0]));
  const unclaimed = new Set<string>();
  for (const container of engine.containersOf(route)) {
    const node = suite.directory.addressOf(container.hostname);
    if (node === undefined) unclaimed.add(container.hostname);
    else started[node] = (started[node] ?? 0) + 1;
  }
  if (unclaimed.size > 0) {
    return {
      unmeasurable: `the engine ran containers of ${route} as ${[...unclaimed].join(', ')}, which no node answered as: cannot tell which node started them`,
      measured,
    };
  }
  return { started, lost: engine.lost - lostBefore };
}

/**
 * The route's counts per node. `lostBefore` is the engine's lost count before the route's calls
 * (`suite.engine?.lost`): only containers lost since can be the route's.
 */
export async function routeCounters(
  suite: SuiteFile,
  path: string,
  records: readonly CallRecord[],
  lostBefore = 0,
): Promise<RouteCounters> {
  const route = `${suite.app}${path}`;
  const engineSource = suite.engine?.source ?? 'the Docker engine';
  const received = callsPerNode(records, suite.nodes);
  const withStats = suite.info.capabilities.nodeStats;
  const engine = suite.info.capabilities.engineEvents
    ? await engineStarts(suite, route, lostBefore)
    : undefined;
  if (engine !== undefined && 'unmeasurable' in engine && !withStats) {
    return {
      counts: {},
      source: engineSource,
      agreement: [],
      context: [
        `calls received per node (the nodes' own word): ${JSON.stringify(received)}`,
        ...engine.measured,
      ],
      unmeasurable: engine.unmeasurable,
    };
  }
  const byEngine = engine !== undefined && 'started' in engine ? engine : undefined;
  const context: string[] = [];
  if (byEngine && byEngine.lost > 0 && withStats)
    context.push(`${byEngine.lost} containers were ${suite.engine?.lostMeans}`);
  if (engine !== undefined && 'unmeasurable' in engine) context.push(`engine: ${engine.unmeasurable}`);

  if (!withStats) {
    // A container lost to the count was started by some node: what was counted is
    // a lower bound, which still fails a node already over its maximum (a stampede loses the most).
    const startedAtLeast =
      byEngine && byEngine.lost > 0
        ? `${byEngine.lost} containers were ${suite.engine?.lostMeans}, so each node's count is a lower bound`
        : undefined;
    const started = byEngine?.started ?? {};
    const counts = Object.fromEntries(
      suite.nodes.map((node) => {
        const calls = received[node] ?? 0;
        const starts = started[node] ?? 0;
        const nodeCounts: NodeRouteCounts = {
          received: calls,
          started: starts,
          hot: Math.max(0, calls - starts),
        };
        return [node, startedAtLeast === undefined ? nodeCounts : { ...nodeCounts, startedAtLeast }];
      }),
    );
    context.push('hot calls derived: calls a node received beyond the containers it started');
    return { counts, source: engineSource, agreement: [], context };
  }

  const [started, hot] = await Promise.all([
    suite.routeCounter(path, 'containers_started'),
    suite.routeCounter(path, 'hot'),
  ]);
  const counts = Object.fromEntries(
    suite.nodes.map((node) => [
      node,
      { received: received[node] ?? 0, started: started[node] ?? 0, hot: hot[node] ?? 0 },
    ]),
  );
  if (!byEngine) return { counts, source: STATS, agreement: [], context };
  if (byEngine.lost > 0) {
    // The engine's count may be short: comparing it would blame a node for the watch's gap.
    context.push('the nodes’ /stats were not checked against the engine: it lost containers');
    return { counts, source: STATS, agreement: [], context };
  }
  const agreement = suite.nodes
    .filter((node) => (started[node] ?? 0) > 0 || (byEngine.started[node] ?? 0) > 0)
    .map((node) =>
      atMost(
        `containers started on ${node}: its /stats against the engine's count, difference`,
        Math.abs((started[node] ?? 0) - (byEngine.started[node] ?? 0)),
        required(0, 'a node’s own counters must match the containers the engine ran for it'),
      ),
    );
  context.push(`engine saw starts per node: ${JSON.stringify(byEngine.started)}`);
  return {
    counts,
    source: `${STATS}, checked against ${engineSource}`,
    agreement,
    context,
  };
}
