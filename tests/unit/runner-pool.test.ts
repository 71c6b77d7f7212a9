// The runner's pools under a fake clock and an in-memory driver: the launch policy in motion, idle
// reuse, idle timeout, LRU eviction, memory admission, broken containers and the /stats counters.
import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/common/wire.js';
import type { CallResult } from '../../src/node/runner/call.js';
import { CallError } from '../../src/node/runner/errors.js';
import { createRunner, type Runner } from '../../src/node/runner/runner.js';
import {
  FakeClock,
  FakeDriver,
  type FakeInstance,
  settle,
  silentLogger,
  testCall,
  testRoute,
} from './support/runner-fakes.js';

interface Outcome {
  result?: CallResult;
  error?: unknown;
}

function setup(options: { capacityMb?: number; maxStarts?: number } = {}) {
  const clock = new FakeClock();
  const driver = new FakeDriver();
  const runner = createRunner({
    nodeId: 'node-a',
    driver,
    logger: silentLogger,
    capacityMb: options.capacityMb ?? 100_000,
    maxStarts: options.maxStarts,
    clock,
  });
  const call = (route: Route): Outcome & { done: Promise<void> } => {
    const outcome: Outcome & { done: Promise<void> } = { done: Promise.resolve() };
    outcome.done = runner.run(testCall(route)).then(
      (result) => {
        outcome.result = result;
      },
      (error: unknown) => {
        outcome.error = error;
      },
    );
    return outcome;
  };
  return { clock, driver, runner, call };
}

/** Starts the route's first container (start takes `startMs`), runs one call taking `runMs`. */
async function warmUp(
  env: ReturnType<typeof setup>,
  route: Route,
  startMs: number,
  runMs: number,
): Promise<FakeInstance> {
  const first = env.call(route);
  await settle();
  env.clock.advance(startMs);
  const instance = env.driver.finishStart(route.image);
  await settle();
  env.clock.advance(runMs);
  instance.respond();
  await first.done;
  await settle();
  return instance;
}

function routeStats(runner: Runner, route: Route) {
  return runner.stats().routes[`app${route.path}`];
}

