// What fnlb's primary and its workers tell each other over the cluster's IPC channel. Every message
// carries `fnlb`, so prom-client's own messages (its cluster metrics) on the same channel pass by.
import type { NodeSource, NodeState } from './backend.js';
import type { PassiveMark } from './health.js';
import type { LbStatsResponse } from './wire.js';

/** One node as the primary holds it: a worker keeps exactly this set, in these states. */
export interface ViewNode {
  address: string;
  state: NodeState;
  source: NodeSource;
}

export type ToWorker =
  | { fnlb: 'view'; nodes: ViewNode[] }
  | { fnlb: 'stats?'; id: number }
  | { fnlb: 'drain' };

export type ToPrimary =
  | { fnlb: 'hello' }
  | { fnlb: 'ready'; listen: string }
  | { fnlb: 'mark'; address: string; mark: PassiveMark }
  | { fnlb: 'stats'; id: number; stats: LbStatsResponse };

export function isFnlbMessage<T extends { fnlb: string }>(message: unknown): message is T {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { fnlb?: unknown }).fnlb === 'string'
  );
}
