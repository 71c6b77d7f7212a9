// SIGTERM drains a node: calls in flight finish with their answers, the node exits 0, and every
// function process it started is gone (checked by pid).
import { describe, expect, it } from 'vitest';
import { exists, functionProcesses } from '../../helpers/proc.js';
import { waitUntil } from '../../helpers/wait.js';
import { startRunnerNode, uniqueApp } from './support/runner-node.js';

describe('SIGTERM', () => {
  it('lets in-flight calls finish and leaves no function process behind', async () => {
    const rn = await startRunnerNode({ LOG_LEVEL: 'info' });
    try {
      const app = uniqueApp('drain');
      await rn.api.createRoute(app, { path: '/a', image: 'localhost/fnlb-guard/sleep', format: 'http' });
      await rn.api.createRoute(app, { path: '/b', image: 'localhost/fnlb-guard/sleep', format: 'json' });
      await rn.api.createRoute(app, { path: '/idle', image: 'localhost/fnlb-guard/echo', format: 'http' });
      expect((await rn.api.call(app, '/idle', '', 'x')).status).toBe(200);
      const inFlight = [rn.api.call(app, '/a', '?ms=1500'), rn.api.call(app, '/b', '?ms=1500')];
      await waitUntil('both calls running', async () => (await rn.stats()).calls.running === 2, 10_000);
      const pids = [...functionProcesses(rn.node.pid).values()];
      expect(pids).toHaveLength(3);

      const exitCode = rn.node.stop(20_000);
      const results = await Promise.all(inFlight);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect(results.map((r) => JSON.parse(r.body).sleptMs)).toEqual([1500, 1500]);
      expect(await exitCode, rn.node.recentOutput()).toBe(0);
      expect(pids.filter((pid) => exists(pid))).toEqual([]);
    } finally {
      await rn.close();
    }
  });
});
