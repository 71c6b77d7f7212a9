// The launch policy as a pure function: each rule holds and releases.
import { describe, expect, it } from 'vitest';
import {
  averageWaitMs,
  expectedStartMs,
  expectedWaitMs,
  launchDecision,
  naiveLaunchDecision,
  type PoolView,
} from '../../src/node/runner/policy.js';

const node = { starting: 0, maxStarts: 4 };
const warm: PoolView = {
  waiting: 5,
  idle: 0,
  busy: 1,
  starting: 0,
  everCompleted: true,
  runMs: 100,
  startMs: 50,
};

describe('launch policy', () => {
  it('never launches without effective waiters (waiting - idle)', () => {
    expect(launchDecision({ ...warm, waiting: 0 }, node)).toEqual({ launch: false, hold: 'no-waiters' });
    expect(launchDecision({ ...warm, waiting: 2, idle: 2 }, node)).toEqual({
      launch: false,
      hold: 'no-waiters',
    });
  });

  it('starter bound: no more starters than effective waiters', () => {
    expect(launchDecision({ ...warm, waiting: 3, starting: 3 }, node)).toEqual({
      launch: false,
      hold: 'starter-bound',
    });
    expect(launchDecision({ ...warm, waiting: 3, idle: 1, starting: 2 }, node)).toEqual({
      launch: false,
      hold: 'starter-bound',
    });
    expect(launchDecision({ ...warm, waiting: 3, starting: 2 }, node)).toEqual({ launch: true });
  });

  it('first start guard: one container until a call has finished here', () => {
    const cold: PoolView = { ...warm, everCompleted: false, runMs: undefined, startMs: undefined };
    expect(launchDecision({ ...cold, waiting: 50, busy: 0, starting: 0 }, node)).toEqual({ launch: true });
    expect(launchDecision({ ...cold, waiting: 50, busy: 0, starting: 1 }, node)).toEqual({
      launch: false,
      hold: 'first-start-guard',
    });
    expect(launchDecision({ ...cold, waiting: 50, busy: 1, starting: 0 }, node)).toEqual({
      launch: false,
      hold: 'first-start-guard',
    });
  });

  it('adaptive: queues fast functions behind busy containers, scales out slow ones', () => {
    // R=1 ms, 9 waiting, 1 busy: the last call waits about 10 ms, the average one 5 ms; a start takes 50.
    const fast = { ...warm, waiting: 9, runMs: 1, startMs: 50 };
    expect(expectedWaitMs(fast, 1)).toBe(10);
    expect(averageWaitMs(fast, 1)).toBe(5);
    expect(launchDecision(fast, node)).toEqual({ launch: false, hold: 'adaptive' });
    // R=1 s: seconds of queueing lose to a 50 ms start.
    expect(launchDecision({ ...fast, runMs: 1000 }, node)).toEqual({ launch: true });
    // Equal is not "exceeds": the exact boundary (10 * 10 / 2 = 50) queues.
    expect(launchDecision({ ...fast, runMs: 10 }, node)).toEqual({ launch: false, hold: 'adaptive' });
    expect(launchDecision({ ...fast, runMs: 10.01 }, node)).toEqual({ launch: true });
  });

  it('adaptive counts starting containers as capacity coming', () => {
    const pool = { ...warm, waiting: 9, busy: 1, runMs: 20, startMs: 50 };
    expect(launchDecision(pool, node)).toEqual({ launch: true }); // 20*10/1/2 = 100 > 50
    expect(launchDecision({ ...pool, starting: 1 }, node)).toEqual({ launch: false, hold: 'adaptive' }); // 50 <= 50
  });

  it('adaptive: a start behind other starts in flight is expected to take longer', () => {
    expect(expectedStartMs(50, { starting: 2, maxStarts: 4 })).toBe(150);
    const pool = { ...warm, waiting: 9, busy: 1, runMs: 20, startMs: 50 }; // average wait 100
    expect(launchDecision(pool, { starting: 0, maxStarts: 4 })).toEqual({ launch: true });
    expect(launchDecision(pool, { starting: 1, maxStarts: 4 })).toEqual({ launch: false, hold: 'adaptive' });
  });

  it('launches when nothing is busy or starting, however fast the function', () => {
    const pool = { ...warm, waiting: 1, busy: 0, runMs: 1, startMs: 1000 };
    expect(launchDecision(pool, node)).toEqual({ launch: true });
  });

  it('per-node cap on concurrent starts', () => {
    const slow = { ...warm, runMs: 1000 };
    expect(launchDecision(slow, { starting: 4, maxStarts: 4 })).toEqual({ launch: false, hold: 'start-cap' });
    expect(launchDecision(slow, { starting: 3, maxStarts: 4 })).toEqual({ launch: true });
  });

  it('the naive test mode starts a container for every call not yet covered, up to the cap', () => {
    const cold = { ...warm, everCompleted: false, busy: 0, starting: 1, waiting: 5 };
    expect(launchDecision(cold, node)).toEqual({ launch: false, hold: 'first-start-guard' });
    expect(naiveLaunchDecision(cold, node)).toEqual({ launch: true });
    expect(naiveLaunchDecision({ ...cold, starting: 5 }, node)).toEqual({
      launch: false,
      hold: 'no-waiters',
    });
    expect(naiveLaunchDecision(cold, { starting: 4, maxStarts: 4 })).toEqual({
      launch: false,
      hold: 'start-cap',
    });
  });
});
