import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/harness/drive.js';
import { distribution, percentile, summarize } from '../../src/harness/stats.js';
import { call as fixtureCall } from './support/harness-fixtures.js';

let index = 0;
const call = (route: string, node: string | null, extra: Partial<CallRecord> = {}) =>
  fixtureCall(index++, route, node, extra);

describe('percentile (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('picks the measured value at rank ceil(p * n)', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 95)).toBe(95);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
  });

  it('on one value gives that value, on none throws', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('a slow tail shows in p99 but not in p50', () => {
    const values = [...Array.from({ length: 98 }, () => 0.01), 2, 3];
    const dist = distribution(values)!;
    expect(dist.p50).toBe(0.01);
    expect(dist.p95).toBe(0.01);
    expect(dist.p99).toBe(2);
    expect(dist.max).toBe(3);
    expect(dist.min).toBe(0.01);
    expect(dist.count).toBe(100);
    expect(dist.mean).toBeCloseTo((98 * 0.01 + 5) / 100, 10);
  });

  it('sorts its input without changing it', () => {
    const values = [3, 1, 2];
    expect(distribution(values)?.p50).toBe(2);
    expect(values).toEqual([3, 1, 2]);
    expect(distribution([])).toBeNull();
  });
});

describe('summarize', () => {
  const nodes = [
    { node: 'a:1', id: 'node-a' },
    { node: 'b:2', id: 'node-b' },
    { node: 'c:3', id: undefined },
  ];

  it('lists every -nodes entry in order with zeros, then ids outside -nodes', () => {
    const summary = summarize({
      records: [call('/r/x/p', 'b:2'), call('/r/x/p', 'b:2'), call('/r/x/p', 'node-z')],
      planned: 3,
      discovered: nodes,
      routes: ['/r/x/p'],
    });
    expect(summary.nodes.map((n) => [n.node, n.executions, n.discovered])).toEqual([
      ['a:1', 0, true],
      ['b:2', 2, true],
      ['c:3', 0, false],
      ['node-z', 1, false],
    ]);
  });

  it('counts failures, calls without any answer and cold starts apart from executions', () => {
    const summary = summarize({
      records: [
        call('/r/x/p', 'a:1', { cold: true }),
        call('/r/x/p', 'a:1'),
        call('/r/x/p', 'a:1', { ok: false, status: 502, error: 'function returned status code: 502' }),
        call('/r/x/p', null, { ok: false, status: null, error: 'ECONNREFUSED' }),
      ],
      planned: 10,
      discovered: nodes,
      routes: ['/r/x/p'],
    });
    expect(summary.totals).toEqual({ planned: 10, made: 4, succeeded: 2, failed: 2, noResponse: 1, cold: 1 });
    expect(summary.nodes[0]).toMatchObject({ node: 'a:1', executions: 2, failures: 1, cold: 1 });
    expect(summary.latencySeconds?.count).toBe(2);
    expect(summary.routes[0]).toMatchObject({
      calls: 4,
      succeeded: 2,
      failed: 2,
      nodeCount: 1,
      homeShare: 1,
    });
  });

  it('gives each route its node set, home node and home share', () => {
    const summary = summarize({
      records: [
        call('/r/x/p1', 'a:1'),
        call('/r/x/p1', 'a:1'),
        call('/r/x/p1', 'a:1'),
        call('/r/x/p1', 'b:2'),
        call('/r/x/p2', 'b:2'),
        call('/r/x/p2', 'b:2'),
      ],
      planned: 6,
      discovered: nodes,
      routes: ['/r/x/p1', '/r/x/p2', '/r/x/p3'],
    });
    const [p1, p2, p3] = summary.routes;
    expect(p1).toMatchObject({
      nodes: { 'a:1': 3, 'b:2': 1 },
      nodeCount: 2,
      homeNode: 'a:1',
      homeShare: 0.75,
    });
    expect(p2).toMatchObject({ nodes: { 'b:2': 2 }, nodeCount: 1, homeNode: 'b:2', homeShare: 1 });
    expect(p3).toMatchObject({ calls: 0, nodeCount: 0, homeNode: null, homeShare: null });
    expect(summary.nodesPerRoute).toEqual({ max: 2, mean: 1.5, distribution: { '0': 1, '1': 1, '2': 1 } });
    expect(summary.homeShare).toEqual({ min: 0.75, mean: 0.875, worstRoute: '/r/x/p1' });
  });

  it('reports no home share and no latency when nothing succeeded', () => {
    const summary = summarize({
      records: [call('/r/x/p', null, { ok: false, status: null, error: 'timeout' })],
      planned: 1,
      discovered: nodes,
      routes: ['/r/x/p'],
    });
    expect(summary.homeShare).toBeNull();
    expect(summary.latencySeconds).toBeNull();
    expect(summary.inFunctionSeconds).toBeNull();
    expect(summary.nodesPerRoute).toEqual({ max: 0, mean: 0, distribution: { '0': 1 } });
  });
});
