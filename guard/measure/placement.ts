// Where the balancer sends paths, measured black-box and cheaply: one call per path to routes that do
// not exist in the file's app. Where a balancer sends a path cannot depend on whether a route exists
// there (it cannot know), and the node answers 404 at once naming itself in its Fn-Node header, so
// 1000 routes cost a thousand 404s instead of a thousand cold containers. One call at a time, so the
// balancer's load cannot move a path: where it goes is its hash placement alone. (At eight at a time a
// bounded-load balancer without a floor, HAProxy's hash-balance-factor, was seen to move half of
// 1000 paths between two passes.)
import { forEachBounded } from '../../src/common/bounded.js';
import type { SuiteFile } from '../engine/suite-file.js';

export const PLACEMENT_CONCURRENCY = 1;

/** Paths of routes that do not exist: `/r/<app>/<prefix>-<i>` (v1), `/t/<app>/<prefix>-<i>` (v2). */
export function unroutedPaths(suite: SuiteFile, prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => suite.invokePath(`/${prefix}-${index}`));
}

export interface Placement {
  /** Path -> node address; a path the node did not name, or that failed, is missing. */
  nodeOf: Map<string, string>;
  /** Paths whose call failed twice (no answer, or not the node's 404), with what came back last. */
  failures: Map<string, string>;
  /** Paths that failed once and were placed on their second call. */
  recovered: number;
  /** Paths answered 404 but without a node name: the node build does not name itself. */
  anonymous: number;
}

/** Answers without a node name after which a placement stops: the nodes do not name themselves. */
const ANONYMOUS_PROBE = 20;

/**
 * Where each path goes. `retry` asks each failed path once more after the pass; a measurement that
 * must see a single failure (a connection an earlier request poisoned fails the next call on it)
 * turns it off.
 */
export async function placement(
  suite: SuiteFile,
  paths: readonly string[],
  { retry = true }: { retry?: boolean } = {},
): Promise<Placement> {
  const nodeOf = new Map<string, string>();
  const failures = new Map<string, string>();
  let anonymous = 0;
  const place = async (path: string): Promise<void> => {
    if (anonymous >= ANONYMOUS_PROBE && nodeOf.size === 0) return;
    try {
      const answer = await suite.lb.send('GET', path);
      if (answer.status !== 404) {
        failures.set(path, `${answer.status} ${answer.body.slice(0, 120)}`);
        return;
      }
      failures.delete(path);
      const address = suite.nodeOfAnswer({ headers: answer.headers });
      if (address === undefined || !suite.nodes.includes(address)) anonymous++;
      else nodeOf.set(path, address);
    } catch (error) {
      failures.set(path, String(error));
    }
  };
  await forEachBounded(paths, PLACEMENT_CONCURRENCY, place);
  // A call can fail for reasons that say nothing of where the balancer sends its path (a node slow to
  // answer on a loaded machine): each failed path is asked once more, after the pass. A balancer that
  // really leaves a path unserved fails it both times.
  const failedOnce = retry ? [...failures.keys()] : [];
  await forEachBounded(failedOnce, PLACEMENT_CONCURRENCY, place);
  return { nodeOf, failures, anonymous, recovered: failedOnce.length - failures.size };
}

/** What failed, and what a second call placed, for a verdict's details. */
export function placementFailures(measured: Placement, limit = 5): string[] {
  return [
    ...(measured.recovered > 0
      ? [`${measured.recovered} paths failed once and were placed when asked again`]
      : []),
    ...[...measured.failures].slice(0, limit).map(([path, answer]) => `${path}: no placement (${answer})`),
  ];
}

/** Why placement cannot be measured here, or undefined when it can. */
export function placementUnmeasurable(measured: Placement): string | undefined {
  // A path placed nowhere both before and after would look unmoved: none may be unnamed.
  if (measured.anonymous > 0) {
    const answered = measured.anonymous + measured.nodeOf.size;
    return `the nodes do not name themselves on unrouted paths: ${measured.anonymous} of ${answered} 404s named no node of the topology (no Fn-Node header)`;
  }
  return undefined;
}

/** Paths per node. */
export function countByNode(nodeOf: ReadonlyMap<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of nodeOf.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}