describe('runner pools (fake clock)', () => {
  it('first start guard: a burst on a cold route starts one container until a call finishes', async () => {
    const env = setup();
    const route = testRoute('/guard');
    const calls = Array.from({ length: 10 }, () => env.call(route));
    await settle();
    expect(env.driver.pendingStarts).toHaveLength(1);
    env.clock.advance(50);
    const first = env.driver.finishStart();
    await settle();
    expect(first.pending).toBe(1);
    expect(env.driver.pendingStarts).toHaveLength(0);
    expect(env.runner.stats().calls).toMatchObject({ queued: 9, running: 1 });
    // The first call finishes slowly (R=1000 >> S=50): now the policy may scale out.
    env.clock.advance(1000);
    first.respond();
    await settle();
    expect(env.driver.pendingStarts.length).toBeGreaterThan(1);
    expect(calls.filter((c) => c.result || c.error)).toHaveLength(1);
  });

  it('starter bound: never more starters than effective waiters', async () => {
    const env = setup();
    const route = testRoute('/bound');
    const first = env.call(route);
    const others = [env.call(route), env.call(route), env.call(route)];
    await settle();
    env.clock.advance(50);
    const a = env.driver.finishStart();
    await settle();
    env.clock.advance(1000);
    a.respond();
    await first.done;
    await settle();
    // a took one of the 3 waiters; 2 remain, so 2 starters although the cap (4) and the slow
    // function would allow more.
    expect(a.pending).toBe(1);
    expect(env.driver.pendingStarts).toHaveLength(2);
    expect(env.runner.stats().containers.starting).toBe(2);
    expect(others.every((c) => c.result === undefined)).toBe(true);
  });

  it('adaptive: a fast function lines up behind its one hot container', async () => {
    const env = setup();
    const route = testRoute('/fast');
    const a = await warmUp(env, route, 50, 1);
    const calls = Array.from({ length: 20 }, () => env.call(route));
    await settle();
    for (let i = 0; i < 20; i++) {
      expect(env.driver.pendingStarts).toHaveLength(0);
      env.clock.advance(1);
      a.respond();
      await settle();
    }
    await Promise.all(calls.map((c) => c.done));
    expect(calls.every((c) => c.result?.status === 200)).toBe(true);
    expect(env.runner.stats().containers.started).toBe(1);
    expect(routeStats(env.runner, route)).toMatchObject({
      calls: 21,
      cold: 1,
      hot: 20,
      containers_started: 1,
    });
  });

  it('adaptive: a slow function scales out (and R, S are the seeded EWMAs)', async () => {
    const env = setup();
    const route = testRoute('/slow');
    await warmUp(env, route, 50, 1000);
    expect(routeStats(env.runner, route)).toMatchObject({ run_ms_ewma: 1000, start_ms_ewma: 50 });
    const calls = Array.from({ length: 20 }, () => env.call(route));
    await settle();
    // One call went to the idle container; 19 wait behind it for about 19 s, far more than 50 ms.
    expect(env.driver.pendingStarts).toHaveLength(4);
    expect(calls.filter((c) => c.result || c.error)).toHaveLength(0);
  });

  it('R is seeded by the first call, then follows hot calls only (a first call pays warm-up)', async () => {
    const env = setup();
    const route = testRoute('/seed');
    const a = await warmUp(env, route, 50, 100);
    expect(routeStats(env.runner, route)?.run_ms_ewma).toBe(100);
    const hot = env.call(route);
    await settle();
    env.clock.advance(10);
    a.respond();
    await hot.done;
    // Re-seeded by the first hot call, not averaged with the cold one.
    expect(routeStats(env.runner, route)?.run_ms_ewma).toBe(10);
    const again = env.call(route);
    await settle();
    env.clock.advance(20);
    a.respond();
    await again.done;
    expect(routeStats(env.runner, route)?.run_ms_ewma).toBeCloseTo(0.3 * 20 + 0.7 * 10);
  });

  it('caps concurrent starts per node across routes', async () => {
    const env = setup({ maxStarts: 2 });
    const routes = [testRoute('/r1'), testRoute('/r2'), testRoute('/r3')];
    for (const route of routes) env.call(route);
    await settle();
    expect(env.driver.pendingStarts.map((s) => s.spec.image)).toEqual(['test/r1', 'test/r2']);
    env.driver.finishStart('test/r1');
    await settle();
    expect(env.driver.pendingStarts.map((s) => s.spec.image)).toEqual(['test/r2', 'test/r3']);
  });

  it('reuses idle containers most recently used first', async () => {
    const env = setup();
    const route = testRoute('/mru');
    const a = await warmUp(env, route, 50, 1000);
    const second = env.call(route);
    const third = env.call(route);
    await settle();
    expect(a.pending).toBe(1);
    const b = env.driver.finishStart();
    await settle();
    expect(b.pending).toBe(1);
    env.clock.advance(10);
    a.respond();
    env.clock.advance(10);
    b.respond();
    await Promise.all([second.done, third.done]);
    await settle();
    const next = env.call(route);
    await settle();
    expect(b.pending).toBe(1);
    expect(a.pending).toBe(0);
    b.respond();
    await next.done;
    expect(next.result?.containerId).toBe(b.id);
    expect(next.result?.cold).toBe(false);
  });

  it('stops idle containers after idle_timeout', async () => {
    const env = setup();
    const route = testRoute('/idle', { idle_timeout: 5 });
    const a = await warmUp(env, route, 50, 10);
    expect(env.runner.stats().containers).toMatchObject({ idle: 1, stopped: 0 });
    env.clock.advance(4999);
    expect(a.stoppedWith).toBeUndefined();
    env.clock.advance(1);
    expect(a.stoppedWith).toEqual({ force: false });
    await settle();
    expect(env.runner.stats().containers).toMatchObject({ idle: 0, busy: 0, stopped: 1, evicted: 0 });
  });

  it('evicts the least recently used idle container of any route under memory pressure', async () => {
    const env = setup({ capacityMb: 256 });
    const older = testRoute('/older');
    const newer = testRoute('/newer');
    const a = await warmUp(env, older, 10, 10);
    env.clock.advance(100);
    const b = await warmUp(env, newer, 10, 10);
    const third = env.call(testRoute('/third'));
    await settle();
    expect(a.stoppedWith).toEqual({ force: false });
    expect(b.stoppedWith).toBeUndefined();
    expect(env.runner.stats().containers.evicted).toBe(1);
    // The start waits for the evicted container to be gone and its memory released.
    await settle();
    expect(env.driver.pendingStarts.map((s) => s.spec.image)).toEqual(['test/third']);
    const c = env.driver.finishStart();
    await settle();
    c.respond();
    await third.done;
    expect(third.result?.status).toBe(200);
  });

  it('admission: with no room and nothing to evict, a call waits half its timeout, then 503', async () => {
    const env = setup({ capacityMb: 128 });
    const busyRoute = testRoute('/busy');
    const first = env.call(busyRoute);
    await settle();
    env.driver.finishStart();
    await settle();
    const refused = env.call(testRoute('/refused', { timeout: 10 }));
    await settle();
    expect(env.driver.pendingStarts).toHaveLength(0);
    env.clock.advance(4999);
    await settle();
    expect(refused.error).toBeUndefined();
    env.clock.advance(1);
    await refused.done;
    expect(refused.error).toBeInstanceOf(CallError);
    expect(refused.error).toMatchObject({ status: 503, message: 'Timed out - server too busy' });
    expect((refused.error as CallError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(env.runner.stats().calls).toMatchObject({ queued: 0, running: 1, failed: 1 });
    expect(first.result).toBeUndefined();
  });

  it('a crashed container answers 502 and is replaced, never reused', async () => {
    const env = setup();
    const route = testRoute('/crash');
    const a = await warmUp(env, route, 10, 10);
    const crashing = env.call(route);
    await settle();
    a.exit({ code: 3, signal: null });
    await crashing.done;
    expect(crashing.error).toMatchObject({ status: 502 });
    expect((crashing.error as CallError).message).toMatch(/exited with code 3/);
    await settle();
    const next = env.call(route);
    await settle();
    expect(env.driver.pendingStarts).toHaveLength(1);
    const b = env.driver.finishStart();
    await settle();
    b.respond();
    await next.done;
    expect(next.result?.containerId).not.toBe(a.id);
    expect(env.runner.stats().containers).toMatchObject({ started: 2, stopped: 1, idle: 1 });
  });

  it('a call past its timeout answers 504 and its container is killed', async () => {
    const env = setup();
    const route = testRoute('/hang', { timeout: 2 });
    const a = await warmUp(env, route, 10, 10);
    const hung = env.call(route);
    await settle();
    env.clock.advance(1999);
    await settle();
    expect(hung.error).toBeUndefined();
    env.clock.advance(1);
    await hung.done;
    expect(hung.error).toMatchObject({ status: 504, message: 'Timed out' });
    expect(a.stoppedWith).toEqual({ force: true });
  });

  it('broken framing answers 502 and the container is killed', async () => {
    const env = setup();
    const route = testRoute('/garble');
    const a = await warmUp(env, route, 10, 10);
    const garbled = env.call(route);
    await settle();
    a.write('not http at all\r\n\r\n');
    await garbled.done;
    expect(garbled.error).toMatchObject({ status: 502 });
    expect((garbled.error as CallError).message).toMatch(/invalid http response/);
    expect(a.stoppedWith).toEqual({ force: true });
  });

  it('a failed start fails the call it was for with 502', async () => {
    const env = setup();
    const route = testRoute('/nostart');
    const call = env.call(route);
    await settle();
    env.driver.failStart(new Error('no such image'));
    await call.done;
    expect(call.error).toMatchObject({ status: 502 });
    expect(env.runner.stats().containers).toMatchObject({ started: 0, starting: 0 });
  });

  it('close drains: queued and running calls finish, then every container stops', async () => {
    const env = setup();
    const route = testRoute('/drain');
    // Fast function (R=1, S=50): the queued call waits for the one container, no second start.
    const a = await warmUp(env, route, 50, 1);
    const running = env.call(route);
    const queued = env.call(route);
    await settle();
    let closed = false;
    const closing = env.runner.close().then(() => {
      closed = true;
    });
    const refused = env.call(route);
    await refused.done;
    expect(refused.error).toMatchObject({ status: 503 });
    a.respond();
    await settle();
    expect(closed).toBe(false);
    a.respond();
    await Promise.all([closing, running.done, queued.done]);
    expect(running.result?.status).toBe(200);
    expect(queued.error).toBeUndefined();
    expect(queued.result?.status).toBe(200);
    expect(a.stoppedWith).toBeDefined();
    expect(env.driver.closed).toBe(true);
    expect(env.runner.stats().containers).toMatchObject({ idle: 0, busy: 0, stopped: 1 });
  });
});
