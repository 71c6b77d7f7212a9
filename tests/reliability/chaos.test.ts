// Chaos through fnlb: calls keep running through the balancer while one piece of the cluster is
// restarted, and what each fault may cost is bounded: Postgres restarted costs no call to a route the
// nodes have cached (they serve it stale while the database is away, and API writes answer 503 at
// once); each node restarted with SIGTERM in turn costs no call (it drains, the balancer sends its
// calls elsewhere and takes it back); fnlb restarted costs at most the calls it had in flight (a
// connection refused while it is down sends nothing, and the client tries again).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FnClient } from '../../src/common/fn-client.js';
import { ReliabilityCluster } from './support/cluster.js';
import { Traffic, type TrafficRoute, type TrafficTally } from './support/traffic.js';

const APP = 'chaos';
const ROUTES: TrafficRoute[] = [
  { target: `/r/${APP}/fast?ms=2`, expect: 200 },
  { target: `/r/${APP}/slow?ms=300`, expect: 200 },
  { target: `/r/${APP}/fast-b?ms=5`, expect: 200 },
];
const CONCURRENCY = 6;
const CALL_TIMEOUT_MS = 20_000;

let cluster: ReliabilityCluster;

beforeAll(async () => {
  cluster = await ReliabilityCluster.start({ nodes: 3 });
  await cluster.lbClient.createApp(APP);
  for (const path of ['/fast', '/slow', '/fast-b']) {
    await cluster.lbClient.createRoute(APP, {
      path,
      image: 'localhost/fnlb-guard/sleep',
      format: 'http',
      memory: 64,
      timeout: 30,
      idle_timeout: 60,
    });
  }
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

function load(seconds: number): Traffic {
  let next = 0;
  return new Traffic({
    baseUrl: cluster.lb.url,
    pick: () => ROUTES[next++ % ROUTES.length] as TrafficRoute,
    concurrency: CONCURRENCY,
    until: performance.now() + seconds * 1000,
    maxCalls: 50_000,
    callTimeoutMs: CALL_TIMEOUT_MS,
  });
}

function describeFailures(tally: TrafficTally): string {
  const shown = tally.unexpected.slice(0, 5).map((f) => `${f.target}: ${f.status ?? '-'} ${f.error}`);
  return `${tally.unexpected.length} of ${tally.calls} calls failed${shown.length ? `:\n${shown.join('\n')}` : ''}`;
}

describe('chaos through fnlb', () => {
  it('Postgres restarted while calls run: no call to a cached route fails, writes answer 503 at once', async () => {
    // Every node reads every route once, so whichever node the balancer picks has it cached.
    for (const node of cluster.nodes) {
      const client = new FnClient(node.url, { timeoutMs: CALL_TIMEOUT_MS });
      for (const route of ROUTES) expect((await client.send('GET', route.target)).status).toBe(200);
    }
    const traffic = load(12);
    const running = traffic.run();
    await sleep(2000);
    await cluster.postgres.stop();
    let write: { status: number; body: string };
    let writeMs: number;
    try {
      // The fault took: a write needs the database, and says so at once.
      await sleep(500);
      const began = performance.now();
      write = await cluster.lbClient.send('POST', `/v1/apps/${APP}/routes`, {
        route: { path: '/during-outage', image: 'localhost/fnlb-guard/sleep', format: 'http' },
      });
      writeMs = performance.now() - began;
      await sleep(4000);
    } finally {
      await cluster.postgres.start();
    }
    const tally = await running;
    console.log(
      `[chaos] postgres restart: ${tally.calls} calls, ${tally.unexpected.length} failed; write during outage ${write.status} in ${writeMs.toFixed(0)} ms`,
    );
    expect(write.status, write.body).toBe(503);
    expect(writeMs).toBeLessThan(5000);
    expect(tally.calls).toBeGreaterThan(100);
    expect(tally.unexpected, describeFailures(tally)).toEqual([]);
    // And the database is back for writes (the circuit probes it again).
    const writeAfter = () =>
      cluster.lbClient.send('POST', `/v1/apps/${APP}/routes`, {
        route: { path: `/after-outage`, image: 'localhost/fnlb-guard/sleep', format: 'http' },
      });
    await expect
      .poll(async () => (await writeAfter()).status, {
        timeout: 20_000,
        interval: 500,
        message: 'writes accepted again within 20 s of the database coming back',
      })
      .toBe(200);
  });

  it('each node restarted with SIGTERM in turn under load: no call fails', async () => {
    const traffic = load(120);
    const running = traffic.run();
    await sleep(1500);
    try {
      for (let index = 0; index < cluster.nodes.length; index++) {
        await cluster.restartNode(index);
        await sleep(1000);
      }
    } finally {
      traffic.stop();
    }
    const tally = await running;
    console.log(
      `[chaos] ${cluster.nodes.length} node restarts: ${tally.calls} calls, ${tally.unexpected.length} failed`,
    );
    expect(tally.calls).toBeGreaterThan(100);
    expect(tally.unexpected, describeFailures(tally)).toEqual([]);
  });

  it('fnlb restarted under load: no more calls fail than it had in flight', async () => {
    const traffic = load(60);
    const running = traffic.run();
    await sleep(1500);
    const inFlight = traffic.inFlight;
    try {
      await cluster.restartBalancer();
      await sleep(1500);
    } finally {
      traffic.stop();
    }
    const tally = await running;
    console.log(
      `[chaos] fnlb restart: ${tally.calls} calls, ${inFlight} in flight at SIGTERM, ${tally.unexpected.length} failed, ${tally.unsent} connections refused while it was down`,
    );
    expect(tally.calls).toBeGreaterThan(100);
    expect(tally.unexpected.length, describeFailures(tally)).toBeLessThanOrEqual(inFlight);
  });
});
