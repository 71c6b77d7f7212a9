// The shared shape of failover and graceful stop: routes with calls of about 20 ms, so a node always has
// calls in flight; a placement run to learn each route's node; 1000 calls at concurrency 8 with the
// fault after 300 (400 and 120 at quick scale; the file's restore brings the node back afterwards: started again, or replaced by
// the orchestrator). And when the balancer took the node out: from its management API when it has one
// (the node offline there, or gone from its list as a balancer that discovers nodes by DNS drops it),
// else after a detection window of a few health intervals. The load is drawn for the reports: its
// calls by node over time, the fault, the node gone and taken out.

import { tryWaitUntil } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';
import type { GuardContext } from '../engine/property.js';
import { timelineOf } from '../report/figures.js';
import { LbManagement } from '../topology/lb-management.js';
import type { TopologyInfo } from '../topology/types.js';
import { type FaultedLoad, homes, loadWithFault } from './load.js';
import { countByNode } from './placement.js';
import { DETECTION_INTERVALS, detectionWindow } from './settle.js';

const CONCURRENCY = 8;
const QUERY = '?ms=20';
/** How long the load goes on after the node counts as taken out. */
const AFTER_DOWN_MS = 1000;
const WATCH_TIMEOUT_MS = 30_000;

export interface NodeDown {
  victim: string;
  /** Route path -> node, before the fault. */
  home: Map<string, string>;
  load: FaultedLoad;
  /** When the balancer stopped sending to the victim, on the calls' clock, and how that is known. */
  downAt: number;
  downBasis: string;
  /** Whether the management API said so (else downAt is a detection window after the fault). */
  downSeen: boolean;
}

/** A fault on one node: what it is and what it leaves, for the timeline, and how it is done. */
export interface NodeFault {
  /** SIGKILL, SIGTERM, SIGSTOP. */
  name: string;
  /** The node once the fault is done: gone, exited, frozen. */
  leaves: string;
  run(node: string): Promise<void>;
  /**
   * How long a call of the load may take before the guard gives up on it (default the suite's 30 s).
   * A frozen node never answers: with a short one, a call sent to it fails soon and its caller goes
   * on, so a balancer that keeps sending it calls shows it for as long as the load lasts.
   */
  callTimeoutMs?: number;
  /** How long the load goes on after the node counts as taken out (default 1 s). */
  loadAfterMs?: number;
}

export async function nodeDown(guard: GuardContext, fault: NodeFault): Promise<NodeDown> {
  const { suite, info } = guard;
  const { routes: routeCount, calls, faultAfter } = guard.workload.nodeDown;
  const paths = Array.from({ length: routeCount }, (_, index) => `/down-${index}`);
  await suite.createRoutes(
    paths.map((path) => ({ path, image: suite.image('sleep'), format: 'http', memory: 64 })),
  );
  const routes = paths.map((path) => suite.invokePath(path));
  const warm = await loadWithFault(suite, routes, {
    calls: routes.length,
    concurrency: CONCURRENCY,
    query: QUERY,
  });
  const home = homes(warm.calls);
  const victim = [...countByNode(home)].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (victim === undefined)
    throw new Error(`no route was served during placement: ${JSON.stringify(warm.calls[0])}`);

  const detection = detectionWindow(info);
  let watched: Promise<number | undefined> = Promise.resolve(undefined);
  let faultDoneAt = Number.POSITIVE_INFINITY;
  const load = await loadWithFault(suite, routes, {
    calls,
    concurrency: CONCURRENCY,
    faultAfter,
    query: QUERY,
    fault: async () => {
      watched = watchOffline(info, victim);
      await fault.run(victim);
      faultDoneAt = performance.now();
    },
    // Calls go on until the balancer without a management API is deemed to have taken the node out,
    // and a while after: the property is about those calls too.
    until: () => faultDoneAt + detection.ms + (fault.loadAfterMs ?? AFTER_DOWN_MS),
    ...(fault.callTimeoutMs !== undefined
      ? { client: new FnClient(info.lbUrl, { timeoutMs: fault.callTimeoutMs }) }
      : {}),
  });
  const observed = await watched;
  const downAt = observed ?? load.faultDoneAt + detection.ms;
  const downBasis =
    observed !== undefined
      ? `the management API reported ${victim} offline or gone ${Math.round(observed - load.faultAt)} ms after the fault`
      : `no management API: ${DETECTION_INTERVALS} health intervals of ${detection.intervalS} s${detection.assumed ? ' (interval unknown, assumed)' : ''} after the node was gone`;
  guard.draw({
    timeline: timelineOf(suite.nodes, load.calls, [
      { at: load.faultAt, label: `${fault.name} ${victim}` },
      { at: load.faultDoneAt, label: `${victim} ${fault.leaves}` },
      { at: downAt, label: observed !== undefined ? 'taken out (management API)' : 'taken out (assumed)' },
    ]),
  });
  return { victim, home, load, downAt, downBasis, downSeen: observed !== undefined };
}

/**
 * Polls the management API until it reports `node` as anything but online, or no longer lists it;
 * the time on the calls' clock, or undefined without an API or when the API never listed the node
 * under that name (then the detection window stands in, and the context says so).
 */
async function watchOffline(info: TopologyInfo, node: string): Promise<number | undefined> {
  if (!info.capabilities.mgmtApi) return undefined;
  const mgmt = new LbManagement(info);
  let listed = false;
  let seenAt: number | undefined;
  const decided = async () => {
    const view = await mgmt.nodes();
    if (view === undefined) return false;
    if (!(node in view)) {
      seenAt = listed ? performance.now() : undefined;
      return true;
    }
    listed = true;
    if (view[node] === 'online') return false;
    seenAt = performance.now();
    return true;
  };
  await tryWaitUntil(`${node} to leave the online set`, decided, WATCH_TIMEOUT_MS, 20);
  return seenAt;
}
