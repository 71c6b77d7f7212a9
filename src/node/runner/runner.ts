// The hot-functions runner (DESIGN section 3, "Runner"): one pool of containers per route key,
// idle containers reused most recently used first, the launch policy of policy.ts, a node-wide cap
// on concurrent starts, idle_timeout, LRU eviction of idle containers of any route under memory
// pressure, and memory admission that gives up with 503 after half a call's timeout. All formats go
// through the same path; a `default`-format container is started for one call and then ends.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Ewma } from '../../common/ewma.js';
import type { App, NodeStats, Route } from '../../common/wire.js';
import { parseCpus } from '../cpus.js';
import { type Driver, type ExitInfo, type Instance, UnknownImageError } from '../drivers/driver.js';
import { withoutLoaderVariables } from '../drivers/loader-variables.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  type FormatCodec,
  type FunctionRequest,
  type FunctionResponse,
  formatCodec,
  type HeaderMap,
} from '../formats/index.js';
import { type Clock, realClock, type Timer } from './clock.js';
import { Container, type ContainerState } from './container.js';
import { CallError, clientGone, queueFull, tooBusy } from './errors.js';
import { MemoryBudget } from './memory.js';
import { type LaunchDecision, launchDecision, naiveLaunchDecision } from './policy.js';
import { RunnerStats } from './stats.js';

export interface CallRequest {
  id: string;
  app: App;
  route: Route;
  method: string;
  /** The URL as the client sent it: `http://host:port/r/app/path?query`. */
  requestUrl: string;
  headers: HeaderMap;
  body: Buffer;
  /** Aborted when the client goes away: a call still waiting then leaves its queue at once. */
  signal?: AbortSignal;
}

export interface CallResult extends FunctionResponse {
  containerId: string;
  /** The call waited for a container start: its container had served no call before. */
  cold: boolean;
  /** From arrival at the runner to the start of execution. */
  waitMs: number;
}

export interface RunnerOptions {
  nodeId: string;
  driver: Driver;
  logger: Logger;
  /** Memory the runner may reserve for containers (see memory.ts detectCapacity). */
  capacityMb: number;
  /** Concurrent container starts on this node (default 4). */
  maxStarts?: number;
  /** Largest response body a function may answer with (default 6 MiB): past it, a 502. */
  maxResponseBytes?: number;
  /** Calls that may wait for one route's containers (default 1000): more are refused with 503. */
  maxQueue?: number;
  /** CPUs of quota for a route that names none (FN_DEFAULT_CPUS); undefined for no quota. */
  defaultCpus?: number;
  /** `naive` (the guard's own tests only): no launch policy, a container per waiting call. */
  launch?: 'adaptive' | 'naive';
  clock?: Clock;
}

export interface Runner {
  /** Runs one call; rejects with CallError (502, 503 or 504). */
  run(call: CallRequest): Promise<CallResult>;
  /** The GET /stats body. */
  stats(): NodeStats;
  /** Drains: refuses new calls, finishes queued and running ones, then stops every container. */
  close(): Promise<void>;
}

interface Waiter {
  call: CallRequest;
  enqueuedAt: number;
  timer: Timer;
  /** Default format: a container is being started for this very call. */
  ownStart: boolean;
  grant(container: Container, cold: boolean): void;
  fail(error: CallError): void;
}

/** Weight of the newest run or start time in R and S. */
const EWMA_ALPHA = 0.3;
/** Smallest sample kept, so an estimate is never zero (a zero would switch the policy off). */
const MIN_SAMPLE_MS = 0.1;

class Pool {
  readonly idle: Container[] = [];
  /** Why the policy last held back a start; undefined when it last started one. */
  lastHold: string | undefined;
  readonly waiters: Waiter[] = [];
  busy = 0;
  starting = 0;
  everCompleted = false;
  /** R from hot calls: a container's first call also pays its runtime's warm-up (part of a start). */
  private readonly hotRunMs = new Ewma(EWMA_ALPHA);
  /** The first measured call, R's seed until a hot call has been measured. */
  private seedRunMs: number | undefined;
  private readonly startEwma = new Ewma(EWMA_ALPHA);

