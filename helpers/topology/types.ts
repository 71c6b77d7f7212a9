// What every topology backend gives the suite: where the balancer and the nodes answer, and a
// run-unique prefix so test files never collide with each other or with a shared deployment.
export type TopologyKind = 'processes' | 'external' | 'containers';

/** Serializable: handed from Vitest's globalSetup to the test workers with provide/inject. */
export interface TopologyInfo {
  kind: TopologyKind;
  /** Base URL of the balancer, reachable from the test process. */
  lbUrl: string;
  /** Nodes as the balancer names them (host:port); the harness and fnlb's stats use these names. */
  nodes: string[];
  /** Base URL of each node reachable from the test process, in the order of `nodes`. */
  nodeUrls: string[];
  /** Prefix for app names created by this run: unique per run. */
  appPrefix: string;
  /** Management API base URL of the balancer (fnlb's /1/lb/nodes), when it has one. */
  lbMgmtUrl?: string;
  /** What the nodes store their apps in, for messages. */
  database: string;
}

export interface Topology extends AsyncDisposable {
  readonly info: TopologyInfo;
  /** Stops everything this topology started; idempotent. */
  close(): Promise<void>;
}
