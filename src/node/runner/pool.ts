// One route key's hot pool: its waiting calls, its starts in flight, its containers by state (the
// idle stack most recently used last, with their idle timers), its run and start estimates and the
// launch-hold note. Every transition that changes a pool's count also changes the node-wide gauge
// of /stats in the same step, so the two cannot drift; the policy deciding the transitions is the
// runner's (runner.ts).
import { Ewma } from '../../common/ewma.js';
import type { App, Route } from '../../common/wire.js';
import { type FormatCodec, formatCodec } from '../formats/index.js';
import type { CallRequest } from './call.js';
import type { Clock, Timer } from './clock.js';
import type { Container, ContainerState } from './container.js';
import type { CallError } from './errors.js';
import type { RunnerMetrics } from './metrics.js';
import type { PoolView } from './policy.js';
import type { RunnerStats } from './stats.js';

export interface Waiter {
  call: CallRequest;
  enqueuedAt: number;
  timer: Timer;
  /** Default format: a container is being started for this very call. */
  ownStart: boolean;
  grant(container: Container, cold: boolean): void;
  fail(error: CallError): void;
}

/** What every pool of a runner shares: the node's counters, its clock, and what an idle timeout does. */
export interface PoolHost {
  readonly stats: RunnerStats;
  /** Start times for GET /metrics, when the node serves them. */
  readonly metrics: RunnerMetrics | undefined;
  readonly clock: Clock;
  /** A container sat idle for its route's idle_timeout (the runner retires it). */
  idleExpired(pool: Pool, container: Container): void;
}

/** Weight of the newest run or start time in R and S. */
const EWMA_ALPHA = 0.3;
/** Smallest sample kept, so an estimate is never zero (a zero would switch the policy off). */
const MIN_SAMPLE_MS = 0.1;

