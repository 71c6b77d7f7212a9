// What fnlb's primary and its workers tell each other over the cluster's IPC channel. Every message
// carries `fnlb`, so prom-client's own messages (its cluster metrics) on the same channel pass by.

import type { LbStatsResponse } from '../common/lb-wire.js';
import type { NodeSource, NodeState } from './backend.js';
import type { PassiveMark } from './health.js';

/** One node as the primary holds it: a worker keeps exactly this set, in these states. */
export interface ViewNode {
  address: string;
  state: NodeState;
  source: NodeSource;
}

/**
 * How often a worker shares its calls in flight (when they changed) and the primary passes the others'
 * on: each worker bounds a node by every worker's calls, as of at most about two intervals ago.
 */
export const LOAD_SHARE_MS = 5;

/** Calls in flight per node address (a node with none may be left out). */
export type InFlight = Record<string, number>;

export type ToWorker =
  /** The node set; `seq` grows with each change, so the primary knows which one a worker applied. */
  | { fnlb: 'view'; seq: number; nodes: ViewNode[] }
  /** The other workers' calls in flight, added up per node. */
  | { fnlb: 'peers'; inFlight: InFlight }
  | { fnlb: 'stats?'; id: number }
  | { fnlb: 'drain' };

export type ToPrimary =
  | { fnlb: 'hello' }
  | { fnlb: 'ready'; listen: string }
  /** The view numbered `seq` is what this worker proxies with now. */
  | { fnlb: 'viewed'; seq: number }
  | { fnlb: 'mark'; address: string; mark: PassiveMark }
  /** This worker's calls in flight per node, sent when they changed. */
  | { fnlb: 'load'; inFlight: InFlight }
  | { fnlb: 'stats'; id: number; stats: LbStatsResponse };

export function isFnlbMessage<T extends { fnlb: string }>(message: unknown): message is T {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { fnlb?: unknown }).fnlb === 'string'
  );
}
