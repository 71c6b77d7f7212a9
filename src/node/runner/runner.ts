// The hot-functions runner: the decisions over the pools of pool.ts.
// It owns when to launch (the policy of policy.ts, a node-wide cap on concurrent starts), memory
// admission and LRU eviction of idle containers of any route (giving up with 503 after half a call's
// timeout), launching, idle_timeout retirement and draining; the pools own the counts those decisions
// change. All formats go through the same path; a `default`-format container serves one call and ends.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeStats, Route } from '../../common/wire.js';
import { parseCpus } from '../cpus.js';
import { type Driver, type ExitInfo, type Instance, UnknownImageError } from '../drivers/driver.js';
import { withoutLoaderVariables } from '../drivers/loader-variables.js';
import { DEFAULT_MAX_RESPONSE_BYTES, type FunctionRequest } from '../formats/index.js';
import type { CallRequest, CallResult } from './call.js';
import { type Clock, realClock } from './clock.js';
import { Container } from './container.js';
import { CallError, clientGone, queueFull, tooBusy } from './errors.js';
import { MemoryBudget } from './memory.js';
import { RunnerMetrics } from './metrics.js';
import { type LaunchDecision, launchDecision, naiveLaunchDecision } from './policy.js';
import { Pool, type PoolHost, poolKey, statsKey, type Waiter } from './pool.js';
import { RunnerStats } from './stats.js';

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
  /** `naive` (the guard's own tests only): no launch policy, a container per waiting call up to the start cap. */
  launch?: 'adaptive' | 'naive';
  clock?: Clock;
  /** The node's registry: the runner's counts, start and run times go on its GET /metrics. */
  metrics?: Registry;
}

export interface Runner {
  /** Runs one call; rejects with CallError (502, 503 or 504). */
  run(call: CallRequest): Promise<CallResult>;
  /** The GET /stats body. */
  stats(): NodeStats;
  /** Drains: refuses new calls, finishes queued and running ones, then stops every container. */
  close(): Promise<void>;
}

const DEFAULT_MAX_STARTS = 4;
/** Calls that may wait for one route before more are refused (a memory bound, not a fairness one). */
const DEFAULT_MAX_QUEUE = 1000;

/** What the function sees of a call (the format encodes it; the default format's environment too). */
function functionRequest(call: CallRequest): FunctionRequest {
  return {
    callId: call.id,
    method: call.method,
    requestUrl: call.requestUrl,
    headers: call.headers,
    body: call.body,
    deadline: new Date(Date.now() + call.route.timeout * 1000),
    ...(call.invoke ? { invoke: true } : {}),
  };
}

class HotRunner implements Runner {
  private readonly pools = new Map<string, Pool>();
  private readonly counters = new RunnerStats();
  private readonly metrics: RunnerMetrics | undefined;
  private readonly budget: MemoryBudget;
  private readonly clock: Clock;
  private readonly maxStarts: number;
  /** What the pools share; their idle timeouts retire through the runner. */
  private readonly host: PoolHost;
  /** Every placed container not yet gone, in placement order: eviction and draining walk it. */
  private readonly live = new Map<Container, Pool>();
  private pumping = false;
  private pumpAgain = false;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;

  constructor(private readonly options: RunnerOptions) {
    this.budget = new MemoryBudget(options.capacityMb);
    this.clock = options.clock ?? realClock;
    this.maxStarts = options.maxStarts ?? DEFAULT_MAX_STARTS;
    this.metrics =
      options.metrics === undefined ? undefined : new RunnerMetrics(options.metrics, this.counters);
    this.host = {
      stats: this.counters,
      metrics: this.metrics,
      clock: this.clock,
      idleExpired: (pool, container) => this.retire(pool, container),
    };
  }

  /** Starts in flight on this node: the gauge the pools keep (Pool.beginStart), not a count of its own. */
  private get starting(): number {
    return this.counters.containers.starting;
  }

  stats(): NodeStats {
    return this.counters.snapshot(this.options.nodeId, this.pools.size);
  }

  async run(call: CallRequest): Promise<CallResult> {
    const routeStats = this.counters.route(statsKey(call.app, call.route));
    routeStats.calls++;
    // Set once the call holds a container: from then on it is running and must give it back.
    let held: { pool: Pool; container: Container } | undefined;
    try {
      if (this.closing) throw tooBusy(1);
      const pool = this.poolFor(call);
      const arrivedAt = this.clock.now();
      const { container, cold } = await this.acquire(pool, call);
      held = { pool, container };
      const waitMs = this.clock.now() - arrivedAt;
      const { response, runMs } = await container.exchange(functionRequest(call), call.route.timeout * 1000);
      pool.recordRun(runMs, cold);
      this.metrics?.ran(pool.statsKey, runMs);
      routeStats.run_ms_ewma = pool.runMs ?? 0;
      pool.everCompleted = true;
      this.counters.calls.complete++;
      return { ...response, containerId: container.id, cold, waitMs };
    } catch (error) {
      // The one place a call is counted failed, whether it was refused, never got a container or
      // failed in its container.
      this.counters.calls.failed++;
      if (held !== undefined && error instanceof CallError) {
        this.options.logger.warn(
          { call: call.id, container: held.container.id, status: error.status, why: held.container.broken },
          `call failed: ${error.message}`,
        );
      }
      throw error;
    } finally {
      if (held !== undefined) {
        this.counters.calls.running--;
        this.afterCall(held.pool, held.container);
      }
    }
  }

