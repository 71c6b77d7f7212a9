import { describe, expect, it } from 'vitest';
import { EXIT, exitStatus } from '../../src/harness/exit-codes.js';
import type { ThresholdBounds } from '../../src/harness/flags.js';
import { evaluateThresholds } from '../../src/harness/thresholds.js';
import {
  allOnOne,
  call,
  NO_BOUNDS,
  NODES,
  recorded,
  roundRobin,
  routeNames,
  sticky,
  summaryOf,
} from './support/harness-fixtures.js';

const ONE_ROUTE = ['/r/primesapp/primes'];
const STRICT: ThresholdBounds = { ...NO_BOUNDS, maxNodesPerRoute: 1, minHomeShare: 1 };

function exitFor(run: ReturnType<typeof recorded>, bounds: ThresholdBounds = STRICT): number {
  const verdicts = evaluateThresholds(summaryOf(run), bounds);
  return exitStatus({
    unreachable: false,
    interrupted: false,
    outputFailed: false,
    thresholdsPassed: verdicts.every((v) => v.passed),
  });
}

describe('threshold verdicts on recorded distributions', () => {
  it('100 sequential calls on one node pass -max-nodes-per-route 1 and -min-home-share 1', () => {
    const run = recorded(ONE_ROUTE, 100, allOnOne);
    const verdicts = evaluateThresholds(summaryOf(run), STRICT);
    expect(verdicts.map((v) => [v.flag, v.measured, v.passed])).toEqual([
      ['max-nodes-per-route', 1, true],
      ['min-home-share', 1, true],
    ]);
    expect(exitFor(run)).toBe(EXIT.ok);
  });

  it('the same calls spread round-robin fail both, naming route, measured value and bound', () => {
    const run = recorded(ONE_ROUTE, 100, roundRobin);
    const verdicts = evaluateThresholds(summaryOf(run), STRICT);
    expect(verdicts.every((v) => !v.passed)).toBe(true);
    expect(verdicts[0]?.measured).toBe(5);
    expect(verdicts[0]?.detail).toBe(
      `measured 5 nodes on route /r/primesapp/primes (${NODES.map((n) => `${n} 20`).join(', ')}), bound <= 1`,
    );
    expect(verdicts[1]?.measured).toBeCloseTo(0.2, 10);
    expect(verdicts[1]?.detail).toContain('measured 0.200 on route /r/primesapp/primes');
    expect(verdicts[1]?.detail).toContain('bound >= 1');
    expect(exitFor(run)).toBe(EXIT.thresholdFailed);
  });

  it('50 routes x 2 calls: sticky passes, round-robin fails (each route on 2 nodes)', () => {
    const routes = routeNames(50);
    expect(exitFor(recorded(routes, 100, (_, r) => sticky(r)))).toBe(EXIT.ok);
    const spread = recorded(routes, 100, roundRobin);
    expect(summaryOf(spread).nodesPerRoute.max).toBe(2);
    expect(exitFor(spread)).toBe(EXIT.thresholdFailed);
    // A looser bound that the spread meets: the verdict follows the bound, not the data alone.
    expect(exitFor(spread, { ...NO_BOUNDS, maxNodesPerRoute: 2, minHomeShare: 0.5 })).toBe(EXIT.ok);
  });

  it('one route spilling a single call to a second node is caught by a home share of 1 but not of 0.9', () => {
    const run = recorded(ONE_ROUTE, 100, (i) => (i === 57 ? (NODES[1] as string) : (NODES[0] as string)));
    const summary = summaryOf(run);
    expect(summary.homeShare?.min).toBeCloseTo(0.99, 10);
    expect(exitFor(run, { ...NO_BOUNDS, minHomeShare: 1 })).toBe(EXIT.thresholdFailed);
    expect(exitFor(run, { ...NO_BOUNDS, minHomeShare: 0.9 })).toBe(EXIT.ok);
    expect(exitFor(run, { ...NO_BOUNDS, maxNodesPerRoute: 2 })).toBe(EXIT.ok);
  });

  it('-max-load-ratio fails everything-on-one-node across many routes and passes a spread of homes', () => {
    const routes = routeNames(500);
    const bounds = { ...NO_BOUNDS, maxNodesPerRoute: 1, maxLoadRatio: 1.5 };
    const onOne = recorded(routes, 2000, allOnOne);
    const verdicts = evaluateThresholds(summaryOf(onOne), bounds);
    // Sticky per route, so only the balance check can see it.
    expect(verdicts.map((v) => v.passed)).toEqual([true, false]);
    expect(verdicts[1]?.measured).toBe(5);
    expect(verdicts[1]?.detail).toContain(`${NODES[0]} served 2000, mean 400.0 over 5 nodes`);
    expect(
      exitFor(
        recorded(routes, 2000, (_, r) => sticky(r)),
        bounds,
      ),
    ).toBe(EXIT.ok);
  });

  it('-max-failures counts failed calls against its bound', () => {
    const run = recorded(ONE_ROUTE, 10, allOnOne);
    run.records[3] = call(3, ONE_ROUTE[0] as string, null, { ok: false, status: 503, error: 'too busy' });
    expect(exitFor(run, { ...NO_BOUNDS, maxFailures: 1 })).toBe(EXIT.ok);
    expect(exitFor(run, { ...NO_BOUNDS, maxFailures: 0 })).toBe(EXIT.thresholdFailed);
  });

  it('nothing measured fails every check instead of passing it vacuously', () => {
    const run = recorded(ONE_ROUTE, 3, allOnOne);
    run.records = run.records.map((r) => ({ ...r, ok: false, status: null, error: 'ECONNREFUSED' }));
    const verdicts = evaluateThresholds(summaryOf(run), { ...STRICT, maxLoadRatio: 2 });
    expect(verdicts.map((v) => [v.passed, v.measured])).toEqual([
      [false, null],
      [false, null],
      [false, null],
    ]);
  });

  it('no threshold flag, no verdict: exit 0 whatever the distribution', () => {
    const run = recorded(ONE_ROUTE, 100, roundRobin);
    expect(evaluateThresholds(summaryOf(run), NO_BOUNDS)).toEqual([]);
    expect(exitFor(run, NO_BOUNDS)).toBe(EXIT.ok);
  });
});

describe('exit status', () => {
  const clean = { unreachable: false, interrupted: false, outputFailed: false, thresholdsPassed: true };
  it('ranks "could not measure" above "measured badly"', () => {
    expect(exitStatus(clean)).toBe(0);
    expect(exitStatus({ ...clean, thresholdsPassed: false })).toBe(1);
    expect(exitStatus({ ...clean, thresholdsPassed: false, outputFailed: true })).toBe(4);
    expect(exitStatus({ ...clean, thresholdsPassed: false, unreachable: true, outputFailed: true })).toBe(3);
    expect(exitStatus({ ...clean, unreachable: true, interrupted: true })).toBe(130);
  });
});
