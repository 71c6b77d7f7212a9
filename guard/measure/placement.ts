// Where the balancer sends paths, measured black-box and cheaply. First choice: one call per path to
// routes that do not exist in the file's app. Where a balancer sends a path cannot depend on whether a
// route exists there (it cannot know), and the node answers 404 at once naming itself in its Fn-Node
// header, so 1000 paths cost a thousand 404s instead of a thousand cold containers. Where unrouted
// paths name no node (a balancer that answers them itself, as Fn's LB node does, or hides the node's
// headers), the keys are routes created for the purpose (fns with their triggers on v2), fewer of
// them, each placed by its first call: the function says which node ran it. One call at a time, so
// the balancer's load cannot move a path: where it goes is its hash placement alone. (At eight at a
// time a bounded-load balancer without a floor, HAProxy's hash-balance-factor, was seen to move half
// of 1000 paths between two passes.)
import { forEachBounded } from '../../src/common/bounded.js';
import type { SuiteFile } from '../engine/suite-file.js';
import type { Workload } from '../engine/workload.js';

export const PLACEMENT_CONCURRENCY = 1;
/**
 * The test timeout of a property placed this way: passes over routes made for it are a cold call per
 * key (four passes of 100 on Fn 0.3.550 took over the two minutes a test gets by default).
 */
export const PLACEMENT_TEST_TIMEOUT_MS = 480_000;
/** Unrouted paths asked before choosing them as keys: every one must come back naming its node. */
const PROBE_PATHS = 20;
/**
 * A key route's container goes soon after its call, so a pass never holds more than a few: Fn's pure
 * runners keep an inotify instance per live container, and 100 keys held for 10 minutes exhausted the
 * host's 128 per user (every runner then answered "too many open files" to every call). Each pass is
 * then cold: on Fn's runners about 100 s for 100 keys.
 */
const KEY_IDLE_TIMEOUT_S = 10;
const KEY_MEMORY_MB = 64;

export interface PlacementKeys {
  /** Invocation paths, one per key. */
  paths: string[];
  /** unrouted: placed by the node's 404; routes: created for it, placed by the function's answer. */
  kind: 'unrouted' | 'routes';
  /** What the keys are and why, for a verdict's details. */
  description: string;
  /** Keys left out because two passes with nothing changed placed them differently. */
  unstable?: number;
}

/** Paths of routes that do not exist: `/r/<app>/<prefix>-<i>` (v1), `/t/<app>/<prefix>-<i>` (v2). */
function unroutedPaths(suite: SuiteFile, prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => suite.invokePath(`/${prefix}-${index}`));
}

/**
 * The keys a placement test uses: `keys` unrouted paths where the balancer's answers to them name
 * their node, else `routeKeys` routes created for it in the file's app (each costs a container per
 * node it visits).
 */
export async function placementKeys(
  suite: SuiteFile,
  prefix: string,
  { keys: count, routeKeys }: Workload['placement'],
): Promise<PlacementKeys> {
  const probe = await placement(suite, {
    kind: 'unrouted',
    paths: unroutedPaths(suite, `${prefix}-probe`, PROBE_PATHS),
    description: 'probe',
  });
  if (probe.nodeOf.size === PROBE_PATHS) {
    return {
      kind: 'unrouted',
      paths: unroutedPaths(suite, prefix, count),
      description: `${count} unrouted paths, placed by the node's 404`,
    };
  }
  const why =
    probe.anonymous > 0
      ? `${probe.anonymous} of ${PROBE_PATHS} unrouted paths were answered 404 naming no node`
      : `unrouted paths got no node's 404 (${[...probe.failures.values()][0] ?? 'no answer'})`;
  const paths = Array.from({ length: routeKeys }, (_, index) => `/${prefix}-key-${index}`);
  await suite.createRoutes(
    paths.map((path) => ({
      path,
      image: suite.image('sleep'),
      format: 'http',
      memory: KEY_MEMORY_MB,
      idle_timeout: KEY_IDLE_TIMEOUT_S,
    })),
  );
  return {
    kind: 'routes',
    paths: paths.map((path) => suite.invokePath(path)),
    description: `${routeKeys} routes created for it, each placed by the node its function ran on (${why})`,
  };
}

export interface Placement {
  /** Path -> node address; a path the node did not name, or that failed, is missing. */
  nodeOf: Map<string, string>;
  /** Paths whose call failed twice (no answer, or not the answer expected), with what came back last. */
  failures: Map<string, string>;
  /** Paths that failed once and were placed on their second call. */
  recovered: number;
  /** Paths answered as expected but without a node name: the node build does not name itself. */
  anonymous: number;
}

