import { describe, expect, it } from 'vitest';
import { bar, barChart } from '../../src/harness/chart.js';
import {
  callingLines,
  discoveryLines,
  failureLines,
  formatSeconds,
  resultLines,
  summaryLines,
  verboseLine,
} from '../../src/harness/text.js';
import { evaluateThresholds } from '../../src/harness/thresholds.js';
import {
  allOnOne,
  call,
  NO_BOUNDS,
  NODES,
  recorded,
  roundRobin,
  routeNames,
  summaryOf,
} from './support/harness-fixtures.js';

const ROUTE = '/r/primesapp/primes';

describe('historic output lines', () => {
  it('prints "Results (executions per node):" and one "  <host:port> <count>" line per node, zeros included', () => {
    const run = recorded([ROUTE], 10, (i) => (i < 7 ? (NODES[2] as string) : (NODES[4] as string)));
    expect(resultLines(summaryOf(run))).toEqual([
      'Results (executions per node):',
      '  127.0.0.1:8082 0',
      '  127.0.0.1:8083 0',
      '  127.0.0.1:8084 7',
      '  127.0.0.1:8085 0',
      '  127.0.0.1:8086 3',
    ]);
  });

  it('prints the -v line per call with Go %f (six decimals)', () => {
    const record = call(0, ROUTE, '127.0.0.1:8084', { durationSeconds: 0.0421, responseSeconds: 0.05 });
    expect(verboseLine(record)).toBe(
      '  127.0.0.1:8084 in-function duration: 0.042100sec, response time: 0.050000sec',
    );
  });

  it('prints a failed call as "Ignoring failed execution on node" and its JSON body', () => {
    const record = call(0, ROUTE, '127.0.0.1:8083', {
      ok: false,
      status: 502,
      error: 'function returned status code: 502',
      body: '{"error":{"message":"function crashed"}}',
    });
    expect(failureLines(record)).toEqual([
      '  Ignoring failed execution on node 127.0.0.1:8083: function returned status code: 502',
      '    JSON: {"error":{"message":"function crashed"}}',
    ]);
    const unattributed = call(1, ROUTE, null, { ok: false, status: null, error: 'ECONNREFUSED', body: '' });
    expect(failureLines(unattributed)[0]).toBe('  Ignoring failed execution on node unknown: ECONNREFUSED');
  });

  it('prints discovery as the historic harness did', () => {
    const ok = { node: '127.0.0.1:8082', id: 'node-a', error: undefined, reachable: true, body: '{}' };
    expect(discoveryLines(ok)).toEqual(['  127.0.0.1:8082 node-a']);
    const failed = {
      node: '127.0.0.1:8083',
      id: undefined,
      error: 'function returned status code: 404',
      reachable: true,
      body: '{"error":{"message":"Route not found"}}',
    };
    expect(discoveryLines(failed)).toEqual([
      '  Ignoring host 127.0.0.1:8083 which returned error: function returned status code: 404',
      '    JSON: {"error":{"message":"Route not found"}}',
    ]);
  });

  it('announces the calls as the historic harness did', () => {
    expect(callingLines(ROUTE, [ROUTE], 100, 1000000, 1, 1)).toEqual([
      'All primes will be calculated up to 1000000, a total of 1 time(s)',
      'Calling route /r/primesapp/primes 100 times (through the load balancer)...',
    ]);
    const routes = routeNames(3);
    expect(callingLines(ROUTE, routes, 30, 1000, 2, 4)[1]).toBe(
      'Calling 3 routes /r/primesapp/primes-0001 .. /r/primesapp/primes-0003 30 times (through the load balancer, 4 at a time)...',
    );
  });
});

describe('terminal bar chart', () => {
  it('scales bars to the largest value in eighths and keeps a sliver for small non-zero values', () => {
    expect(bar(10, 10, 4)).toBe('████');
    expect(bar(5, 10, 4)).toBe('██');
    expect(bar(1, 16, 4)).toBe('▎');
    expect(bar(1, 8, 4)).toBe('▌');
    expect(bar(9, 16, 4)).toBe('██▎');
    expect(bar(1, 1000, 4)).toBe('▏');
    expect(bar(0, 10, 4)).toBe('');
  });

  it('aligns labels, bars and values', () => {
    expect(
      barChart(
        [
          { label: 'a:1', value: 4 },
          { label: 'bb:22', value: 0 },
          { label: 'c:3', value: 2 },
        ],
        4,
      ),
    ).toEqual(['  a:1   ████ 4', '  bb:22      0', '  c:3   ██   2']);
  });
});

describe('summary after the historic block', () => {
  it('shows the chart, nodes per route, home share, latency, failures and cold starts', () => {
    const run = recorded([ROUTE], 100, allOnOne);
    run.records[0] = { ...run.records[0]!, cold: true };
    run.records[1] = { ...run.records[1]!, ok: false, status: 503, error: 'busy' };
    const summary = summaryOf(run);
    const lines = summaryLines(summary, 'completed', []);
    expect(lines[0]).toBe('Executions per node:');
    expect(lines[1]).toMatch(/^ {2}127\.0\.0\.1:8082 █{40} 99$/);
    expect(lines[2]).toBe(`  127.0.0.1:8083 ${' '.repeat(40)} 0`);
    expect(lines).toContain('Nodes per route (1 route): max 1, mean 1.00; routes by node count:');
    expect(lines).toContain(
      "Home share (calls on a route's most-used node): min 1.000 (/r/primesapp/primes), mean 1.000",
    );
    expect(lines).toContain(
      'Response time: p50 10.0ms  p95 10.0ms  p99 10.0ms  (min 10.0ms, mean 10.0ms, max 10.0ms, n=99)',
    );
    expect(lines).toContain('Failures: 1 of 100 calls (0 without any response)');
    expect(lines).toContain('Cold starts: 1 of 100 calls (Fn-Cold: true)');
    expect(lines.some((line) => line.startsWith('Thresholds'))).toBe(false);
  });

  it('lists threshold verdicts and an early stop', () => {
    const run = recorded([ROUTE], 40, roundRobin);
    const summary = summaryOf(run);
    summary.totals.planned = 100;
    const verdicts = evaluateThresholds(summary, { ...NO_BOUNDS, maxNodesPerRoute: 1, maxFailures: 0 });
    const lines = summaryLines(summary, 'deadline', verdicts);
    expect(lines).toContain('Stopped by -deadline after 40 of 100 calls');
    expect(lines.slice(-3)).toEqual([
      'Thresholds:',
      expect.stringMatching(
        /^ {2}FAIL -max-nodes-per-route: measured 5 nodes on route \/r\/primesapp\/primes \(/,
      ),
      '  ok   -max-failures: measured 0 failed of 40 calls, bound <= 0',
    ]);
  });

  it('formats seconds as milliseconds below one second, microseconds below one millisecond', () => {
    expect(formatSeconds(0.0123)).toBe('12.3ms');
    expect(formatSeconds(1.5)).toBe('1.500s');
    expect(formatSeconds(0.000042)).toBe('42µs');
  });
});
