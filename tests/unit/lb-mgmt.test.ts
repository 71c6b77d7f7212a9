// The management API's historic shapes and its errors, token auth, stats and metrics, on a real
// in-process Fnlb with stand-in nodes.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../helpers/wait.js';
import {
  LB_MESSAGES,
  LB_PATHS,
  type LbNodesResponse,
  type LbStatsResponse,
} from '../../src/common/lb-wire.js';
import { call, type StandInNode, startLb, startStandIn, waitOnline } from './support/lb-fixtures.js';

async function standIns(count: number): Promise<StandInNode[]> {
  const nodes: StandInNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startStandIn());
  return nodes;
}

function json(body: string): unknown {
  return JSON.parse(body);
}

describe('fnlb management API', () => {
  it('lists, adds and deletes nodes with the historic shapes', async () => {
    const [a, b] = (await standIns(2)) as [StandInNode, StandInNode];
    const lb = await startLb([a.address]);
    await waitOnline(lb.lb, [a.address]);
    const nodesUrl = `${lb.url}${LB_PATHS.nodes}`;
    expect(json((await call(nodesUrl)).body)).toEqual({
      nodes: { [a.address]: 'online' },
      sources: { [a.address]: 'static' },
    });

    const added = await call(nodesUrl, { method: 'PUT', body: JSON.stringify({ node: b.address }) });
    expect([added.status, json(added.body)]).toEqual([200, { msg: LB_MESSAGES.added }]);
    await waitUntil(`${b.address} online`, async () => {
      const view = json((await call(nodesUrl)).body) as LbNodesResponse;
      return view.nodes[b.address] === 'online';
    });

    const deleted = await call(nodesUrl, { method: 'DELETE', body: JSON.stringify({ node: a.address }) });
    expect([deleted.status, json(deleted.body)]).toEqual([200, { msg: LB_MESSAGES.deleted }]);
    expect(json((await call(nodesUrl)).body)).toEqual({
      nodes: { [b.address]: 'online' },
      sources: { [b.address]: 'api' },
    });
    for (let i = 0; i < 10; i++) await call(`${lb.url}/r/app/k${i}`);
    expect(b.seen).toHaveLength(10);
    expect(a.seen).toHaveLength(0);

    const again = await call(nodesUrl, { method: 'DELETE', body: JSON.stringify({ node: a.address }) });
    expect(again.status).toBe(404);
    expect(json(again.body)).toEqual({ msg: expect.stringContaining(a.address) });
  });

  it('shows a node added while it is down as offline, and sends it nothing', async () => {
    const [a] = (await standIns(1)) as [StandInNode];
    const lb = await startLb([a.address]);
    await waitOnline(lb.lb, [a.address]);
    const nodesUrl = `${lb.url}${LB_PATHS.nodes}`;
    await call(nodesUrl, { method: 'PUT', body: '{"node":"127.0.0.1:1"}' });
    await waitUntil('a failed check', () => (lb.lb.balancer.get('127.0.0.1:1')?.checksFailed ?? 0) > 0);
    expect(json((await call(nodesUrl)).body)).toEqual({
      nodes: { [a.address]: 'online', '127.0.0.1:1': 'offline' },
      sources: { [a.address]: 'static', '127.0.0.1:1': 'api' },
    });
    for (let i = 0; i < 20; i++) expect((await call(`${lb.url}/r/app/k${i}`)).status).toBe(200);
    expect(lb.lb.balancer.get('127.0.0.1:1')?.requests).toBe(0);
  });

  it.each([
    ['not JSON', '{"node":', /invalid JSON/],
    ['no node field', '{"host":"a:1"}', /"node"/],
    ['a number', '{"node":8080}', /"node"/],
    ['no port', '{"node":"fn-node"}', /invalid node address/],
    ['a bad port', '{"node":"fn-node:70000"}', /invalid node address/],
    ['a URL', '{"node":"http://fn-node:8080"}', /invalid node address/],
  ])('answers 400 {"msg"} to a body with %s', async (_what, body, message) => {
    const lb = await startLb([]);
    for (const method of ['PUT', 'DELETE']) {
      const answer = await call(`${lb.url}${LB_PATHS.nodes}`, { method, body });
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toBe('application/json');
      const parsed = json(answer.body) as { msg: string };
      expect(Object.keys(parsed)).toEqual(['msg']);
      expect(parsed.msg).toMatch(message);
    }
    expect(json((await call(`${lb.url}${LB_PATHS.nodes}`)).body)).toEqual({ nodes: {}, sources: {} });
  });

  it('requires the bearer token on every management call when FNLB_MGMT_TOKEN is set, but not on /health', async () => {
    const [a] = (await standIns(1)) as [StandInNode];
    const lb = await startLb([a.address], [], 's3cret');
    const calls: Array<[string, string, string | undefined]> = [
      ['GET', LB_PATHS.nodes, undefined],
      ['PUT', LB_PATHS.nodes, '{"node":"127.0.0.1:2"}'],
      ['DELETE', LB_PATHS.nodes, `{"node":"${a.address}"}`],
      ['GET', LB_PATHS.stats, undefined],
      ['GET', LB_PATHS.metrics, undefined],
    ];
    for (const [method, path, body] of calls) {
      for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret2', 's3cret']) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const answer = await call(`${lb.url}${path}`, { method, body, headers });
        expect(answer.status, `${method} ${path} with ${authorization}`).toBe(401);
        expect(json(answer.body)).toEqual({ msg: expect.any(String) });
      }
    }
    expect(lb.lb.balancer.get(a.address), 'unauthorized DELETE changed nothing').toBeDefined();
    expect(lb.lb.balancer.get('127.0.0.1:2'), 'unauthorized PUT changed nothing').toBeUndefined();
    const good = { authorization: 'Bearer s3cret' };
    expect((await call(`${lb.url}${LB_PATHS.nodes}`, { headers: good })).status).toBe(200);
    expect((await call(`${lb.url}${LB_PATHS.stats}`, { headers: good })).status).toBe(200);
    expect((await call(`${lb.url}${LB_PATHS.health}`)).status).toBe(200);
  });

  it('reports per-node and per-route stats and Prometheus metrics', async () => {
    const nodes = await standIns(2);
    const lb = await startLb(nodes.map((node) => node.address));
    await waitOnline(
      lb.lb,
      nodes.map((node) => node.address),
    );
    for (let i = 0; i < 5; i++) await call(`${lb.url}/r/app/one?i=${i}`);
    await call(`${lb.url}/r/app/two`);
    const stats = json((await call(`${lb.url}${LB_PATHS.stats}`)).body) as LbStatsResponse;
    expect(stats.online).toBe(2);
    expect(stats.total_in_flight).toBe(0);
    expect(stats.bound).toBe(8);
    const one = stats.routes['/r/app/one'];
    expect(one?.requests).toBe(5);
    expect(Object.values(one?.nodes ?? {})).toEqual([5]);
    expect(stats.routes['/r/app/two']?.requests).toBe(1);
    const served = Object.values(stats.nodes).reduce((sum, node) => sum + node.requests, 0);
    expect(served).toBe(6);
    for (const node of Object.values(stats.nodes)) expect(node.state).toBe('online');

    const metrics = await call(`${lb.url}${LB_PATHS.metrics}`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    const requests = [...metrics.body.matchAll(/^fnlb_requests_total\{[^}]*code="200"[^}]*\} (\d+)$/gm)];
    expect(requests.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(6);
    expect(metrics.body).toMatch(/^fnlb_node_online\{node="127\.0\.0\.1:\d+"\} 1$/m);
    expect(metrics.body).toMatch(/^fnlb_bound 8$/m);
  });

  it('answers /health, and 404/405 {"msg"} for unknown endpoints and methods', async () => {
    const lb = await startLb([]);
    const health = await call(`${lb.url}${LB_PATHS.health}`);
    expect([health.status, json(health.body)]).toEqual([200, { status: 'ok', online: 0 }]);
    const unknown = await call(`${lb.url}/1/lb/other`);
    expect([unknown.status, Object.keys(json(unknown.body) as object)]).toEqual([404, ['msg']]);
    const wrong = await call(`${lb.url}${LB_PATHS.nodes}`, { method: 'POST', body: '{}' });
    expect(wrong.status).toBe(405);
  });
});
