// pool.ts on its own: every transition keeps the pool's counts and the node's /stats gauges in step,
// and a pool reports empty only when nothing waits, starts or lives in it. Last, through the runner:
// a failed call is counted once whichever step failed it, so the call counters always add up.
import { describe, expect, it } from 'vitest';
import type { App, Route } from '../../src/common/wire.js';
import type { Timer } from '../../src/node/runner/clock.js';
import { Container } from '../../src/node/runner/container.js';
import { CallError } from '../../src/node/runner/errors.js';
import { Pool, type PoolHost, poolKey, type Waiter } from '../../src/node/runner/pool.js';
import { createRunner } from '../../src/node/runner/runner.js';
import { RunnerStats } from '../../src/node/runner/stats.js';
import {
  FakeClock,
  FakeDriver,
  FakeInstance,
  settle,
  silentLogger,
  testCall,
  testRoute,
} from './support/runner-fakes.js';

const APP: App = { name: 'app', config: {} };

function setup() {
  const clock = new FakeClock();
  const expired: Container[] = [];
  const host: PoolHost = {
    stats: new RunnerStats(),
    metrics: undefined,
    clock,
    idleExpired: (_pool, container) => expired.push(container),
  };
  const pool = (route: Route = testRoute('/counts')) => new Pool(poolKey(APP, route), APP, route, host);
  let sequence = 0;
  const container = (owner: Pool): Container => {
    sequence++;
    const spec = {
      id: `c${sequence}`,
      image: owner.route.image,
      env: {},
      memoryMb: owner.memoryMb,
      labels: {},
    };
    return new Container(
      spec.id,
      owner.memoryMb,
      new FakeInstance(spec),
      owner.codec,
      1024,
      clock,
      silentLogger,
      () => {},
    );
  };
  const waiter = (owner: Pool): Waiter & { timedOut: boolean } => {
    const entry = {
      call: testCall(owner.route),
      enqueuedAt: clock.now(),
      ownStart: false,
      timedOut: false,
      timer: undefined as unknown as Timer,
      grant: () => {},
      fail: () => {},
    };
    entry.timer = clock.setTimeout(() => (entry.timedOut = true), 1000);
    return entry;
  };
  return { clock, expired, stats: host.stats, pool, container, waiter };
}

