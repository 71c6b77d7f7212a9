// The Fn v1 wire shapes (2017-2018 Fn server) and the header names every component speaks.
// Server, balancer, harness and test helpers import these; no other file spells them out.

/** `http-stream` is the format of every function on Fn 0.3.6xx and later (a socket per container). */
export type RouteFormat = 'default' | 'http' | 'json' | 'http-stream';
export type RouteType = 'sync' | 'async';
export const ROUTE_FORMATS: readonly RouteFormat[] = ['default', 'http', 'json', 'http-stream'];

export type Config = Record<string, string>;
export type Headers = Record<string, string[]>;

export interface App {
  name: string;
  config: Config;
}

export interface Route {
  app_name: string;
  path: string;
  image: string;
  format: RouteFormat;
  memory: number;
  timeout: number;
  idle_timeout: number;
  type: RouteType;
  /** Fn's CPU share for the function: "" (the node's default), "500m" or "0.5" CPUs. */
  cpus: string;
  config: Config;
  headers: Headers;
}

/** Body of POST /v1/apps and PATCH /v1/apps/:app. */
export interface AppBody {
  app: Partial<App>;
}

/** Body of POST/PUT/PATCH on routes. */
export interface RouteBody {
  route: Partial<Omit<Route, 'app_name'>>;
}

export interface ErrorBody {
  error: { message: string };
}

export interface AppResponse {
  message: string;
  app: App;
}
export interface AppsResponse {
  message: string;
  apps: App[];
}
export interface RouteResponse {
  message: string;
  route: Route;
}
export interface RoutesResponse {
  message: string;
  routes: Route[];
}
export interface VersionResponse {
  version: string;
}

/** Route defaults and limits (docs/node.md documents them). */
export const ROUTE_DEFAULTS = {
  format: 'default' as RouteFormat,
  type: 'sync' as RouteType,
  memory: 128,
  timeout: 30,
  idle_timeout: 30,
  cpus: '',
} as const;

export const ROUTE_LIMITS = {
  maxMemory: 8192,
  maxTimeout: 120,
  maxIdleTimeout: 3600,
} as const;

/** Response headers of an invocation (`/r/:app/*path`). */
export const FN_HEADERS = {
  callId: 'fn-call-id',
  node: 'fn-node',
  container: 'fn-container',
  cold: 'fn-cold',
  /** Time from arrival to start of execution in Go duration syntax, read by fnlb as its load signal. */
  wait: 'xxx-fxlb-wait',
  /** Set by fnlb on responses: the node that served the call. */
  lbNode: 'fn-lb-node',
  /**
   * Set by a node on a 503 for a call it refused before running it (values: FN_REFUSALS). A balancer
   * may send such a call to another node; a 503 without it came from the function and must not be.
   */
  refused: 'fn-refused',
} as const;

/** Values of the Fn-Refused header. */
export const FN_REFUSALS = {
  /** No container could take the call within half its timeout. */
  busy: 'busy',
  /** The node is shutting down and takes no new calls. */
  draining: 'draining',
} as const;

/** Fn's error messages that clients match on. */
export const FN_MESSAGES = {
  tooBusy: 'Timed out - server too busy',
  timedOut: 'Timed out',
} as const;

export function errorBody(message: string): ErrorBody {
  return { error: { message } };
}

/** Per-route counters of GET /stats, keyed by `<app><path>` (for example `primesapp/primes`). */
export interface RouteStats {
  calls: number;
  cold: number;
  hot: number;
  containers_started: number;
  run_ms_ewma: number;
  start_ms_ewma: number;
  /**
   * Why the launch policy last held back a container start for this route (no-waiters,
   * starter-bound, first-start-guard, adaptive, start-cap, or memory: no room even after evicting
   * idle containers); null when its last decision was to start one. What an operator asks first
   * when a route does not scale.
   */
  launch_hold: string | null;
}

/** Body of a node's GET /stats: counted where each event happens, never derived. */
export interface NodeStats {
  node: string;
  calls: { queued: number; running: number; complete: number; failed: number };
  containers: {
    started: number;
    starting: number;
    busy: number;
    idle: number;
    stopped: number;
    evicted: number;
  };
  routes: Record<string, RouteStats>;
  /** Route entries dropped (least recently called first) to keep the table bounded. */
  routes_dropped: number;
  /** Hot pools the runner holds: one per route definition with a container or a waiting call. */
  pools: number;
}
