// fnlb's management API shapes (historic fnlb's, plus /1/lb/stats). The server (src/lb/mgmt.ts) and
// every client (the guard, tests, bench, harness) import them from here.

export const LB_PATHS = {
  nodes: '/1/lb/nodes',
  stats: '/1/lb/stats',
  metrics: '/metrics',
  health: '/health',
} as const;

export type LbNodeStatus = 'online' | 'offline';

/** GET /1/lb/nodes. */
export interface LbNodesResponse {
  nodes: Record<string, LbNodeStatus>;
  /** How the balancer learned of each node (-nodes, the API, -nodes-dns); historic fnlb has no such field. */
  sources?: Record<string, 'static' | 'api' | 'dns'>;
}

/** Body of PUT and DELETE /1/lb/nodes. */
export interface LbNodeBody {
  node: string;
}

/** Every other management answer, success or error. */
export interface LbMsg {
  msg: string;
}

/** One route as fnlb counts it in GET /1/lb/stats. */
export interface LbRouteStats {
  requests: number;
  retries: number;
  failures: number;
  nodes: Record<string, number>;
}

export const LB_MESSAGES = { added: 'node added', deleted: 'node deleted' } as const;

export interface LbNodeStats {
  state: 'unknown' | 'online' | 'offline';
  in_flight: number;
  load: number;
  wait_ewma_ms: number;
  headers_ewma_ms: number;
  requests: number;
  responses_5xx: number;
  undelivered: number;
  refused_503: number;
  upstream_errors: number;
  checks_passed: number;
  checks_failed: number;
  last_check_error: string | null;
}

/** GET /1/lb/stats. */
export interface LbStatsResponse {
  total_in_flight: number;
  online: number;
  bound: number;
  nodes: Record<string, LbNodeStats>;
  routes: Record<string, LbRouteStats>;
  routes_dropped: number;
  /** With -workers above 1: how many worker processes' counts these are, of how many running. */
  workers?: { answered: number; running: number };
}
