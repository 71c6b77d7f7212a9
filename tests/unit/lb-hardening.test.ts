// fnlb under requests meant to break it, on a real in-process Fnlb with stand-in nodes: targets it
// cannot forward are the client's 400 and never count against a node; every spelling of a route's
// path reaches the route's node; the management API refuses strangers and aliases; replay buffers
// stay within their budget; stalled uploads are cut; the route table stays within its bytes.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../../guard/measure/raw-http.js';
import { LB_PATHS } from '../../src/common/lb-wire.js';
import { MAX_ROUTE_TABLE_BYTES } from '../../src/lb/stats.js';
import { call, type StandInNode, standInCluster, startLb, startStandIn } from './support/lb-fixtures.js';

describe('requests fnlb cannot forward', () => {
  it.each([
    ['OPTIONS * (asterisk form)', 'OPTIONS * HTTP/1.1\r\nHost: H\r\n\r\n'],
    [
      'an absolute-form target naming another host',
      'GET http://elsewhere.example/r/app/x HTTP/1.1\r\nHost: H\r\n\r\n',
    ],
    ['a bad percent-escape', 'GET /r/app/%zz HTTP/1.1\r\nHost: H\r\n\r\n'],
    ['an encoded slash', 'GET /r/app/a%2Fb HTTP/1.1\r\nHost: H\r\n\r\n'],
    ['a dot segment', 'GET /r/app/../other/x HTTP/1.1\r\nHost: H\r\n\r\n'],
  ])('answers 400 to %s, sends nothing to a node and keeps every node online', async (_what, request) => {
    const { nodes, lb, authority } = await standInCluster(2, ['-hc-interval', '30']);
    for (let i = 0; i < 3; i++) {
      const answer = await rawRequest(authority, request.replace('Host: H', `Host: ${authority}`));
      expect(answer.status, answer.head).toBe(400);
    }
    expect(nodes.map((node) => node.seen.length)).toEqual([0, 0]);
    expect(lb.lb.balancer.onlineCount()).toBe(2);
    expect((await call(`${lb.url}/r/app/after`)).status).toBe(200);
  });

  // Found by tests/reliability/fuzz-lb: Node's HTTP server answered these itself, with an empty 400
  // or 431 that a client cannot tell apart from a node's answer.
  it.each([
    ['no Host header (HTTP/1.1)', 'GET /r/app/x HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ['a control character in a header', 'GET /r/app/x HTTP/1.1\r\nHost: H\r\nX-A: a\u0001b\r\n\r\n', 400],
    ['a malformed request line', 'G ET /r/app/x HTTP/1.1\r\nHost: H\r\n\r\n', 400],
    ['a 20 KiB target', `GET /r/app/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: H\r\n\r\n`, 431],
  ])('answers %s in its JSON error shape', async (_what, request, status) => {
    const { nodes, authority } = await standInCluster(1, ['-hc-interval', '30']);
    const answer = await rawRequest(authority, request.replace('Host: H', `Host: ${authority}`));
    expect(answer.status, answer.head).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body ?? '')).toEqual({ error: { message: expect.any(String) } });
    expect(nodes[0]?.seen).toEqual([]);
  });

  it('forwards an absolute-form target naming this balancer as its canonical path', async () => {
    const { nodes, authority } = await standInCluster(1);
    const answer = await rawRequest(
      authority,
      `GET http://${authority}/r/app//%72oute/?q=1 HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.status, answer.head).toBe(200);
    expect(nodes[0]?.seen.map((seen) => seen.url)).toEqual(['/r/app/route?q=1']);
  });
});

describe('stickiness by the canonical path', () => {
  it('sends every spelling of a route path to the node of the plain spelling', async () => {
    const { lb } = await standInCluster(5);
    for (let route = 0; route < 20; route++) {
      const plain = `/r/app/route-${route}`;
      const home = (await call(`${lb.url}${plain}`)).headers['fn-lb-node'];
      const variants = [
        `${plain}/`,
        plain.replace('/route', '//route'),
        `${plain}?x=${route}`,
        plain.replace('route', '%72%6F%75%74%65'),
        plain.replace('/r/', '/%72/'),
      ];
      for (const variant of variants) {
        expect((await call(`${lb.url}${variant}`)).headers['fn-lb-node'], variant).toBe(home);
      }
    }
  });
});

describe('management API safety', () => {
  it('refuses node changes without a token when it listens beyond loopback, and still serves reads', async () => {
    const node = await startStandIn();
    const lb = await startLb([node.address], ['-listen', '0.0.0.0:0']);
    const port = new URL(lb.url).port;
    const nodesUrl = `http://127.0.0.1:${port}${LB_PATHS.nodes}`;
    for (const method of ['PUT', 'DELETE']) {
      const answer = await call(nodesUrl, { method, body: JSON.stringify({ node: '127.0.0.1:9' }) });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({ msg: expect.stringContaining('FNLB_MGMT_TOKEN') });
    }
    expect((await call(nodesUrl)).status).toBe(200);
    expect([...lb.lb.balancer.backends()]).toHaveLength(1);
  });

  it('accepts node changes with the token on any interface', async () => {
    const node = await startStandIn();
    const lb = await startLb([], ['-listen', '0.0.0.0:0'], 'secret');
    const nodesUrl = `http://127.0.0.1:${new URL(lb.url).port}${LB_PATHS.nodes}`;
    const body = JSON.stringify({ node: node.address });
    expect((await call(nodesUrl, { method: 'PUT', body })).status).toBe(401);
    const authorized = { authorization: 'Bearer secret' };
    expect((await call(nodesUrl, { method: 'PUT', body, headers: authorized })).status).toBe(200);
  });

  it('reads numeric spellings of a node as that node, and refuses a second name for it with 409', async () => {
    const { nodes, lb } = await standInCluster(1);
    const port = (nodes[0] as StandInNode).address.split(':')[1];
    const nodesUrl = `${lb.url}${LB_PATHS.nodes}`;
    const put = (node: string) => call(nodesUrl, { method: 'PUT', body: JSON.stringify({ node }) });
    for (const spelling of [`2130706433:${port}`, `0x7f000001:${port}`, `127.1:${port}`]) {
      expect([spelling, (await put(spelling)).status]).toEqual([spelling, 200]);
    }
    const alias = await put(`localhost:${port}`);
    expect(alias.status).toBe(409);
    expect(JSON.parse(alias.body).msg).toContain(`127.0.0.1:${port}`);
    expect([...lb.lb.balancer.backends()].map((backend) => backend.address)).toEqual([`127.0.0.1:${port}`]);
  });

  it('refuses nodes past -max-nodes with 409', async () => {
    const lb = await startLb([], ['-max-nodes', '2']);
    const nodesUrl = `${lb.url}${LB_PATHS.nodes}`;
    const put = (node: string) => call(nodesUrl, { method: 'PUT', body: JSON.stringify({ node }) });
    expect((await put('127.0.0.1:1')).status).toBe(200);
    expect((await put('127.0.0.1:2')).status).toBe(200);
    const third = await put('127.0.0.1:3');
    expect(third.status).toBe(409);
    expect(JSON.parse(third.body).msg).toContain('-max-nodes');
  });
});