/** Answers without a node name after which a placement stops: the nodes do not name themselves. */
const ANONYMOUS_PROBE = 20;

/**
 * Where each key goes (`only`: a subset of the keys). `retry` asks each failed path once more after
 * the pass; a measurement that must see a single failure (a connection an earlier request poisoned
 * fails the next call on it) turns it off.
 */
export async function placement(
  suite: SuiteFile,
  keys: PlacementKeys,
  { retry = true, only }: { retry?: boolean; only?: readonly string[] } = {},
): Promise<Placement> {
  const nodeOf = new Map<string, string>();
  const failures = new Map<string, string>();
  const expected = keys.kind === 'unrouted' ? 404 : 200;
  let anonymous = 0;
  const place = async (path: string): Promise<void> => {
    if (anonymous >= ANONYMOUS_PROBE && nodeOf.size === 0) return;
    try {
      const answer = await suite.lb.send('GET', path);
      if (answer.status !== expected) {
        failures.set(path, `${answer.status} ${answer.body.slice(0, 120)}`);
        return;
      }
      failures.delete(path);
      const address = suite.nodeOfAnswer(
        keys.kind === 'unrouted'
          ? { headers: answer.headers }
          : { headers: answer.headers, body: answer.body },
      );
      if (address === undefined || !suite.nodes.includes(address)) anonymous++;
      else nodeOf.set(path, address);
    } catch (error) {
      failures.set(path, String(error));
    }
  };
  await forEachBounded(only ?? keys.paths, PLACEMENT_CONCURRENCY, place);
  // A call can fail for reasons that say nothing of where the balancer sends its path (a node slow to
  // answer on a loaded machine): each failed path is asked once more, after the pass. A balancer that
  // really leaves a path unserved fails it both times.
  const failedOnce = retry ? [...failures.keys()] : [];
  await forEachBounded(failedOnce, PLACEMENT_CONCURRENCY, place);
  return { nodeOf, failures, anonymous, recovered: failedOnce.length - failures.size };
}

/**
 * The placement later passes are compared with. Unrouted paths are placed by hash alone, once. Routes
 * made for it start a container at each call, which a balancer may place by load as well (Fn's LB
 * node moves a call on when a runner says it is busy): they are placed twice with nothing changed,
 * and keys the two passes disagree on are left out, so a move afterwards is the change's doing.
 */
export async function referencePlacement(
  suite: SuiteFile,
  keys: PlacementKeys,
): Promise<{ keys: PlacementKeys; before: Placement }> {
  const before = await placement(suite, keys);
  if (keys.kind === 'unrouted') return { keys, before };
  const again = await placement(suite, keys);
  const unstable = keys.paths.filter((path) => {
    const first = before.nodeOf.get(path);
    const second = again.nodeOf.get(path);
    return first !== undefined && second !== undefined && first !== second;
  });
  if (unstable.length === 0) return { keys, before };
  return {
    keys: {
      ...keys,
      paths: keys.paths.filter((path) => !unstable.includes(path)),
      description: `${keys.description}; ${unstable.length} of them placed differently by a second pass with nothing changed, left out`,
      unstable: unstable.length,
    },
    before,
  };
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

/**
 * Why a first placement cannot serve as the reference, or undefined when it can: every key must be
 * placed on a named node, or a key placed nowhere both before and after would look unmoved.
 */
export function placementUnmeasurable(measured: Placement, keys: PlacementKeys): string | undefined {
  if (measured.anonymous > 0) {
    const answered = measured.anonymous + measured.nodeOf.size;
    return `the nodes do not name themselves: ${measured.anonymous} of ${answered} answers to ${keys.description} named no node of the topology (no Fn-Node header, no hostname)`;
  }
  if ((keys.unstable ?? 0) > keys.paths.length) {
    return `most keys moved between two passes with nothing changed (${keys.description}): the balancer places them by load as well as by hash`;
  }
  if (measured.failures.size > 0) {
    return `${measured.failures.size} of ${keys.paths.length} keys (${keys.description}) could not be placed before anything changed: ${placementFailures(measured, 3).join('; ')}`;
  }
  return undefined;
}

/** Paths per node. */
export function countByNode(nodeOf: ReadonlyMap<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of nodeOf.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}
