// How long a balancer is given to notice that a node left or came back. With fnlb's management API
// the guard asks it; without one, it allows a few of the balancer's health intervals (a passive-only
// balancer such as nginx takes a node back when its fail_timeout runs out, about one interval).
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntilNodesOnline } from '../topology/probe.js';
import type { TopologyInfo } from '../topology/types.js';

/** Health intervals a balancer without a management API is given to take a node out or back. */
export const DETECTION_INTERVALS = 3;
/** The interval assumed when the balancer's is unknown (its template takes no {hc_interval}). */
const UNKNOWN_INTERVAL_S = 2;
const ONLINE_TIMEOUT_MS = 30_000;

export interface DetectionWindow {
  ms: number;
  intervalS: number;
  /** True when the interval is assumed, not the balancer's own. */
  assumed: boolean;
}

export function detectionWindow(info: TopologyInfo): DetectionWindow {
  const intervalS = info.balancer.hcIntervalS ?? UNKNOWN_INTERVAL_S;
  return {
    ms: DETECTION_INTERVALS * intervalS * 1000,
    intervalS,
    assumed: info.balancer.hcIntervalS === undefined,
  };
}

/**
 * After a file's faults were undone: waits until the balancer serves every node again, so the next
 * file measures the balancer's placement, not the tail of this file's fault.
 */
export async function settleAfterFaults(info: TopologyInfo): Promise<void> {
  if (info.capabilities.mgmtApi) {
    await waitUntilNodesOnline(info, info.nodes, ONLINE_TIMEOUT_MS);
  } else {
    await sleep(detectionWindow(info).ms);
  }
}
