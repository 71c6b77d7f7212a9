// What every topology backend gives the suite: where the balancer and the nodes answer, which builds
// are under test, what the topology can do to them (faults), what the balancer offers (measured, not
// assumed), and a run-unique prefix so test files never collide with each other or with a shared
// deployment.
import type { FnApiVersion } from './fn-api.js';

export type TopologyKind = 'processes' | 'external' | 'containers' | 'swarm';

/** The balancer under test, as the run's first lines and the reports name it. */
export interface BalancerInfo {
  /** "fnlb (this project)", "command: ...", "image: ...", "external at host:port". */
  label: string;
  /** Seconds between its health checks when the suite set them ({hc_interval}); undefined when unknown. */
  hcIntervalS: number | undefined;
  /** Seconds it waits for a node's answer when the suite set it ({upstream_timeout}); undefined when unknown. */
  upstreamTimeoutS: number | undefined;
  /** Seconds between its DNS reads of the nodes' name, when it discovers nodes by DNS. */
  dnsIntervalS?: number;
}

/** What the suite can do and read here; a property whose needs are not met is skipped with the reason. */
export interface Capabilities {
  /** The balancer answers fnlb's GET /1/lb/nodes. */
  mgmtApi: boolean;
  /** It also accepts PUT and DELETE there from the suite (token or loopback). */
  mgmtWrite: boolean;
  /** The topology can SIGKILL a node, SIGTERM it, start it again, and start one more. */
  kill: boolean;
  stop: boolean;
  start: boolean;
  add: boolean;
  /**
   * The topology can freeze a node (every process of it stops running; its connections stay open and
   * unanswered, as a hung node's: SIGSTOP, docker pause) and thaw it.
   */
  freeze: boolean;
  /**
   * restore() brings every node a fault took down back into service: it starts it again (start), or
   * waits for the one an orchestrator starts in its place, at an address of its own (Swarm).
   */
  restore: boolean;
  /** The balancer finds a node add() started, and lets go of one discard() stopped, by itself (DNS). */
  discover: boolean;
  /** Every node answers GET /stats with per-route counters. */
  nodeStats: boolean;
  /** The nodes run their functions as containers on a Docker engine the suite can watch. */
  engineEvents: boolean;
  /** Containers started per node and route can be counted: nodeStats or engineEvents. */
  nodeCounters: boolean;
}

export type Capability = keyof Capabilities;

/** Serializable: handed from Vitest's globalSetup to the test workers with provide/inject. */
export interface TopologyInfo {
  kind: TopologyKind;
  /** Base URL of the balancer, reachable from the test process. */
  lbUrl: string;
  /** Nodes as the balancer names them (host:port); the harness and fnlb's stats use these names. */
  nodes: string[];
  /** Base URL of each node reachable from the test process, in the order of `nodes`. */
  nodeUrls: string[];
  /** The Fn API the run speaks (guard/topology/fn-api.ts), and why. */
  api: FnApiVersion;
  apiReason: string;
  /** Where apps, fns and routes are created, when not through the balancer (an API node of its own). */
  apiUrl?: string;
  /**
   * The name each node's functions report (their hostname), in the order of `nodes`, when the
   * topology gave it: the suite then never calls a node directly to learn it.
   */
  nodeIds?: string[];
  /** Prefix for app names created by this run: unique per run. */
  appPrefix: string;
  /** What the names of the function images the routes run start with (--function-images). */
  functionImages?: string;
  /** Management API base URL of the balancer (fnlb's /1/lb/nodes), when it has one. */
  lbMgmtUrl?: string;
  /** Token for that API, when the topology set one. */
  mgmtToken?: string;
  /** What the nodes store their apps in, for messages. */
  database: string;
  balancer: BalancerInfo;
  /** The node build under test, for messages ("fn-node (this project)", "image: ..."). */
  nodeBuild: string;
  capabilities: Capabilities;
  /** Why each missing capability is missing, for skip reasons. */
  missing: Partial<Record<Capability, string>>;
  /** Base URL of the fault control server (guard/topology/control.ts), when the topology has faults. */
  controlUrl?: string;
  /**
   * The Docker engine the nodes start their functions on, when the suite can watch it; `createLog`
   * where the nodes reach it through the recording proxy (guard/measure/engine-proxy.ts).
   */
  engine?: { socketPath: string; createLog?: string };
}

/** A node the topology started on request (add), named as the balancer will name it. */
export interface AddedNode {
  address: string;
  url: string;
  /**
   * When the balancer could first find it by itself (discover: Swarm's DNS lists a task once its
   * health check passes), in ms since the epoch; the discovery time is measured from here.
   */
  findableAt?: number;
}

/** Faults and membership operations; each may be absent (see Capabilities). */
export interface Faults {
  /** SIGKILL (or docker kill); resolves once the node is gone. */
  kill?(node: string): Promise<void>;
  /** SIGTERM (or docker stop); resolves once the node has exited. */
  stop?(node: string): Promise<void>;
  /** Starts a killed or stopped node again at the same address; resolves once it answers /version. */
  start?(node: string): Promise<void>;
  /**
   * Starts one more node on the same database; resolves once it serves and, where the balancer
   * discovers nodes (discover), once the balancer can find it (Swarm's DNS lists it). Otherwise the
   * balancer learns of it only if told.
   */
  add?(): Promise<AddedNode>;
  /** Stops a node add() started and forgets it. */
  discard?(node: string): Promise<void>;
  /** Freezes a node (SIGSTOP, docker pause); resolves once it no longer runs. */
  freeze?(node: string): Promise<void>;
  /** Lets a frozen node run again (SIGCONT, docker unpause). */
  thaw?(node: string): Promise<void>;
}

export interface Topology extends AsyncDisposable {
  /** Current: a topology whose faults replace nodes (Swarm) names the replacements here. */
  readonly info: TopologyInfo;
  readonly faults: Faults;
  /** Thaws every frozen node, starts every node a fault left down and discards added ones, so the next file finds the cluster whole. */
  restore(): Promise<void>;
  /** Brings `info` up to date with nodes the topology's orchestrator replaced on its own (Swarm). */
  refresh?(): Promise<void>;
  /** Stops everything this topology started; idempotent. */
  close(): Promise<void>;
}

declare module 'vitest' {
  /** What the integration project's globalSetup hands every test file (inject()). */
  export interface ProvidedContext {
    pgUrl: string;
    topology: TopologyInfo;
  }
}
