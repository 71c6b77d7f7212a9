// The runner's Prometheus metrics on the node's GET /metrics. Counts and gauges are read at scrape
// time from the same RunnerStats counters that GET /stats shows, so the two never disagree; container start
// and call run times are histograms observed as they happen. Labels stay bounded: per-route series
// exist for the METRIC_ROUTES most recently run routes, and a route pushed out takes its series with
// it (its calls stay in the node-wide totals).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunnerStats } from './stats.js';

/** Routes with series of their own; the node-wide metrics count every route. */
export const METRIC_ROUTES = 200;

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class RunnerMetrics {
  readonly #start: Histogram<'route'>;
  readonly #run: Histogram<'route'>;
  /** Routes with series, least recently run first. */
  readonly #routes = new Set<string>();

  constructor(registry: Registry, stats: RunnerStats) {
    const registers = [registry];
    const routes = this.#routes;
    new Gauge({
      name: 'fn_calls_in_progress',
      help: 'Calls on this node, by state: queued for a container or running in one',
      labelNames: ['state'],
      registers,
      collect() {
        const { calls } = stats;
        this.set({ state: 'queued' }, calls.queued);
        this.set({ state: 'running' }, calls.running);
      },
    });
    new Counter({
      name: 'fn_calls_total',
      help: 'Calls this node finished, by outcome',
      labelNames: ['outcome'],
      registers,
      collect() {
        const { calls } = stats;
        this.reset();
        this.inc({ outcome: 'complete' }, calls.complete);
        this.inc({ outcome: 'failed' }, calls.failed);
      },
    });
    new Gauge({
      name: 'fn_containers',
      help: 'Containers on this node, by state',
      labelNames: ['state'],
      registers,
      collect() {
        const { containers } = stats;
        for (const state of ['starting', 'busy', 'idle'] as const) this.set({ state }, containers[state]);
      },
    });
    new Counter({
      name: 'fn_container_events_total',
      help: 'Containers this node started, stopped, and evicted to make room',
      labelNames: ['event'],
      registers,
      collect() {
        const { containers } = stats;
        this.reset();
        this.inc({ event: 'started' }, containers.started);
        this.inc({ event: 'stopped' }, containers.stopped);
        this.inc({ event: 'evicted' }, containers.evicted);
      },
    });
    new Counter({
      name: 'fn_route_calls_total',
      help: `Calls per route and whether they started a container (cold) or found one (hot); the ${METRIC_ROUTES} most recently run routes`,
      labelNames: ['route', 'start'],
      registers,
      collect() {
        this.reset();
        for (const route of routes) {
          const counts = stats.peek(route);
          if (counts === undefined) continue;
          this.inc({ route, start: 'cold' }, counts.cold);
          this.inc({ route, start: 'hot' }, counts.hot);
        }
      },
    });
    this.#start = new Histogram({
      name: 'fn_container_start_seconds',
      help: `Time a container took to become ready, per route (the ${METRIC_ROUTES} most recently run)`,
      labelNames: ['route'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#run = new Histogram({
      name: 'fn_call_run_seconds',
      help: `Time a call ran in its container, per route (the ${METRIC_ROUTES} most recently run)`,
      labelNames: ['route'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
  }

  started(route: string, ms: number): void {
    this.#touch(route);
    this.#start.observe({ route }, ms / 1000);
  }

  ran(route: string, ms: number): void {
    this.#touch(route);
    this.#run.observe({ route }, ms / 1000);
  }

  #touch(route: string): void {
    this.#routes.delete(route);
    this.#routes.add(route);
    if (this.#routes.size <= METRIC_ROUTES) return;
    const oldest = this.#routes.values().next().value as string;
    this.#routes.delete(oldest);
    this.#start.remove({ route: oldest });
    this.#run.remove({ route: oldest });
  }
}