describe('memory bounds', () => {
  it('keeps replay buffers within the budget: over it, a body streams to one node and is not retried', async () => {
    const { nodes, lb } = await standInCluster(2, ['-replay-budget', '0']);
    for (const node of nodes) {
      node.handle = (_req, _body, res) => {
        res.writeHead(503, { 'fn-refused': 'busy' }).end('{}');
      };
    }
    const answer = await call(`${lb.url}/r/app/x`, { method: 'POST', body: 'payload' });
    expect(answer.status).toBe(503);
    expect(nodes.reduce((sum, node) => sum + node.seen.length, 0)).toBe(1);
  });

  it('hands the budget back when each request ends', async () => {
    const { lb } = await standInCluster(2);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(`${lb.url}/r/app/${i}`, { method: 'POST', body: 'x'.repeat(5000) }),
      ),
    );
    expect(lb.lb.replay.used).toBe(0);
  });

  it('cuts an upload that stalls past -body-timeout with 408 and sends nothing to a node', async () => {
    const { nodes, authority } = await standInCluster(1, ['-body-timeout', '0.5']);
    const started = Date.now();
    const answer = await rawRequest(
      authority,
      `POST /r/app/x HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 100\r\n\r\nonly part`,
      5000,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(answer.status ?? answer.ended).toBe(408);
    expect(nodes[0]?.seen).toHaveLength(0);
  });

  it('bounds the route table in bytes and drops the least recently used routes first', async () => {
    const { lb } = await standInCluster(1);
    await call(`${lb.url}/r/app/busy`);
    for (let i = 0; i < 400; i++) {
      await call(`${lb.url}/r/app/${randomBytes(6000).toString('hex')}`);
      if (i % 50 === 0) await call(`${lb.url}/r/app/busy`);
    }
    expect(lb.lb.stats.routeTableBytes).toBeLessThanOrEqual(MAX_ROUTE_TABLE_BYTES);
    const { routes, routes_dropped } = lb.lb.stats.routes();
    expect(routes_dropped).toBeGreaterThan(0);
    expect(routes['/r/app/busy']?.requests).toBe(9);
  });
});