  private poolFor(call: CallRequest): Pool {
    const key = poolKey(call.app, call.route, call.fn);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(key, call.app, call.route, this.host, call.fn);
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
      pool.enqueue(waiter);
      // A client gone before its call got a container takes its place in line with it: no container
      // is started for it (a start already under way for the route serves the next caller).
      call.signal?.addEventListener(
        'abort',
        () => {
          if (!pool.dequeue(waiter)) return;
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

  private giveUp(pool: Pool, waiter: Waiter): void {
    if (!pool.dequeue(waiter)) return;
    waiter.fail(tooBusy(pool.retryAfterSeconds));
    this.pump();
    this.dropIfEmpty(pool);
    this.checkDrained();
  }

  /** Hands a container to a waiting call: from here the call is running, in the same step. */
  private grant(pool: Pool, waiter: Waiter, container: Container): void {
    pool.dequeue(waiter);
    this.counters.calls.running++;
    const cold = container.calls === 0;
    const routeStats = this.counters.route(pool.statsKey);
    if (cold) routeStats.cold++;
    else routeStats.hot++;
    pool.setState(container, 'busy');
    waiter.grant(container, cold);
  }

  private afterCall(pool: Pool, container: Container): void {
    if (container.state === 'busy') {
      if (pool.codec.hot && container.broken === undefined) pool.setState(container, 'idle');
      else this.retire(pool, container);
    }
    this.pump();
    this.checkDrained();
  }

  private retire(pool: Pool, container: Container, evicted = false): void {
    if (container.state === 'stopping' || container.state === 'gone') return;
    if (evicted) this.counters.containers.evicted++;
    pool.setState(container, 'stopping');
    void container.stop();
  }

  private gone(pool: Pool, container: Container, exit: ExitInfo): void {
    if (container.state === 'idle') {
      this.options.logger.warn({ container: container.id, exit }, 'idle container ended on its own');
    }
    pool.setState(container, 'gone');
    this.live.delete(container);
    this.budget.release(container.memoryMb);
    this.pump();
    this.dropIfEmpty(pool);
    this.checkDrained();
  }

  /**
   * A pool with no container in any state and no call waiting is forgotten: a route that changed
   * definition, or went quiet past its idle timeout, does not keep a pool for the node's lifetime.
   */
  private dropIfEmpty(pool: Pool): void {
    if (pool.isEmpty() && this.pools.get(pool.key) === pool) this.pools.delete(pool.key);
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
        pool.noteHold('memory');
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
    const decision: LaunchDecision = decide(pool.view(), {
      starting: this.starting,
      maxStarts: this.maxStarts,
    });
    pool.noteHold(decision.launch ? undefined : decision.hold);
    return decision.launch;
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
    pool.beginStart();
    const { app, route, fn } = pool;
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
      ...(fn ? { FN_FN_ID: fn.id, FN_APP_ID: fn.appId, FN_FN_NAME: fn.name } : {}),
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
        labels: {
          'fnlb-guard.node': this.options.nodeId,
          'fnlb-guard.app': app.name,
          'fnlb-guard.path': route.path,
          ...(fn ? { 'fnlb-guard.fn': fn.id } : {}),
        },
        // http-stream: a socket directory, FN_LISTENER, and readiness when lsnr.sock is linked.
        ...(pool.codec.transport === 'socket' ? { listener: true } : {}),
      })
      .then(
        (instance) => this.started(pool, id, instance, this.clock.now() - began, owner),
        (error: Error) => this.startFailed(pool, error, owner),
      );
  }

  private started(
    pool: Pool,
    id: string,
    instance: Instance,
    startMs: number,
    owner: Waiter | undefined,
  ): void {
    let container: Container;
    try {
      container = new Container(
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
    } catch (error) {
      // An instance the runner cannot talk to (a driver that gave an http-stream instance no socket).
      void instance.stop({ force: true });
      this.startFailed(pool, error as Error, owner);
      return;
    }
    pool.endStart(startMs);
    this.live.set(container, pool);
    void container.exited.then((exit) => this.gone(pool, container, exit));
    if (owner === undefined) pool.setState(container, 'idle');
    else if (pool.waiters.includes(owner)) this.grant(pool, owner, container);
    else this.retire(pool, container);
    this.pump();
    this.checkDrained();
  }

  private startFailed(pool: Pool, error: Error, owner: Waiter | undefined): void {
    pool.endStart(undefined);
    this.budget.release(pool.memoryMb);
    const message =
      error instanceof UnknownImageError ? error.message : `function failed to start: ${error.message}`;
    this.options.logger.warn({ route: pool.statsKey, image: pool.route.image }, message);
    // The call the start was for fails; the others stay queued and the policy decides again.
    const victim = owner ?? pool.waiters[0];
    if (victim && pool.dequeue(victim)) victim.fail(new CallError(502, message));
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
