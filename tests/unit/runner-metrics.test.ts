// The runner's metrics on GET /metrics: the same counts as /stats (calls, cold and hot, containers),
// start and run times as histograms per route, and per-route series bounded to METRIC_ROUTES.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { METRIC_ROUTES, RunnerMetrics } from '../../src/node/runner/metrics.js';
import { createRunner } from '../../src/node/runner/runner.js';
import { RunnerStats } from '../../src/node/runner/stats.js';
import { FakeClock, FakeDriver, settle, silentLogger, testCall, testRoute } from './support/runner-fakes.js';

/** The value of one series in Prometheus text, e.g. series(text, 'fn_calls_total{outcome="complete"}'). */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((one) => one.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('runner metrics', () => {
  it('count what /stats counts and time starts and runs, per route', async () => {
    const clock = new FakeClock();
    const driver = new FakeDriver();
    const registry = new Registry();
    const runner = createRunner({
      nodeId: 'n',
      driver,
      logger: silentLogger,
      capacityMb: 100_000,
      clock,
      metrics: registry,
    });
    const route = testRoute('/timed');
    const first = runner.run(testCall(route));
    await settle();
    clock.advance(300);
    const instance = driver.finishStart(route.image);
    await settle();
    clock.advance(40);
    instance.respond();
    await first;
    await settle();
    const second = runner.run(testCall(route));
    await settle();
    clock.advance(20);
    instance.respond();
    await second;

    const text = await registry.metrics();
    const stats = runner.stats();
    expect(series(text, 'fn_calls_total{outcome="complete"}')).toBe(stats.calls.complete);
    expect(stats.calls.complete).toBe(2);
    expect(series(text, 'fn_calls_total{outcome="failed"}')).toBe(0);
    expect(series(text, 'fn_route_calls_total{route="app/timed",start="cold"}')).toBe(1);
    expect(series(text, 'fn_route_calls_total{route="app/timed",start="hot"}')).toBe(1);
    expect(series(text, 'fn_container_events_total{event="started"}')).toBe(1);
    expect(series(text, 'fn_containers{state="idle"}')).toBe(1);
    expect(series(text, 'fn_calls_in_progress{state="running"}')).toBe(0);
    expect(series(text, 'fn_container_start_seconds_count{route="app/timed"}')).toBe(1);
    expect(series(text, 'fn_container_start_seconds_sum{route="app/timed"}')).toBeCloseTo(0.3, 2);
    expect(series(text, 'fn_call_run_seconds_count{route="app/timed"}')).toBe(2);
    expect(series(text, 'fn_call_run_seconds_sum{route="app/timed"}')).toBeCloseTo(0.06, 2);
    await runner.close();
  });

  it(`keep series for the ${METRIC_ROUTES} most recently run routes only`, async () => {
    const registry = new Registry();
    const stats = new RunnerStats();
    const metrics = new RunnerMetrics(registry, stats);
    for (let i = 0; i <= METRIC_ROUTES; i++) {
      stats.route(`app/r${i}`).hot++;
      metrics.ran(`app/r${i}`, 5);
    }
    const text = await registry.metrics();
    const routes = (name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`)).length;
    expect(routes('fn_call_run_seconds_count')).toBe(METRIC_ROUTES);
    expect(routes('fn_route_calls_total')).toBe(2 * METRIC_ROUTES);
    expect(
      series(text, 'fn_call_run_seconds_count{route="app/r0"}'),
      'the oldest route left',
    ).toBeUndefined();
    expect(series(text, `fn_call_run_seconds_count{route="app/r${METRIC_ROUTES}"}`)).toBe(1);
  });
});
