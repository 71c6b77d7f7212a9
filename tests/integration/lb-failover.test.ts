// Nodes coming and going under a real fnlb process with FNLB_MGMT_TOKEN set: management calls need
// the token; a node PUT through the API gets traffic only once its health check passes and takes
// only its own routes; DELETE gives them back; a node SIGKILLed under load costs at most the calls
// it had in flight, and none once the balancer has marked it down.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failoverChecks } from '../../helpers/checks.js';
import { expectChecks } from '../../helpers/expect-checks.js';
import { pool } from '../../helpers/pool.js';
import { freePort } from '../../helpers/ports.js';
import { parseFlags } from '../../src/lb/flags.js';
import { Ring } from '../../src/lb/ring.js';
import { LB_MESSAGES, LB_PATHS } from '../../src/lb/wire.js';
import { IMAGES, type LbCluster, servedBy, startLbCluster } from './lb-cluster.js';

const APP = 'lbfail';
const TOKEN = 'lb-test-token';
const ROUTES = Array.from({ length: 100 }, (_, i) => `/m-${i}`);
const key = (path: string) => `/r/${APP}${path}`;

let cluster: LbCluster;

beforeAll(async () => {
  cluster = await startLbCluster({ nodes: 5, token: TOKEN });
  // Each call sleeps 20 ms in its function, so a killed node always has calls in flight.
  await pool(ROUTES, 8, async (path) => {
    await cluster.api.createRoute(APP, {
      path,
      image: IMAGES.nap,
      format: 'default',
      memory: 16,
      config: { NAP: '0.02' },
    });
  });
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

/**
 * Calls every route once and returns the node that served each. Eight at a time: at most 8 calls in
 * flight stay under the floor of 8, so every call goes to its route's home node.
 */
async function placement(): Promise<Map<string, string>> {
  const placed = new Map<string, string>();
  await pool(ROUTES, 8, async (path) => {
    const result = await cluster.client.call(APP, path);
    expect(result.status, `${path}: ${result.body}`).toBe(200);
    placed.set(path, servedBy(result, cluster.nodes));
  });
  return new Map(ROUTES.map((path) => [path, placed.get(path) as string]));
}

describe('fnlb management API with FNLB_MGMT_TOKEN', () => {
  it('answers 401 without the token or with a wrong one, and serves calls without it', async () => {
    const { lb } = cluster;
    const node = { node: '127.0.0.1:9' };
    for (const token of [null, 'wrong']) {
      expect((await lb.manage('GET', LB_PATHS.nodes, undefined, token)).status).toBe(401);
      expect((await lb.manage('PUT', LB_PATHS.nodes, node, token)).status).toBe(401);
      expect((await lb.manage('DELETE', LB_PATHS.nodes, node, token)).status).toBe(401);
      expect((await lb.manage('GET', LB_PATHS.stats, undefined, token)).status).toBe(401);
      expect((await lb.manage('GET', LB_PATHS.metrics, undefined, token)).status).toBe(401);
    }
    expect(Object.keys(await lb.nodes()).sort()).toEqual(cluster.nodes.map((n) => n.address).sort());
    expect((await cluster.client.call(APP, '/m-0')).status).toBe(200);
  });

  it('gives a PUT node traffic only after its health check passes, and DELETE moves only its routes', async () => {
    const { lb } = cluster;
    const before = await placement();
    const port = await freePort();
    const sixth = `127.0.0.1:${port}`;
    const defaults = parseFlags([]);
    if (defaults.kind !== 'ok') throw new Error('default flags do not parse');
    const ring = new Ring([...cluster.nodes.map((n) => n.address), sixth], defaults.options.vnodes);
    const predicted = ROUTES.filter((path) => ring.home(key(path)) === sixth);
    expect(predicted.length, 'routes the ring gives the 6th node').toBeGreaterThan(0);

    // Added while nothing listens on its port: known, offline, and sent nothing.
    const added = await lb.manage('PUT', LB_PATHS.nodes, { node: sixth });
    expect([added.status, JSON.parse(added.body)]).toEqual([200, { msg: LB_MESSAGES.added }]);
    expect((await lb.nodes())[sixth]).toBe('offline');
    expect(await placement(), 'no route may move to a node that has not passed a check').toEqual(before);
    const unchecked = (await lb.stats()).nodes[sixth];
    expect(unchecked?.requests, 'requests sent to the unchecked node').toBe(0);
    expect(unchecked?.checks_failed).toBeGreaterThan(0);

    // The node comes up: once checked, exactly the predicted routes move to it.
    await cluster.startNode(port);
    await lb.waitNodes(`${sixth} online`, (view) => view[sixth] === 'online');
    const withSixth = await placement();
    const moved = ROUTES.filter((path) => withSixth.get(path) !== before.get(path));
    expect(moved, 'routes that moved when the 6th node joined').toEqual(predicted);
    for (const path of moved) expect(withSixth.get(path)).toBe(sixth);
    console.info(`[lb-failover] 6th node took ${moved.length} of ${ROUTES.length} routes`);

    const deleted = await lb.manage('DELETE', LB_PATHS.nodes, { node: sixth });
    expect([deleted.status, JSON.parse(deleted.body)]).toEqual([200, { msg: LB_MESSAGES.deleted }]);
    expect(Object.keys(await lb.nodes())).not.toContain(sixth);
    expect(await placement(), 'after DELETE every route is back on its old node').toEqual(before);
    await cluster.nodes.pop()?.stop();
  });
});

interface CallRecord {
  path: string;
  startedAt: number;
  status: number;
  node: string | undefined;
  error: string | undefined;
}

describe('fnlb failover when a node is SIGKILLed', () => {
  it('1000 calls over 100 routes at concurrency 8: fails at most the calls in flight on the node', async () => {
    const { lb } = cluster;
    const home = await placement();
    const perNode = new Map<string, number>();
    for (const node of home.values()) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    const victim = cluster.nodes
      .slice(1)
      .sort((a, b) => (perNode.get(b.address) ?? 0) - (perNode.get(a.address) ?? 0))[0];
    if (victim === undefined) throw new Error('no victim');

    const records: CallRecord[] = [];
    const inFlight = new Set<string>();
    let inFlightOnVictimAtKill = -1;
    let killedAt = Number.POSITIVE_INFINITY;
    let killedAtWall = 0;
    let exited: Promise<number> | undefined;
    let markedDown: Promise<number> | undefined;
    let completed = 0;
    const calls = Array.from({ length: 1000 }, (_, i) => ROUTES[i % ROUTES.length] as string);
    await pool(calls, 8, async (path, index) => {
      const id = `${index}`;
      inFlight.add(`${id} ${path}`);
      const record: CallRecord = {
        path,
        startedAt: performance.now(),
        status: 0,
        node: undefined,
        error: undefined,
      };
      try {
        const result = await cluster.client.call(APP, path);
        record.status = result.status;
        record.node = result.headers['fn-lb-node'];
        if (result.status !== 200) record.error = result.body;
      } catch (error) {
        record.error = String(error);
      }
      inFlight.delete(`${id} ${path}`);
      records.push(record);
      if (++completed === 300) {
        inFlightOnVictimAtKill = [...inFlight].filter(
          (entry) => home.get(entry.split(' ')[1] as string) === victim.address,
        ).length;
        killedAt = performance.now();
        killedAtWall = Date.now();
        exited = victim.kill().then(() => performance.now());
        markedDown = lb.waitNodes(`${victim.address} offline`, (view) => view[victim.address] === 'offline');
      }
    });
    const downAt = await (markedDown as Promise<number>);
    const exitedAt = await (exited as Promise<number>);
    // SIGKILL is not instant: until the process is gone the kernel still completes connects and
    // takes requests on its sockets, then resets them. A call sent in that window was delivered to
    // the dying node, so it counts as in flight there.
    const sentWhileDying = records.filter(
      (record) =>
        home.get(record.path) === victim.address &&
        record.startedAt >= killedAt &&
        record.startedAt < exitedAt,
    ).length;
    const inFlightOnVictim = inFlightOnVictimAtKill + sentWhileDying;
    const failures = records.filter((record) => record.status !== 200);
    const detail = failures.map((f) => ({ ...f, startedAt: Math.round(f.startedAt - killedAt) }));
    console.info(
      `[lb-failover] SIGKILL under load: ${failures.length} failed of ${records.length}; in flight on the ` +
        `victim: ${inFlightOnVictimAtKill} at the signal + ${sentWhileDying} sent in the ` +
        `${Math.round(exitedAt - killedAt)} ms it took to die; seen offline ${downAt - killedAtWall} ms after the signal`,
    );
    // Marked down at `downAt` on the wall clock; calls are timed on the monotonic clock from `killedAt`.
    const downAtMonotonic = killedAt + (downAt - killedAtWall);
    expectChecks(
      'failover: SIGKILL under load',
      failoverChecks({
        failed: failures.length,
        inFlightOnKilledNode: inFlightOnVictim,
        failedAfterMarkedDown: failures.filter((failure) => failure.startedAt > downAtMonotonic).length,
      }),
      [`failures: ${JSON.stringify(detail)}`],
    );
    for (const failure of failures) {
      expect(
        failure.startedAt,
        `failed call ${JSON.stringify(failure)} started after the node was gone`,
      ).toBeLessThan(exitedAt);
      expect(home.get(failure.path), 'a failed call belonged to another node').toBe(victim.address);
    }
    const after = records.filter((record) => record.startedAt > killedAt && record.status === 200);
    const newHomes = new Map<string, Set<string>>();
    for (const record of after) {
      if (home.get(record.path) !== victim.address) {
        expect(record.node, `${record.path} left its node`).toBe(home.get(record.path));
      } else {
        expect(record.node).not.toBe(victim.address);
        const nodes = newHomes.get(record.path) ?? new Set<string>();
        nodes.add(record.node as string);
        newHomes.set(record.path, nodes);
      }
    }
    expect(newHomes.size, 'the victim’s routes were called after the kill').toBeGreaterThan(0);
    for (const [path, nodes] of newHomes) expect(nodes.size, `${path} after the kill`).toBe(1);
    cluster.nodes.splice(cluster.nodes.indexOf(victim), 1);
  });

  it('sequential calls lose nothing when a node dies between them', async () => {
    const home = await placement();
    const victim = cluster.nodes[cluster.nodes.length - 1];
    if (victim === undefined) throw new Error('no victim');
    let failures = 0;
    let victimRoutesCalled = 0;
    for (let i = 0; i < 120; i++) {
      if (i === 40) await victim.kill();
      const path = ROUTES[i % ROUTES.length] as string;
      const result = await cluster.client.call(APP, path);
      if (result.status !== 200) failures++;
      if (i < 40) continue;
      const node = servedBy(result, cluster.nodes);
      if (home.get(path) === victim.address) victimRoutesCalled++;
      else expect(node, `${path} left its node`).toBe(home.get(path));
    }
    expect(failures, 'failed sequential calls').toBe(0);
    expect(victimRoutesCalled, 'calls of the dead node’s routes').toBeGreaterThan(0);
    cluster.nodes.splice(cluster.nodes.indexOf(victim), 1);
  });
});
