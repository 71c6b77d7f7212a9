// One functions node as the balancer sees it: its health state, the balancer's in-flight count on it,
// the queueing it reports, counters for /1/lb/stats, and the keep-alive connection pool to it.
import { Pool } from 'undici';
import { DecayingEwma } from '../common/ewma.js';

/** `unknown` until the first health check passes: a new node gets no traffic before that. */
export type NodeState = 'unknown' | 'online' | 'offline';

/** How the balancer learned of a node: -nodes, the management API, or a -nodes-dns name. */
export type NodeSource = 'static' | 'api' | 'dns';

export interface PoolTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

export class Backend {
  readonly address: string;
  /** The ip:port pairs the address resolved to when it was added (to refuse aliases of it). */
  addresses: string[] = [];
  readonly pool: Pool;
  state: NodeState = 'unknown';
  /** This process's calls in flight on the node. */
  inFlight = 0;
  /** With -workers: the other workers' calls in flight on it, as they last said (cluster-worker.ts). */
  peerInFlight = 0;
  /** Calls in flight here per route key; a route is absent once its last call here ended. */
  readonly routesInFlight = new Map<string, number>();
  /** The node's reported XXX-FXLB-WAIT, in ms. */
  readonly wait = new DecayingEwma(0.3, 2000);
  /** Time to response headers as the balancer measured it, in ms (for stats only). */
  readonly latency = new DecayingEwma(0.3, 60_000);
  requests = 0;
  responses5xx = 0;
  undelivered = 0;
  refused503 = 0;
  upstreamErrors = 0;
  checksPassed = 0;
  checksFailed = 0;
  consecutivePassed = 0;
  consecutiveFailed = 0;
  lastCheckError: string | undefined;

  constructor(
    address: string,
    timeouts: PoolTimeouts,
    readonly source: NodeSource = 'static',
  ) {
    this.address = address;
    this.pool = new Pool(`http://${address}`, {
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      keepAliveTimeout: 4000,
    });
  }

  get online(): boolean {
    return this.state === 'online';
  }

  setState(state: NodeState): boolean {
    if (state === this.state) return false;
    this.state = state;
    return true;
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
