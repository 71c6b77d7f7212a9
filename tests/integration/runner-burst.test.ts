// The launch policy under a burst of concurrent calls to a cold route (issue 3): fast calls line up
// behind a few hot containers, slow calls scale out. Both sides are asserted, each with the measured
// run and start EWMAs in the failure message.
import { describe, expect, it } from 'vitest';
import { runnerNodeForFile, uniqueApp } from './runner-support.js';

const BURST = 50;
/** A herd starts one container per call; queueing behind the first ones must stay at or under this. */
const FAST_MAX_CONTAINERS = 4;
/** Calls of about 1 s outlast a start many times over: a serial runner (1 container) must fail this. */
const SLOW_MIN_CONTAINERS = 5;

const rn = runnerNodeForFile();

async function burst(sleepMs: number) {
  const app = uniqueApp('burst');
  await rn.api.createRoute(app, { path: '/sleep', image: 'fnguard/sleep', format: 'http' });
  const results = await Promise.all(
    Array.from({ length: BURST }, () => rn.api.call(app, '/sleep', `?ms=${sleepMs}`)),
  );
  const route = (await rn.stats()).routes[`${app}/sleep`];
  if (route === undefined) throw new Error('route missing from /stats');
  const why = `containers_started=${route.containers_started}, run_ms_ewma R=${route.run_ms_ewma.toFixed(1)} ms, start_ms_ewma S=${route.start_ms_ewma.toFixed(1)} ms, cold=${route.cold}, hot=${route.hot}`;
  return { results, route, why };
}

describe(`a burst of ${BURST} concurrent calls to a cold route`, () => {
  it(`of about 5 ms each starts at most ${FAST_MAX_CONTAINERS} containers, and all succeed`, async () => {
    const { results, route, why } = await burst(5);
    expect(
      results.map((r) => r.status).filter((s) => s !== 200),
      why,
    ).toEqual([]);
    expect(route.containers_started, why).toBeLessThanOrEqual(FAST_MAX_CONTAINERS);
    expect(route.containers_started, why).toBeGreaterThanOrEqual(1);
    expect(route.calls, why).toBe(BURST);
    expect(route.cold + route.hot, why).toBe(BURST);
  });

  it(`of about 1 s each starts at least ${SLOW_MIN_CONTAINERS} containers (never more than calls)`, async () => {
    const { results, route, why } = await burst(1000);
    expect(
      results.map((r) => r.status).filter((s) => s !== 200),
      why,
    ).toEqual([]);
    expect(route.containers_started, why).toBeGreaterThanOrEqual(SLOW_MIN_CONTAINERS);
    expect(route.containers_started, why).toBeLessThanOrEqual(BURST);
    // A start finishing after the queue drained leaves a container that served no call.
    expect(route.cold, why).toBeLessThanOrEqual(route.containers_started);
  });
});
