// What the balancer did, counted where it happens: per node (in Backend), per route (here) for
// GET /1/lb/stats, and the same as Prometheus metrics for GET /metrics.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LbRouteStats } from '../common/lb-wire.js';
import type { Balancer } from './balancer.js';
import type { ResolveResult } from './fn-keys.js';

/**
 * Routes are client-chosen paths: the table is capped in bytes (paths can be kilobytes long), and
 * once full the least recently used route goes first, so a path scan evicts itself, not the routes
 * that carry traffic.
 */
export const MAX_ROUTE_TABLE_BYTES = 4 * 1024 * 1024;
/** What one entry costs besides its path and node names: the object, counters and map slots. */
const ROUTE_ENTRY_OVERHEAD_BYTES = 200;

export type RetryReason = 'undelivered' | 'node_refused';
/** Why the balancer answered an error itself: no node at all, every try refused, or a node failed. */
export type FailureReason = 'no_node' | RetryReason | 'upstream_error' | 'upstream_timeout';

export class LbStats {
  readonly registry = new Registry();
  /** In least-recently-used order: a touched route moves to the end. */
  readonly #routes = new Map<string, LbRouteStats>();
  #routeBytes = 0;
  #routesDropped = 0;
  readonly #rejected: Counter;
  readonly #requests: Counter<'node' | 'code'>;
  readonly #retries: Counter<'reason'>;
  readonly #failures: Counter<'reason'>;
  readonly #duration: Histogram<'node'>;
  readonly #resolutions: Counter<'result'>;

  constructor(balancer: Balancer) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'fnlb_requests_total',
      help: 'Proxied responses by node and status code',
      labelNames: ['node', 'code'],
      registers,
    });
    this.#retries = new Counter({
      name: 'fnlb_retries_total',
      help: 'Requests retried on the next node of their walk',
      labelNames: ['reason'],
      registers,
    });
    this.#failures = new Counter({
      name: 'fnlb_failures_total',
      help: 'Requests answered with an error by the balancer itself',
      labelNames: ['reason'],
      registers,
    });
    this.#rejected = new Counter({
      name: 'fnlb_rejected_total',
      help: 'Requests answered 400 by the balancer because they cannot be forwarded',
      registers,
    });
    this.#duration = new Histogram({
      name: 'fnlb_upstream_headers_seconds',
      help: 'Time from dispatch to response headers, by node',
      labelNames: ['node'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#resolutions = new Counter({
      name: 'fnlb_v2_lookups_total',
      help: 'Lookups of the fn of a v2 trigger (one per lookup, not per call), by result: fn, none, no_api, failed',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'fnlb_node_in_flight',
      help: 'Requests in flight at the balancer, by node',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const backend of balancer.backends()) this.set({ node: backend.address }, backend.inFlight);
      },
    });
    new Gauge({
      name: 'fnlb_node_online',
      help: '1 when the node gets traffic, 0 when it is offline or not yet checked',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const backend of balancer.backends())
          this.set({ node: backend.address }, backend.online ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fnlb_node_wait_seconds',
      help: 'Average queueing the node reports in XXX-FXLB-WAIT',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const backend of balancer.backends()) {
          this.set({ node: backend.address }, backend.wait.value(now) / 1000);
        }
      },
    });
    new Gauge({
      name: 'fnlb_bound',
      help: 'Current bounded-load limit per node',
      registers,
      collect() {
        this.set(balancer.bound());
      },
    });
  }

  #route(key: string): LbRouteStats {
    let route = this.#routes.get(key);
    if (route !== undefined) {
      this.#routes.delete(key);
      this.#routes.set(key, route);
      return route;
    }
    route = { requests: 0, retries: 0, failures: 0, nodes: {} };
    this.#routes.set(key, route);
    this.#routeBytes += entryBytes(key);
    this.#evict();
    return route;
  }

  #countNode(route: LbRouteStats, node: string): void {
    if (route.nodes[node] === undefined) this.#routeBytes += node.length * 2 + 16;
    route.nodes[node] = (route.nodes[node] ?? 0) + 1;
    this.#evict();
  }

  #evict(): void {
    for (const [key, route] of this.#routes) {
      if (this.#routeBytes <= MAX_ROUTE_TABLE_BYTES) return;
      this.#routes.delete(key);
      this.#routeBytes -= entryBytes(key) + nodeBytes(route);
      this.#routesDropped++;
    }
  }

  /** Bytes the route table accounts for (its bound is MAX_ROUTE_TABLE_BYTES). */
  get routeTableBytes(): number {
    return this.#routeBytes;
  }

  served(key: string, node: string, code: number, headersMs: number): void {
    this.#requests.inc({ node, code: String(code) });
    this.#duration.observe({ node }, headersMs / 1000);
    const route = this.#route(key);
    route.requests++;
    this.#countNode(route, node);
  }

  retried(key: string, reason: RetryReason): void {
    this.#retries.inc({ reason });
    this.#route(key).retries++;
  }

  failed(key: string, reason: FailureReason): void {
    this.#failures.inc({ reason });
    this.#route(key).failures++;
  }

  /** One lookup of a trigger's fn (fn-keys.ts), whatever it found. */
  resolved(result: ResolveResult): void {
    this.#resolutions.inc({ result });
  }

  /** A request answered 400 before any node saw it: counted, but it names no route. */
  rejected(): void {
    this.#rejected.inc();
  }

  /** Drops a deleted node's series, so nodes coming and going do not grow /metrics forever. */
  async forgetNode(node: string): Promise<void> {
    for (const series of (await this.#requests.get()).values) {
      if (series.labels.node === node) this.#requests.remove(series.labels);
    }
    this.#duration.remove({ node });
  }

  routes(): { routes: Record<string, LbRouteStats>; routes_dropped: number } {
    return { routes: Object.fromEntries(this.#routes), routes_dropped: this.#routesDropped };
  }
}

function entryBytes(key: string): number {
  return key.length * 2 + ROUTE_ENTRY_OVERHEAD_BYTES;
}

function nodeBytes(route: LbRouteStats): number {
  return Object.keys(route.nodes).reduce((bytes, node) => bytes + node.length * 2 + 16, 0);
}
