// /1/lb/stats of a -workers cluster: the primary's node states and checks, every worker's counts added.
import { describe, expect, it } from 'vitest';
import type { LbNodeStats, LbStatsResponse } from '../../src/common/lb-wire.js';
import { mergeWorkerStats } from '../../src/lb/stats-merge.js';

function node(fields: Partial<LbNodeStats>): LbNodeStats {
  return {
    state: 'online',
    in_flight: 0,
    load: 0,
    wait_ewma_ms: 0,
    headers_ewma_ms: 0,
    requests: 0,
    responses_5xx: 0,
    undelivered: 0,
    refused_503: 0,
    upstream_errors: 0,
    checks_passed: 0,
    checks_failed: 0,
    last_check_error: null,
    ...fields,
  };
}

function stats(fields: Partial<LbStatsResponse>): LbStatsResponse {
  return { total_in_flight: 0, online: 1, bound: 8, nodes: {}, routes: {}, routes_dropped: 0, ...fields };
}

describe('mergeWorkerStats', () => {
  const control = stats({
    online: 1,
    nodes: {
      a: node({ state: 'offline', checks_passed: 7, checks_failed: 2, last_check_error: 'ECONNREFUSED' }),
    },
  });
  const one = stats({
    total_in_flight: 3,
    bound: 8,
    nodes: {
      a: node({
        state: 'online',
        in_flight: 3,
        requests: 10,
        headers_ewma_ms: 2,
        wait_ewma_ms: 500,
        undelivered: 1,
      }),
    },
    routes: { '/r/x/y': { requests: 10, retries: 1, failures: 0, nodes: { a: 10 } } },
    routes_dropped: 2,
  });
  const two = stats({
    total_in_flight: 1,
    bound: 9,
    nodes: {
      a: node({ in_flight: 1, requests: 30, headers_ewma_ms: 6, wait_ewma_ms: 100, responses_5xx: 4 }),
    },
    routes: {
      '/r/x/y': { requests: 30, retries: 0, failures: 2, nodes: { a: 29, b: 1 } },
      '/r/x/z': { requests: 1, retries: 0, failures: 0, nodes: { a: 1 } },
    },
  });

  it("adds the workers' counts and keeps the primary's states and checks", () => {
    const merged = mergeWorkerStats(control, [one, two], 2);
    expect(merged.nodes.a).toEqual({
      ...control.nodes.a,
      in_flight: 4,
      requests: 40,
      responses_5xx: 4,
      undelivered: 1,
      // The highest queueing any worker saw, and latency weighted by each worker's calls.
      wait_ewma_ms: 500,
      headers_ewma_ms: 5,
      load: 4.5,
    });
    expect(merged.routes).toEqual({
      '/r/x/y': { requests: 40, retries: 1, failures: 2, nodes: { a: 39, b: 1 } },
      '/r/x/z': { requests: 1, retries: 0, failures: 0, nodes: { a: 1 } },
    });
    expect([merged.total_in_flight, merged.bound, merged.online, merged.routes_dropped]).toEqual([
      4, 9, 1, 2,
    ]);
    expect(merged.workers).toEqual({ answered: 2, running: 2 });
    // The inputs are left as they were (a worker's reply is not a running total).
    expect(one.routes['/r/x/y']?.requests).toBe(10);
  });

  it('says when a worker did not answer', () => {
    expect(mergeWorkerStats(control, [one], 2).workers).toEqual({ answered: 1, running: 2 });
  });
});
