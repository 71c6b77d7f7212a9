// fnlb -workers 2 as one balancer: every worker proxies (connections alternate between them), a node
// set change through the management API and a node one worker finds dead reach the other worker at
// once (a change is answered only once every worker applied it), /1/lb/stats adds up both workers' counts exactly, a worker that dies is replaced, and the
// workers end with the primary, even when it is killed.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FAST_HEALTH_CHECKS, FnlbProcess } from '../../helpers/fnlb-process.js';
import { childrenOf, cpuTicks, exists } from '../../helpers/proc.js';
import { ScratchDir } from '../../helpers/scratch-node.js';
import { waitUntil } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';
import { FN_HEADERS } from '../../src/common/wire.js';

const APP = 'workers';

/** One call on a connection of its own: node:cluster hands each new connection to the next worker. */
async function call(lb: FnlbProcess, path: string): Promise<{ status: number; node: string }> {
  const response = await request(`${lb.url}/r/${APP}${path}`, {
    reset: true,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await response.body.dump();
  return { status: response.statusCode, node: String(response.headers[FN_HEADERS.lbNode] ?? '') };
}

describe('fnlb -workers 2', () => {
  let scratch: ScratchDir;
  const nodes: FnNodeProcess[] = [];

  beforeAll(async () => {
    scratch = ScratchDir.create('lb-workers');
    for (const name of ['a', 'b']) {
      const node = await scratch.startNode({ dbUrl: scratch.sqliteUrl(`${name}.db`) });
      nodes.push(node);
      const api = new FnClient(node.url, { timeoutMs: 10_000 });
      await api.createRoute(APP, {
        path: '/sleep',
        image: 'localhost/fnlb-guard/sleep',
        format: 'http',
        memory: 64,
      });
    }
  }, 60_000);

  afterAll(async () => {
    await scratch?.close();
  });

  async function balancer(flags: string[] = []): Promise<FnlbProcess> {
    const [a, b] = nodes as [FnNodeProcess, FnNodeProcess];
    const lb = await FnlbProcess.start({
      nodes: [a.address, b.address],
      flags: [...FAST_HEALTH_CHECKS, '-workers', '2', ...flags],
    });
    await lb.waitNodes('both nodes online', (view) =>
      Object.values(view).every((state) => state === 'online'),
    );
    return lb;
  }

  it('both workers proxy, and /1/lb/stats counts every call once', async () => {
    const lb = await balancer();
    try {
      const workers = childrenOf(lb.pid);
      expect(workers, 'worker processes of the primary').toHaveLength(2);
      const before = workers.map(cpuTicks);
      const calls = 200;
      for (let i = 0; i < calls; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => call(lb, '/sleep?ms=1')));
        expect(batch.map((one) => one.status)).toEqual(Array(20).fill(200));
      }
      const used = workers.map((pid, i) => cpuTicks(pid) - (before[i] as number));
      for (const ticks of used)
        expect(ticks, `CPU ticks of each worker over ${calls} calls: ${used}`).toBeGreaterThan(0);
      const stats = await lb.stats();
      expect(stats.workers).toEqual({ answered: 2, running: 2 });
      expect(stats.routes[`/r/${APP}/sleep`]?.requests).toBe(calls);
      const served = Object.values(stats.nodes).reduce((sum, node) => sum + node.requests, 0);
      expect(served).toBe(calls);
      // /metrics too: prom-client's cluster registry adds up the workers' series.
      const metrics = await lb.manage('GET', '/metrics');
      expect(metrics.status).toBe(200);
      const requests = metrics.body
        .split('\n')
        .filter((line) => line.startsWith('fnlb_requests_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
      expect(requests, metrics.body.slice(0, 2000)).toBe(calls);
    } finally {
      await lb.stop();
    }
  }, 60_000);

  it("bounds a node by both workers' calls in flight: the floor holds across workers", async () => {
    // Floor 8 on 2 nodes: one process puts the first 8 calls of a route on its home and spills the
    // rest. Workers that counted only their own calls (6 each) would put all 12 on the home node.
    const lb = await balancer(['-floor', '8']);
    try {
      const calls: Array<Promise<{ status: number; node: string }>> = [];
      for (let i = 0; i < 12; i++) {
        calls.push(call(lb, '/sleep?ms=2500'));
        // Longer than the workers take to share their counts (two LOAD_SHARE_MS intervals).
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      const during = await lb.stats();
      const inFlight = Object.values(during.nodes).map((node) => node.in_flight);
      const served = await Promise.all(calls);
      expect(served.filter((one) => one.status !== 200)).toEqual([]);
      const perNode = new Map<string, number>();
      for (const one of served) perNode.set(one.node, (perNode.get(one.node) ?? 0) + 1);
      expect(
        [...perNode.values()].sort((a, b) => b - a),
        `calls per node; in flight while running: ${inFlight}`,
      ).toEqual([8, 4]);
    } finally {
      await lb.stop();
    }
  }, 60_000);

  it('a node removed through the management API gets no call from either worker', async () => {
    const [a, b] = nodes as [FnNodeProcess, FnNodeProcess];
    const lb = await balancer();
    try {
      expect((await lb.manage('DELETE', '/1/lb/nodes', { node: a.address })).status).toBe(200);
      const after = await Promise.all(Array.from({ length: 30 }, () => call(lb, '/sleep?ms=1')));
      expect(new Set(after.map((one) => one.node))).toEqual(new Set([b.address]));
      expect((await lb.manage('PUT', '/1/lb/nodes', { node: a.address })).status).toBe(200);
      await lb.waitNodes('a back online', (view) => view[a.address] === 'online');
      expect((await lb.manage('DELETE', '/1/lb/nodes', { node: b.address })).status).toBe(200);
      const back = await Promise.all(Array.from({ length: 30 }, () => call(lb, '/sleep?ms=1')));
      expect(new Set(back.map((one) => one.node))).toEqual(new Set([a.address]));
    } finally {
      await lb.stop();
    }
  }, 60_000);

  it('answers a node change only once every worker applies it: a stalled worker holds the answer back', async () => {
    const [a, b] = nodes as [FnNodeProcess, FnNodeProcess];
    // The management API on a port of its own, served by the primary: no worker stands in its way.
    const lb = await FnlbProcess.start({
      nodes: [a.address, b.address],
      flags: [...FAST_HEALTH_CHECKS, '-workers', '2'],
      mgmtPort: true,
    });
    const stalled = childrenOf(lb.pid)[0] as number;
    try {
      await lb.waitNodes('both online', (view) => Object.values(view).every((state) => state === 'online'));
      process.kill(stalled, 'SIGSTOP');
      const removal = lb.manage('DELETE', '/1/lb/nodes', { node: a.address });
      const early = await Promise.race([removal.then(() => 'answered'), sleep(500).then(() => 'waiting')]);
      expect(early, 'the DELETE while a worker cannot have applied it').toBe('waiting');
      process.kill(stalled, 'SIGCONT');
      expect((await removal).status).toBe(200);
      const after = await Promise.all(Array.from({ length: 30 }, () => call(lb, '/sleep?ms=1')));
      expect(new Set(after.map((one) => one.node))).toEqual(new Set([b.address]));
    } finally {
      process.kill(stalled, 'SIGCONT');
      await lb.stop();
    }
  }, 60_000);

  it("a refused connect one worker meets takes the node out of the other worker's ring too", async () => {
    // Health checks slow enough that only the passive mark can take the node out within the test.
    const doomed = await scratch.startNode({ dbUrl: scratch.sqliteUrl('doomed.db') });
    const [b] = nodes as [FnNodeProcess];
    // Routes are keyed by path: a dozen of them, so one is homed on the node about to die.
    const paths = Array.from({ length: 12 }, (_, i) => `/sleep-${i}`);
    for (const node of [doomed, b]) {
      const api = new FnClient(node.url, { timeoutMs: 10_000 });
      for (const one of paths)
        await api.createRoute(APP, {
          path: one,
          image: 'localhost/fnlb-guard/sleep',
          format: 'http',
          memory: 64,
        });
    }
    const lb = await FnlbProcess.start({
      nodes: [doomed.address, b.address],
      flags: ['-hc-interval', '60', '-workers', '2'],
    });
    try {
      await lb.waitNodes('both online', (view) => Object.values(view).every((state) => state === 'online'));
      // A route whose home is the node about to die.
      let path = '';
      for (const candidate of paths) {
        if (path === '' && (await call(lb, `${candidate}?ms=1`)).node === doomed.address)
          path = `${candidate}?ms=1`;
      }
      expect(path, 'a route homed on the doomed node').not.toBe('');
      await doomed.kill();
      expect(await call(lb, path), 'the call that meets the refused connect fails over').toEqual({
        status: 200,
        node: b.address,
      });
      await lb.waitNodes('doomed offline', (view) => view[doomed.address] === 'offline', 2000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const later = await Promise.all(Array.from({ length: 30 }, () => call(lb, path)));
      expect(later.filter((one) => one.status !== 200 || one.node !== b.address)).toEqual([]);
      const stats = await lb.stats();
      expect(
        stats.nodes[doomed.address]?.undelivered,
        'connects refused by the dead node, both workers',
      ).toBe(1);
    } finally {
      await lb.stop();
      await doomed.stop();
    }
  }, 60_000);

  it('a worker that dies is replaced, and SIGKILL of the primary ends the workers', async () => {
    const lb = await balancer();
    // /health answers once one worker listens; the other may still be starting (and one that dies
    // then is a failed start, not a crash).
    await waitUntil('both workers serving', async () => (await lb.stats()).workers?.answered === 2, 10_000);
    const [first] = childrenOf(lb.pid) as [number];
    process.kill(first, 'SIGKILL');
    await waitUntil(
      'a replacement worker',
      () => {
        const now = childrenOf(lb.pid);
        return now.length === 2 && !now.includes(first);
      },
      10_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; fnlb said:\n${lb.recentOutput()}`);
    });
    await waitUntil(
      'the replacement serving',
      async () => (await lb.stats()).workers?.answered === 2,
      10_000,
    );
    const calls = await Promise.all(Array.from({ length: 20 }, () => call(lb, '/sleep?ms=1')));
    expect(calls.filter((one) => one.status !== 200)).toEqual([]);
    const workers = childrenOf(lb.pid);
    await lb.kill();
    await waitUntil('the workers gone with their primary', () => workers.every((pid) => !exists(pid)), 5000);
  }, 60_000);
});