function sortedConfig(config: Record<string, string>): [string, string][] {
  return Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Everything that makes two calls able to share a container: a pool's key. */
export function poolKey(app: App, route: Route, fn?: CallRequest['fn']): string {
  const { path, image, format, memory, timeout, cpus, config } = route;
  return JSON.stringify([
    ...(fn === undefined ? [] : [{ fn: fn.id, app: fn.appId }]),
    app.name,
    path,
    image,
    format,
    memory,
    timeout,
    cpus,
    sortedConfig(config),
    sortedConfig(app.config),
  ]);
}

/** The route in /stats: `<app><path>`, whatever else of the route changes. */
export function statsKey(app: App, route: Route): string {
  return `${app.name}${route.path}`;
}

export class Pool {
  readonly statsKey: string;
  readonly codec: FormatCodec;
  readonly memoryMb: number;
  readonly idle: Container[] = [];
  readonly waiters: Waiter[] = [];
  busy = 0;
  /** Containers asked to stop and not yet gone: they still hold memory, so the pool is not empty. */
  stopping = 0;
  /** Starts in flight for this pool. */
  starting = 0;
  everCompleted = false;
  /** Why the policy last held back a start; undefined when it last started one. */
  lastHold: string | undefined;
  private readonly idleTimers = new Map<Container, Timer>();
  /** R from hot calls: a container's first call also pays its runtime's warm-up (part of a start). */
  private readonly hotRunMs = new Ewma(EWMA_ALPHA);
  /** The first measured call, R's seed until a hot call has been measured. */
  private seedRunMs: number | undefined;
  private readonly startEwma = new Ewma(EWMA_ALPHA);

  constructor(
    /** Its key in the runner's pools (poolKey): a pool is dropped once it holds nothing. */
    readonly key: string,
    readonly app: App,
    /** The latest definition seen; idle_timeout may change without changing the key. */
    public route: Route,
    private readonly host: PoolHost,
    /** The v2 fn its containers run, when it is one (part of the key, like the app). */
    readonly fn?: CallRequest['fn'],
  ) {
    this.statsKey = statsKey(app, route);
    this.codec = formatCodec(route.format);
    this.memoryMb = route.memory;
  }

  /** The run time estimate R, undefined before any call finished. */
  get runMs(): number | undefined {
    return this.hotRunMs.value ?? this.seedRunMs;
  }

  /** The start time estimate S, undefined before any start finished. */
  get startMs(): number | undefined {
    return this.startEwma.value;
  }

  /** Seconds a refused caller should wait: about one run, when a busy container frees up. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.runMs ?? 1000) / 1000));
  }

  /** What the launch policy weighs. */
  view(): PoolView {
    return {
      waiting: this.waiters.length,
      idle: this.idle.length,
      busy: this.busy,
      starting: this.starting,
      everCompleted: this.everCompleted,
      runMs: this.runMs,
      startMs: this.startMs,
    };
  }

  /** Nothing waiting, starting or live (in any state): the runner may forget the pool. */
  isEmpty(): boolean {
    return (
      this.waiters.length === 0 &&
      this.starting === 0 &&
      this.idle.length === 0 &&
      this.busy === 0 &&
      this.stopping === 0
    );
  }

  /** `firstCall`: the container's first call. Default-format pools have only those. */
  recordRun(runMs: number, firstCall: boolean): void {
    const sample = Math.max(MIN_SAMPLE_MS, runMs);
    if (!firstCall || !this.codec.hot) this.hotRunMs.add(sample);
    else this.seedRunMs ??= sample;
  }

  enqueue(waiter: Waiter): void {
    this.waiters.push(waiter);
    this.host.stats.calls.queued++;
  }

  /** Takes a waiter out of line and cancels its queue timeout; false when it had already left. */
  dequeue(waiter: Waiter): boolean {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return false;
    this.waiters.splice(index, 1);
    waiter.timer.cancel();
    this.host.stats.calls.queued--;
    return true;
  }

  /**
   * A start is under way. The node's gauge is the node's only count of starts in flight: the runner
   * reads it for the start cap and for draining rather than keeping its own.
   */
  beginStart(): void {
    this.starting++;
    this.host.stats.containers.starting++;
  }

  /** The start ended: `startMs` it took when it gave a container, undefined when it failed. */
  endStart(startMs: number | undefined): void {
    this.starting--;
    this.host.stats.containers.starting--;
    if (startMs === undefined) return;
    this.host.stats.containers.started++;
    const routeStats = this.host.stats.route(this.statsKey);
    routeStats.containers_started++;
    this.host.metrics?.started(this.statsKey, startMs);
    this.startEwma.add(Math.max(MIN_SAMPLE_MS, startMs));
    routeStats.start_ms_ewma = this.startMs ?? 0;
  }

  /**
   * Moves a container between states, keeping the pool's idle stack, idle timers and counts and the
   * node's gauges in step. A container leaves `new` (started, not yet placed) through here exactly once.
   */
  setState(container: Container, next: ContainerState): void {
    const gauges = this.host.stats.containers;
    if (container.state === 'idle') {
      gauges.idle--;
      this.idle.splice(this.idle.indexOf(container), 1);
      this.idleTimers.get(container)?.cancel();
      this.idleTimers.delete(container);
    } else if (container.state === 'busy') {
      gauges.busy--;
      this.busy--;
    } else if (container.state === 'stopping') {
      this.stopping--;
    }
    container.state = next;
    if (next === 'idle') {
      gauges.idle++;
      container.lastUsedAt = this.host.clock.now();
      this.idle.push(container);
      const timer = this.host.clock.setTimeout(
        () => this.host.idleExpired(this, container),
        this.route.idle_timeout * 1000,
      );
      this.idleTimers.set(container, timer);
    } else if (next === 'busy') {
      gauges.busy++;
      this.busy++;
    } else if (next === 'stopping') {
      this.stopping++;
    } else if (next === 'gone') {
      gauges.stopped++;
    }
  }

  /** Notes why the policy held a start back (undefined: it started one), here and in /stats. */
  noteHold(hold: string | undefined): void {
    this.lastHold = hold;
    this.host.stats.route(this.statsKey).launch_hold = hold ?? null;
  }
}
