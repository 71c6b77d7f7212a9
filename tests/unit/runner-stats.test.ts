// The node's /stats route table keeps the most recently called routes, so it stays bounded.
import { describe, expect, it } from 'vitest';
import { RunnerStats } from '../../src/node/runner/stats.js';

describe('runner stats', () => {
  it('drops the least recently called route past its bound, and counts the drops', () => {
    const stats = new RunnerStats(3);
    for (const key of ['a/1', 'a/2', 'a/3']) stats.route(key).calls++;
    stats.route('a/1').calls++;
    stats.route('a/4').calls++;
    const snapshot = stats.snapshot('n', 0);
    expect(Object.keys(snapshot.routes).sort()).toEqual(['a/1', 'a/3', 'a/4']);
    expect(snapshot.routes['a/1']?.calls).toBe(2);
    expect(snapshot.routes_dropped).toBe(1);
  });
});