describe('runner pool counts', () => {
  it('enqueue and dequeue move the queued gauge once each, and cancel the queue timeout', () => {
    const env = setup();
    const pool = env.pool();
    const first = env.waiter(pool);
    const second = env.waiter(pool);
    pool.enqueue(first);
    pool.enqueue(second);
    expect(env.stats.calls.queued).toBe(2);
    expect(pool.waiters).toEqual([first, second]);
    expect(pool.dequeue(first)).toBe(true);
    expect(pool.dequeue(first)).toBe(false);
    expect(env.stats.calls.queued).toBe(1);
    expect(pool.waiters).toEqual([second]);
    env.clock.advance(1000);
    expect(first.timedOut).toBe(false);
    expect(second.timedOut).toBe(true);
  });

  it("keeps the node's starts in flight the sum of its pools', whether a start succeeds or fails", () => {
    const env = setup();
    const a = env.pool(testRoute('/a'));
    const b = env.pool(testRoute('/b'));
    a.beginStart();
    a.beginStart();
    b.beginStart();
    expect([a.starting, b.starting, env.stats.containers.starting]).toEqual([2, 1, 3]);
    a.endStart(undefined);
    expect([a.starting, env.stats.containers.starting, env.stats.containers.started]).toEqual([1, 2, 0]);
    a.endStart(40);
    b.endStart(60);
    expect([a.starting, b.starting, env.stats.containers.starting]).toEqual([0, 0, 0]);
    expect(env.stats.containers.started).toBe(2);
    const routes = env.stats.snapshot('n', 2).routes;
    expect(routes['app/a']).toMatchObject({ containers_started: 1, start_ms_ewma: 40 });
    expect(routes['app/b']).toMatchObject({ containers_started: 1, start_ms_ewma: 60 });
    expect(a.startMs).toBe(40);
  });

  it('moves containers through idle, busy, stopping and gone with the idle stack and gauges in step', () => {
    const env = setup();
    const pool = env.pool();
    const gauges = env.stats.containers;
    const [x, y] = [env.container(pool), env.container(pool)];
    pool.setState(x, 'idle');
    env.clock.advance(5);
    pool.setState(y, 'idle');
    expect(pool.idle).toEqual([x, y]);
    expect(y.lastUsedAt).toBe(5);
    expect([gauges.idle, gauges.busy]).toEqual([2, 0]);
    pool.setState(y, 'busy');
    expect(pool.idle).toEqual([x]);
    expect([gauges.idle, gauges.busy, pool.busy]).toEqual([1, 1, 1]);
    pool.setState(y, 'idle');
    expect(pool.idle).toEqual([x, y]);
    expect([gauges.idle, gauges.busy, pool.busy]).toEqual([2, 0, 0]);
    pool.setState(x, 'stopping');
    expect([gauges.idle, pool.stopping, pool.idle.length]).toEqual([1, 1, 1]);
    pool.setState(x, 'gone');
    pool.setState(y, 'gone');
    expect([gauges.idle, gauges.busy, gauges.stopped, pool.stopping, pool.idle.length]).toEqual([
      0, 0, 2, 0, 0,
    ]);
  });

  it('reports an idle timeout only for a container still idle when it falls due', () => {
    const env = setup();
    const pool = env.pool(testRoute('/idle', { idle_timeout: 10 }));
    const [kept, used] = [env.container(pool), env.container(pool)];
    pool.setState(kept, 'idle');
    pool.setState(used, 'idle');
    env.clock.advance(5_000);
    pool.setState(used, 'busy');
    env.clock.advance(5_000);
    expect(env.expired).toEqual([kept]);
    pool.setState(used, 'idle');
    env.clock.advance(10_000);
    expect(env.expired).toEqual([kept, used]);
  });

  it('is empty only when nothing is waiting, starting or live in any state', () => {
    const env = setup();
    const pool = env.pool();
    expect(pool.isEmpty()).toBe(true);

    const waiter = env.waiter(pool);
    pool.enqueue(waiter);
    expect(pool.isEmpty()).toBe(false);
    pool.dequeue(waiter);
    expect(pool.isEmpty()).toBe(true);

    pool.beginStart();
    expect(pool.isEmpty()).toBe(false);
    pool.endStart(30);
    expect(pool.isEmpty()).toBe(true);

    const container = env.container(pool);
    for (const state of ['idle', 'busy', 'stopping'] as const) {
      pool.setState(container, state);
      expect(pool.isEmpty(), state).toBe(false);
    }
    pool.setState(container, 'gone');
    expect(pool.isEmpty()).toBe(true);
  });

  it("notes a launch hold on the pool and in the route's /stats entry", () => {
    const env = setup();
    const pool = env.pool();
    pool.noteHold('memory');
    expect(pool.lastHold).toBe('memory');
    expect(env.stats.snapshot('n', 1).routes['app/counts']?.launch_hold).toBe('memory');
    pool.noteHold(undefined);
    expect(pool.lastHold).toBeUndefined();
    expect(env.stats.snapshot('n', 1).routes['app/counts']?.launch_hold).toBeNull();
  });
});

describe('runner call counts', () => {
  it('counts a failed call once, whether its start failed, it timed out in line, crashed or was refused', async () => {
    const clock = new FakeClock();
    const driver = new FakeDriver();
    const runner = createRunner({ nodeId: 'n', driver, logger: silentLogger, capacityMb: 100_000, clock });
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (error: unknown) => error,
      );
    const balanced = () => {
      const { calls } = runner.stats();
      const routed = Object.values(runner.stats().routes).reduce((sum, route) => sum + route.calls, 0);
      expect(calls.queued + calls.running + calls.complete + calls.failed).toBe(routed);
      return calls;
    };

    const noStart = outcome(runner.run(testCall(testRoute('/nostart'))));
    await settle();
    driver.failStart(new Error('no such image'));
    expect(await noStart).toMatchObject({ status: 502 });
    expect(balanced()).toMatchObject({ failed: 1, queued: 0 });

    const route = testRoute('/crash', { timeout: 2 });
    const first = outcome(runner.run(testCall(route)));
    const queued = outcome(runner.run(testCall(route)));
    await settle();
    expect(balanced()).toMatchObject({ queued: 2 });
    const instance = driver.finishStart();
    await settle();
    expect(balanced()).toMatchObject({ queued: 1, running: 1 });
    // The call still in line gives up after half its timeout; the one running then crashes.
    clock.advance(1000);
    expect(await queued).toMatchObject({ status: 503 });
    expect(balanced()).toMatchObject({ failed: 2, queued: 0, running: 1 });
    instance.exit({ code: 3, signal: null });
    expect(await first).toBeInstanceOf(CallError);
    expect(balanced()).toMatchObject({ failed: 3, running: 0, complete: 0 });

    const closing = runner.close();
    expect(await outcome(runner.run(testCall(route)))).toMatchObject({ status: 503 });
    expect(balanced()).toMatchObject({ failed: 4, running: 0, complete: 0 });
    await closing;
  });
});
