// Where fnlb sends calls, measured through real fn-node processes: a route sticks to one node,
// 1000 routes spread evenly over five, a hot route spills over a few nodes but not all of them, and
// membership changes move only about 1/N of the routes (the suite's thresholds, tests/thresholds.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membershipAddChecks, membershipRemoveChecks } from '../../helpers/checks.js';
import { expectChecks } from '../../helpers/expect-checks.js';
import { pool } from '../../helpers/pool.js';
import { LB_PATHS } from '../../src/lb/wire.js';
import { countBy, IMAGES, type LbCluster, servedBy, startLbCluster } from './lb-cluster.js';

const APP = 'lbroute';
/** Created by the spread test; the membership test measures how they move. */
const SPREAD_ROUTES = Array.from({ length: 1000 }, (_, i) => `/spread-${i}`);
/** Bounded load's promise at the default c = 1.25. */
const MAX_OVER_MEAN = 1.25;

let cluster: LbCluster;

beforeAll(async () => {
  cluster = await startLbCluster({ nodes: 5 });
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

describe('fnlb routing over 5 fn-node processes', () => {
  it('sends 100 sequential calls of one route to exactly one node', async () => {
    await cluster.api.createRoute(APP, { path: '/sticky', image: IMAGES.cat, format: 'default', memory: 16 });
    const served: string[] = [];
    for (let i = 0; i < 100; i++) {
      const result = await cluster.client.call(APP, '/sticky', `?i=${i}`, `call ${i}`);
      expect(result.status, result.body).toBe(200);
      expect(result.body).toBe(`call ${i}`);
      served.push(servedBy(result, cluster.nodes));
    }
    expect([...new Set(served)], 'nodes that served the route').toHaveLength(1);
  });

  it('puts each of 1000 routes on one node, uses every node, none above 1.25x the mean', async () => {
    const routes = SPREAD_ROUTES;
    const createStarted = Date.now();
    await pool(routes, 8, async (path) => {
      await cluster.api.createRoute(APP, { path, image: IMAGES.cat, format: 'default', memory: 16 });
    });
    const createMs = Date.now() - createStarted;

    const callsStarted = Date.now();
    const nodesOfRoute = new Map<string, Set<string>>();
    const perCall: string[] = [];
    // Eight routes at a time, each route's three calls in sequence: at most 8 calls are in flight,
    // under the floor of 8, so bounded load never moves a call off its home node.
    await pool(routes, 8, async (path) => {
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const result = await cluster.client.call(APP, path);
        expect(result.status, `${path}: ${result.body}`).toBe(200);
        const node = servedBy(result, cluster.nodes);
        seen.add(node);
        perCall.push(node);
      }
      nodesOfRoute.set(path, seen);
    });
    const callsMs = Date.now() - callsStarted;

    const split = [...nodesOfRoute].filter(([, nodes]) => nodes.size !== 1);
    expect(
      split.map(([path]) => path),
      'routes served by more than one node',
    ).toEqual([]);
    const counts = countBy(perCall);
    const mean = perCall.length / cluster.nodes.length;
    const max = Math.max(...counts.values());
    console.info(
      `[lb-routing] 1000 routes: created in ${createMs} ms, 3000 calls in ${callsMs} ms; calls per node ` +
        `${JSON.stringify([...counts.values()])}, max/mean ${(max / mean).toFixed(3)}`,
    );
    expect(counts.size, `nodes used: ${JSON.stringify(Object.fromEntries(counts))}`).toBe(
      cluster.nodes.length,
    );
    expect(
      max / mean,
      `busiest node ${max} calls, mean ${mean}, bound ${MAX_OVER_MEAN}x`,
    ).toBeLessThanOrEqual(MAX_OVER_MEAN);
  });

  it('spreads a 200 ms route under 32 concurrent callers over at least 2 and at most 4 nodes', async () => {
    await cluster.api.createRoute(APP, {
      path: '/hot',
      image: 'fnguard/sleep',
      format: 'http',
      memory: 64,
      idle_timeout: 10,
    });
    const served: string[] = [];
    const callers = 32;
    const callsPerCaller = 4;
    await pool(
      Array.from({ length: callers }, (_, i) => i),
      callers,
      async () => {
        for (let i = 0; i < callsPerCaller; i++) {
          const result = await cluster.client.call(APP, '/hot', '?ms=200');
          expect(result.status, result.body).toBe(200);
          served.push(servedBy(result, cluster.nodes));
        }
      },
    );
    const counts = countBy(served);
    console.info(
      `[lb-routing] hot route, 32 callers x ${callsPerCaller}: calls per node ${JSON.stringify([...counts.values()])}`,
    );
    expect(counts.size, `nodes used: ${JSON.stringify(Object.fromEntries(counts))}`).toBeGreaterThanOrEqual(
      2,
    );
    expect(counts.size, `nodes used: ${JSON.stringify(Object.fromEntries(counts))}`).toBeLessThanOrEqual(4);
  });

  it('moves at most 1/6 + 5% of 1000 routes when a 6th node joins, and only its routes when one leaves', async () => {
    const placement = async () => {
      const placed = new Map<string, string>();
      await pool(SPREAD_ROUTES, 8, async (path) => {
        const result = await cluster.client.call(APP, path);
        expect(result.status, `${path}: ${result.body}`).toBe(200);
        placed.set(path, servedBy(result, cluster.nodes));
      });
      return placed;
    };
    const movedBetween = (before: Map<string, string>, after: Map<string, string>) =>
      SPREAD_ROUTES.filter((path) => before.get(path) !== after.get(path));
    const { lb } = cluster;
    const before = await placement();

    const sixth = await cluster.startNode();
    expect((await lb.manage('PUT', LB_PATHS.nodes, { node: sixth.address })).status).toBe(200);
    await lb.waitNodes(`${sixth.address} online`, (view) => view[sixth.address] === 'online');
    const withSixth = await placement();
    const movedOnAdd = movedBetween(before, withSixth);
    expectChecks('membership: add a 6th node', [
      ...membershipAddChecks(movedOnAdd.length, SPREAD_ROUTES.length),
      ...membershipRemoveChecks({
        movedFromOtherNodes: movedOnAdd.filter((path) => withSixth.get(path) !== sixth.address).length,
        orphaned: 0,
      }),
    ]);

    const leaving = cluster.nodes[1]?.address as string;
    expect((await lb.manage('DELETE', LB_PATHS.nodes, { node: leaving })).status).toBe(200);
    const withoutOne = await placement();
    const movedOnRemove = movedBetween(withSixth, withoutOne);
    expectChecks('membership: remove a node', [
      ...membershipRemoveChecks({
        movedFromOtherNodes: movedOnRemove.filter((path) => withSixth.get(path) !== leaving).length,
        orphaned: SPREAD_ROUTES.filter((path) => withoutOne.get(path) === leaving).length,
      }),
    ]);
  });
});