  constructor(
    /** Its key in the runner's pools (routeKey): a pool is dropped once it holds nothing. */
    readonly key: string,
    readonly statsKey: string,
    readonly codec: FormatCodec,
    readonly memoryMb: number,
    /** The latest definition seen; idle_timeout may change without changing the key. */
    public route: Route,
    readonly app: App,
  ) {}

  /** The run time estimate R, undefined before any call finished. */
  get runMs(): number | undefined {
    return this.hotRunMs.value ?? this.seedRunMs;
  }

  /** The start time estimate S, undefined before any start finished. */
  get startMs(): number | undefined {
    return this.startEwma.value;
  }

  /** `firstCall`: the container's first call. Default-format pools have only those. */
  recordRun(runMs: number, firstCall: boolean): void {
    const sample = Math.max(MIN_SAMPLE_MS, runMs);
    if (!firstCall || !this.codec.hot) this.hotRunMs.add(sample);
    else this.seedRunMs ??= sample;
  }

  recordStart(startMs: number): void {
    this.startEwma.add(Math.max(MIN_SAMPLE_MS, startMs));
  }

  /** Seconds a refused caller should wait: about one run, when a busy container frees up. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.runMs ?? 1000) / 1000));
  }
}

const DEFAULT_MAX_STARTS = 4;
/** Calls that may wait for one route before more are refused (a memory bound, not a fairness one). */
const DEFAULT_MAX_QUEUE = 1000;

function sortedConfig(config: Record<string, string>): [string, string][] {
  return Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Everything that makes two calls able to share a container. */
function routeKey(app: App, route: Route): string {
  const { path, image, format, memory, timeout, cpus, config } = route;
  return JSON.stringify([
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

/** The call's route in /stats: `<app><path>`, whatever else of the route changes. */
function statsKey(call: CallRequest): string {
  return `${call.app.name}${call.route.path}`;
}

/** What the function sees of a call (the format encodes it; the default format's environment too). */
function functionRequest(call: CallRequest): FunctionRequest {
  return {
    callId: call.id,
    method: call.method,
    requestUrl: call.requestUrl,
    headers: call.headers,
    body: call.body,
    deadline: new Date(Date.now() + call.route.timeout * 1000),
  };
}

class HotRunner implements Runner {
  private readonly pools = new Map<string, Pool>();
  private readonly counters = new RunnerStats();
  private readonly budget: MemoryBudget;
  private readonly clock: Clock;
  private readonly maxStarts: number;
  private readonly live = new Map<Container, Pool>();
  private readonly idleTimers = new Map<Container, Timer>();
  /** Starts in progress on this node. */
  private starting = 0;
  private pumping = false;
  private pumpAgain = false;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;

  constructor(private readonly options: RunnerOptions) {
    this.budget = new MemoryBudget(options.capacityMb);
    this.clock = options.clock ?? realClock;
    this.maxStarts = options.maxStarts ?? DEFAULT_MAX_STARTS;
  }

  stats(): NodeStats {
    return this.counters.snapshot(this.options.nodeId, this.pools.size);
  }

  async run(call: CallRequest): Promise<CallResult> {
    const routeStats = this.counters.route(statsKey(call));
    routeStats.calls++;
    if (this.closing) {
      this.counters.calls.failed++;
      throw tooBusy(1);
    }
    const pool = this.poolFor(call);
    const arrivedAt = this.clock.now();
    let grant: { container: Container; cold: boolean };
    try {
      grant = await this.acquire(pool, call);
    } catch (error) {
      this.counters.calls.failed++;
      throw error;
    }
    const { container, cold } = grant;
    const waitMs = this.clock.now() - arrivedAt;
    try {
      const { response, runMs } = await container.exchange(functionRequest(call), call.route.timeout * 1000);
      pool.recordRun(runMs, cold);
      routeStats.run_ms_ewma = pool.runMs ?? 0;
      pool.everCompleted = true;
      this.counters.calls.complete++;
      return { ...response, containerId: container.id, cold, waitMs };
    } catch (error) {
      this.counters.calls.failed++;
      if (error instanceof CallError) {
        this.options.logger.warn(
          { call: call.id, container: container.id, status: error.status, why: container.broken },
          `call failed: ${error.message}`,
        );
      }
      throw error;
    } finally {
      this.counters.calls.running--;
      this.afterCall(pool, container);
    }
  }

  private poolFor(call: CallRequest): Pool {
    const key = routeKey(call.app, call.route);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(
        key,
        statsKey(call),
        formatCodec(call.route.format),
        call.route.memory,
        call.route,
        call.app,
      );
      this.pools.set(key, pool);
    }
    pool.route = call.route;
    return pool;
  }

  private acquire(pool: Pool, call: CallRequest): Promise<{ container: Container; cold: boolean }> {
    const bound = this.options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (call.signal?.aborted) return Promise.reject(clientGone());
    if (pool.waiters.length >= bound) return Promise.reject(queueFull(pool.retryAfterSeconds, bound));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        call,
        enqueuedAt: this.clock.now(),
        ownStart: false,
        // Half the timeout in the queue, so a refused caller still has time to try another node.
        timer: this.clock.setTimeout(() => this.giveUp(pool, waiter), call.route.timeout * 500),
        grant: (container, cold) => resolve({ container, cold }),
        fail: reject,
      };
      pool.waiters.push(waiter);
      this.counters.calls.queued++;
      // A client gone before its call got a container takes its place in line with it: no container
      // is started for it (a start already under way for the route serves the next caller).
      call.signal?.addEventListener(
        'abort',
        () => {
          if (!this.dequeue(pool, waiter)) return;
          waiter.fail(clientGone());
          this.pump();
          this.dropIfEmpty(pool);
          this.checkDrained();
        },
        { once: true },
      );
      this.pump();
    });
  }

  private dequeue(pool: Pool, waiter: Waiter): boolean {
    const index = pool.waiters.indexOf(waiter);
    if (index < 0) return false;
    pool.waiters.splice(index, 1);
    waiter.timer.cancel();
    this.counters.calls.queued--;
    return true;
  }

  private giveUp(pool: Pool, waiter: Waiter): void {
    if (!this.dequeue(pool, waiter)) return;
    waiter.fail(tooBusy(pool.retryAfterSeconds));
    this.pump();
    this.dropIfEmpty(pool);
    this.checkDrained();
  }

  /** Hands a container to a waiting call: from here the call is running, in the same step. */
  private grant(pool: Pool, waiter: Waiter, container: Container): void {
    this.dequeue(pool, waiter);
    this.counters.calls.running++;
    const cold = container.calls === 0;
    const routeStats = this.counters.route(pool.statsKey);
    if (cold) routeStats.cold++;
    else routeStats.hot++;
    this.setState(pool, container, 'busy');
    waiter.grant(container, cold);
  }

  /** Moves a container between states, keeping the gauges and the pool's idle stack in step. */
  private setState(pool: Pool, container: Container, next: ContainerState): void {
    const gauges = this.counters.containers;
    if (container.state === 'idle') {
      gauges.idle--;
      pool.idle.splice(pool.idle.indexOf(container), 1);
      this.idleTimers.get(container)?.cancel();
      this.idleTimers.delete(container);
    } else if (container.state === 'busy') {
      gauges.busy--;
      pool.busy--;
    }
    container.state = next;
    if (next === 'idle') {
      gauges.idle++;
      container.lastUsedAt = this.clock.now();
      pool.idle.push(container);
      const timer = this.clock.setTimeout(() => this.retire(pool, container), pool.route.idle_timeout * 1000);
      this.idleTimers.set(container, timer);
    } else if (next === 'busy') {
      gauges.busy++;
      pool.busy++;
    }
  }

  private afterCall(pool: Pool, container: Container): void {
    if (container.state === 'busy') {
      if (pool.codec.hot && container.broken === undefined) this.setState(pool, container, 'idle');
      else this.retire(pool, container);
    }
    this.pump();
    this.checkDrained();
  }

  private retire(pool: Pool, container: Container, evicted = false): void {
    if (container.state === 'stopping' || container.state === 'gone') return;
    if (evicted) this.counters.containers.evicted++;
    this.setState(pool, container, 'stopping');
    void container.stop();
  }

  private gone(pool: Pool, container: Container, exit: ExitInfo): void {
    if (container.state === 'idle') {
      this.options.logger.warn({ container: container.id, exit }, 'idle container ended on its own');
    }
    this.setState(pool, container, 'gone');
    this.live.delete(container);
    this.budget.release(container.memoryMb);
    this.counters.containers.stopped++;
    this.pump();
    this.dropIfEmpty(pool);
    this.checkDrained();
  }

  /**
   * A pool with no container in any state and no call waiting is forgotten: a route that changed
   * definition, or went quiet past its idle timeout, does not keep a pool for the node's lifetime.
   */
  private dropIfEmpty(pool: Pool): void {
    if (pool.waiters.length > 0 || pool.idle.length > 0 || pool.busy > 0 || pool.starting > 0) return;
    for (const owner of this.live.values()) if (owner === pool) return;
    if (this.pools.get(pool.key) === pool) this.pools.delete(pool.key);
  }

  /** Re-evaluates every pool with waiters, oldest waiter first; re-entrant calls are folded. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const waiting = [...this.pools.values()].filter((pool) => pool.waiters.length > 0);
        waiting.sort((a, b) => (a.waiters[0]?.enqueuedAt ?? 0) - (b.waiters[0]?.enqueuedAt ?? 0));
        for (const pool of waiting) this.serve(pool);
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private serve(pool: Pool): void {
    for (;;) {
      const container = pool.idle.at(-1);
      const waiter = pool.waiters[0];
      if (container === undefined || waiter === undefined) break;
      this.grant(pool, waiter, container);
    }
    while (this.shouldLaunch(pool)) {
      if (!this.admit(pool)) {
        this.noteHold(pool, 'memory');
        break;
      }
      this.launch(pool);
    }
  }

  private shouldLaunch(pool: Pool): boolean {
    if (!pool.codec.hot) {
      // A cold container serves only the call it was started for.
      return pool.waiters.some((waiter) => !waiter.ownStart) && this.starting < this.maxStarts;
    }
    const decide = this.options.launch === 'naive' ? naiveLaunchDecision : launchDecision;
    const decision: LaunchDecision = decide(
      {
        waiting: pool.waiters.length,
        idle: pool.idle.length,
        busy: pool.busy,
        starting: pool.starting,
        everCompleted: pool.everCompleted,
        runMs: pool.runMs,
        startMs: pool.startMs,
      },
      { starting: this.starting, maxStarts: this.maxStarts },
    );
    this.noteHold(pool, decision.launch ? undefined : decision.hold);
    return decision.launch;
  }

  private noteHold(pool: Pool, hold: string | undefined): void {
    pool.lastHold = hold;
    this.counters.route(pool.statsKey).launch_hold = hold ?? null;
  }

  /**
   * Reserves the pool's memory. When it does not fit, evicts least recently used idle containers of
   * any route, but only when that would make room; the call then waits for their exit.
   */
  private admit(pool: Pool): boolean {
    if (this.budget.tryReserve(pool.memoryMb)) return true;
    let freeing = this.budget.freeMb;
    for (const container of this.live.keys())
      if (container.state === 'stopping') freeing += container.memoryMb;
    if (freeing >= pool.memoryMb) return false;
    const idle = [...this.live].filter(([container]) => container.state === 'idle');
    const evictable = idle.reduce((sum, [container]) => sum + container.memoryMb, 0);
    if (freeing + evictable < pool.memoryMb) return false;
    idle.sort(([a], [b]) => a.lastUsedAt - b.lastUsedAt);
    for (const [container, owner] of idle) {
      if (freeing >= pool.memoryMb) break;
      this.options.logger.info({ container: container.id, for: pool.statsKey }, 'evicting idle container');
      this.retire(owner, container, true);
      freeing += container.memoryMb;
    }
    return false;
  }

  /** The route's CPU share, or the node's default; none when neither gives one. */
  private cpusOf(route: Route): number | undefined {
    const parsed = parseCpus(route.cpus);
    return typeof parsed === 'number' ? parsed : this.options.defaultCpus;
  }

  private launch(pool: Pool): void {
    const id = randomBytes(6).toString('hex');
    const owner = pool.codec.hot ? undefined : pool.waiters.find((waiter) => !waiter.ownStart);
    if (owner) owner.ownStart = true;
    pool.starting++;
    this.starting++;
    this.counters.containers.starting++;
    const { app, route } = pool;
    // Config written before the API refused loader variables, or by another node build on the same
    // database, still never reaches a function.
    const config = withoutLoaderVariables({ ...app.config, ...route.config });
    if (config.dropped.length > 0) {
      this.options.logger.warn(
        { app: app.name, path: route.path, dropped: config.dropped },
        'loader variables dropped from config',
      );
    }
    const env: Record<string, string> = {
      ...config.env,
      FN_APP_NAME: app.name,
      FN_PATH: route.path,
      FN_FORMAT: route.format,
      FN_MEMORY: String(route.memory),
      FN_CONTAINER_ID: id,
      HOSTNAME: this.options.nodeId,
      ...(owner ? pool.codec.callEnv(functionRequest(owner.call)) : {}),
    };
    const began = this.clock.now();
    this.options.driver
      .start({
        id,
        image: route.image,
        env,
        memoryMb: pool.memoryMb,
        cpus: this.cpusOf(route),
        labels: { 'fnguard.node': this.options.nodeId, 'fnguard.app': app.name, 'fnguard.path': route.path },
      })
      .then(
        (instance) => this.started(pool, id, instance, this.clock.now() - began, owner),
        (error: Error) => this.startFailed(pool, error, owner),
      );
  }

  private startEnded(pool: Pool): void {
    pool.starting--;
    this.starting--;
    this.counters.containers.starting--;
  }

  private started(
    pool: Pool,
    id: string,
    instance: Instance,
    startMs: number,
    owner: Waiter | undefined,
  ): void {
    this.startEnded(pool);
    this.counters.containers.started++;
    const routeStats = this.counters.route(pool.statsKey);
    routeStats.containers_started++;
    pool.recordStart(startMs);
    routeStats.start_ms_ewma = pool.startMs ?? 0;
    const container = new Container(
      id,
      pool.memoryMb,
      instance,
      pool.codec,
      this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      this.clock,
      this.options.logger,
      () => {
        if (container.state === 'idle') this.retire(pool, container);
      },
    );
    this.live.set(container, pool);
    void container.exited.then((exit) => this.gone(pool, container, exit));
    if (owner === undefined) this.setState(pool, container, 'idle');
    else if (pool.waiters.includes(owner)) this.grant(pool, owner, container);
    else this.retire(pool, container);
    this.pump();
    this.checkDrained();
  }

  private startFailed(pool: Pool, error: Error, owner: Waiter | undefined): void {
    this.startEnded(pool);
    this.budget.release(pool.memoryMb);
    const message =
      error instanceof UnknownImageError ? error.message : `function failed to start: ${error.message}`;
    this.options.logger.warn({ route: pool.statsKey, image: pool.route.image }, message);
    // The call the start was for fails; the others stay queued and the policy decides again.
    const victim = owner ?? pool.waiters[0];
    if (victim && this.dequeue(pool, victim)) victim.fail(new CallError(502, message));
    this.pump();
    this.dropIfEmpty(pool);
    this.checkDrained();
  }

  private checkDrained(): void {
    const { queued, running } = this.counters.calls;
    if (this.onDrained && queued === 0 && running === 0 && this.starting === 0) this.onDrained();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
        this.checkDrained();
      });
      for (const [container, pool] of this.live) this.retire(pool, container);
      await Promise.all([...this.live.keys()].map((container) => container.exited));
      await this.options.driver.close();
    })();
    return this.closing;
  }
}

export function createRunner(options: RunnerOptions): Runner {
  return new HotRunner(options);
}
