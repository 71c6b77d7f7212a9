// The proxy path of a real in-process Fnlb in front of stand-in nodes: what is forwarded and
// stripped, stickiness, which failures fail over (refused, 503) and which do not (after delivery),
// bodies in both directions, health gating and the drain.
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../helpers/wait.js';
import { LB_PATHS, type LbNodesResponse } from '../../src/common/lb-wire.js';
import { BODY_BUFFER_LIMIT } from '../../src/lb/request-body.js';
import {
  answerOk,
  call,
  type LbUnderTest,
  type StandInNode,
  standInCluster,
  startLb,
  startStandIn,
  waitOnline,
} from './support/lb-fixtures.js';

function byAddress(nodes: StandInNode[], address: string): StandInNode {
  return nodes.find((node) => node.address === address) as StandInNode;
}

/** A path whose walk starts with the given node. */
function pathHomedOn(lb: LbUnderTest, address: string): string {
  for (let i = 0; i < 10_000; i++) {
    const path = `/r/app/route-${i}`;
    if (lb.lb.balancer.walk(path)[0]?.address === address) return path;
  }
  throw new Error(`no path homed on ${address}`);
}

describe('fnlb proxy', () => {
  it('forwards method, path, query and body; strips hop-by-hop headers both ways; adds XFF and Fn-Lb-Node', async () => {
    const { nodes, lb } = await standInCluster(2);
    for (const node of nodes) {
      node.handle = (_req, _body, res) => {
        res.writeHead(201, {
          connection: 'keep-alive, x-resp-hop',
          'x-resp-hop': 'secret',
          'keep-alive': 'timeout=99',
          'xxx-fxlb-wait': '12.5ms',
          'fn-call-id': 'call-1',
        });
        res.end('made');
      };
    }
    const url = new URL(`${lb.url}/r/app/echo?x=1&y=2`);
    const answer = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          url,
          {
            method: 'POST',
            timeout: 5000,
            headers: {
              connection: 'keep-alive, x-req-hop',
              'x-req-hop': 'secret',
              'proxy-authorization': 'Basic abc',
              te: 'trailers',
              'x-forwarded-for': '10.1.1.1',
              'x-custom': 'kept',
            },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end('payload');
      },
    );
    const served = nodes.find((node) => node.seen.length > 0) as StandInNode;
    expect(nodes.filter((node) => node.seen.length > 0)).toHaveLength(1);
    const seen = served.seen[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/r/app/echo?x=1&y=2');
    expect(seen?.body.toString()).toBe('payload');
    expect(seen?.headers['x-custom']).toBe('kept');
    expect(seen?.headers['x-forwarded-for']).toBe('10.1.1.1, 127.0.0.1');
    for (const hop of ['x-req-hop', 'proxy-authorization', 'te']) expect(seen?.headers[hop]).toBeUndefined();

    expect(answer.status).toBe(201);
    expect(answer.body).toBe('made');
    expect(answer.headers['fn-lb-node']).toBe(served.address);
    expect(answer.headers['fn-call-id']).toBe('call-1');
    for (const hop of ['x-resp-hop', 'xxx-fxlb-wait']) expect(answer.headers[hop]).toBeUndefined();
    // Keep-Alive may be present, but it is the balancer's own, not the node's.
    expect(answer.headers['keep-alive']).not.toBe('timeout=99');
    // The stripped wait header still reached the balancer's load signal.
    expect(lb.lb.balancer.get(served.address)?.wait.value(Date.now())).toBeGreaterThan(10);
  });

  it('reads XXX-FXLB-WAIT in every Go duration unit fn-node writes, µs included', async () => {
    const { nodes, lb } = await standInCluster(1);
    const node = nodes[0] as StandInNode;
    const backend = lb.lb.balancer.get(node.address);
    // The balancer's average: the first report sets it, each next one moves it 30% of the way.
    let expected = 0;
    for (const [text, ms] of [
      ['850µs', 0.85],
      ['12.5ms', 12.5],
      ['1.5s', 1500],
    ] as const) {
      node.handle = (_req, _body, res) => {
        res.writeHead(200, { 'xxx-fxlb-wait': text }).end();
      };
      expected = expected === 0 ? ms : expected + 0.3 * (ms - expected);
      const answer = await call(`${lb.url}/r/app/wait`);
      expect(answer.headers['xxx-fxlb-wait']).toBeUndefined();
      const measured = backend?.wait.value(Date.now()) ?? 0;
      expect(Math.abs(measured - expected) / expected, `${text}: ${measured} vs ${expected}`).toBeLessThan(
        0.02,
      );
    }
  });

  it('keeps a route on one node whatever its query, and spreads routes over every node', async () => {
    const { nodes, lb } = await standInCluster(3);
    const used = new Set<string>();
    for (let i = 0; i < 30; i++) {
      used.add((await call(`${lb.url}/r/app/sticky?n=${i}`)).headers['fn-lb-node'] as string);
    }
    expect(used.size).toBe(1);
    const spread = new Set<string>();
    for (let i = 0; i < 60; i++)
      spread.add((await call(`${lb.url}/r/app/r${i}`)).headers['fn-lb-node'] as string);
    expect([...spread].sort()).toEqual(nodes.map((node) => node.address).sort());
  });

  it('retries a call a node refused (503 Fn-Refused) on the next node of the walk with the same body, once per node', async () => {
    const { nodes, lb } = await standInCluster(3);
    const path = pathHomedOn(lb, nodes[0]?.address as string);
    const [home, second, third] = lb.lb.balancer
      .walk(path)
      .map((b) => byAddress(nodes, b.address)) as StandInNode[];
    const busy = (_req: unknown, _body: Buffer, res: import('node:http').ServerResponse) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', 'fn-refused': 'busy' });
      res.end('{"error":{"message":"Timed out - server too busy"}}');
    };
    (home as StandInNode).handle = busy;
    const answer = await call(`${lb.url}${path}`, { method: 'POST', body: 'same body' });
    expect(answer.status).toBe(200);
    expect(answer.headers['fn-lb-node']).toBe(second?.address);
    expect(home?.seen.map((r) => r.body.toString())).toEqual(['same body']);
    expect(second?.seen.map((r) => r.body.toString())).toEqual(['same body']);
    expect(third?.seen).toHaveLength(0);
    expect(lb.lb.stats.routes().routes[path]?.retries, 'retries counted for the route').toBe(1);

    // Every node busy: each is tried once and the client gets the last node's 503.
    (second as StandInNode).handle = busy;
    (third as StandInNode).handle = busy;
    const refused = await call(`${lb.url}${path}`, { method: 'POST', body: 'x' });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({ error: { message: 'Timed out - server too busy' } });
    expect([home, second, third].map((node) => node?.seen.length)).toEqual([2, 2, 1]);
    expect(lb.lb.stats.routes().routes[path]?.retries).toBe(3);
    // A node that refuses is busy, not down.
    expect(lb.lb.balancer.onlineCount()).toBe(3);
  });

  it.each([
    [503, {}],
    [500, {}],
    [502, { 'fn-refused': 'busy' }],
  ])(
    'passes a %i %j the function answered to the client: it ran, so it is never retried',
    async (status, extra) => {
      const { nodes, lb } = await standInCluster(3);
      const path = pathHomedOn(lb, nodes[0]?.address as string);
      const home = nodes[0] as StandInNode;
      home.handle = (_req, _body, res) => {
        res.writeHead(status, { 'content-type': 'application/json', ...extra }).end('{"from":"function"}');
      };
      const answer = await call(`${lb.url}${path}`, { method: 'POST', body: 'once' });
      expect([answer.status, answer.body]).toEqual([status, '{"from":"function"}']);
      expect(nodes.map((node) => node.seen.length)).toEqual([1, 0, 0]);
      expect(lb.lb.stats.routes().routes[path]?.retries ?? 0).toBe(0);
    },
  );

  it('takes a draining node out at once and sends its refused call to the next node', async () => {
    const { nodes, lb } = await standInCluster(3, ['-hc-interval', '30']);
    const home = nodes[0] as StandInNode;
    const path = pathHomedOn(lb, home.address);
    home.handle = (_req, _body, res) => {
      res.writeHead(503, { 'fn-refused': 'draining', connection: 'close' }).end('{}');
    };
    const answer = await call(`${lb.url}${path}`, { method: 'POST', body: 'moved' });
    expect(answer.status).toBe(200);
    expect(answer.headers['fn-lb-node']).not.toBe(home.address);
    expect(lb.lb.balancer.get(home.address)?.state).toBe('offline');
    expect((await call(`${lb.url}${path}`)).headers['fn-lb-node']).not.toBe(home.address);
    expect(home.seen).toHaveLength(1);
  });

  it('fails over a refused connection to the next node and marks the dead node offline at once', async () => {
    const { nodes, lb } = await standInCluster(3, ['-hc-interval', '30']);
    const dead = nodes[1] as StandInNode;
    const path = pathHomedOn(lb, dead.address);
    const next = lb.lb.balancer.walk(path)[1]?.address;
    await dead.close();
    const answer = await call(`${lb.url}${path}`, { method: 'PUT', body: 'kept' });
    expect(answer.status).toBe(200);
    expect(answer.headers['fn-lb-node']).toBe(next);
    expect(byAddress(nodes, next as string).seen[0]?.body.toString()).toBe('kept');
    const view = JSON.parse((await call(`${lb.mgmtUrl}${LB_PATHS.nodes}`)).body) as LbNodesResponse;
    expect(view.nodes[dead.address]).toBe('offline');
    expect(lb.lb.balancer.get(dead.address)?.undelivered).toBe(1);
  });

  it('does not retry a call the node received and then failed; the client gets 502', async () => {
    const { nodes, lb } = await standInCluster(3);
    const victim = nodes[0] as StandInNode;
    victim.handle = (req) => req.socket.destroy();
    const path = pathHomedOn(lb, victim.address);
    const answer = await call(`${lb.url}${path}`, { method: 'POST', body: 'once' });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body).error.message).toContain(victim.address);
    expect(answer.headers['fn-lb-node']).toBe(victim.address);
    expect(victim.seen).toHaveLength(1);
    expect(nodes[1]?.seen.length, 'no second node may see a delivered call').toBe(0);
    expect(nodes[2]?.seen.length).toBe(0);
  });

  it('answers 503 JSON when no node is online', async () => {
    const node = await startStandIn();
    node.version = { status: 500, body: 'down' };
    const lb = await startLb([node.address]);
    const answer = await call(`${lb.url}/r/app/x`);
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body).error.message).toMatch(/no node/);
    expect(node.seen).toHaveLength(0);
  });

  it('streams a body larger than the buffer limit to the node and a slow response back as it comes', async () => {
    const { nodes, lb } = await standInCluster(2);
    for (const node of nodes) {
      node.handle = (req, body, res) => {
        if (req.url?.startsWith('/r/app/upload')) {
          res.writeHead(200).end(String(body.length));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        setTimeout(() => res.end('last'), 400);
      };
    }
    const size = BODY_BUFFER_LIMIT * 3 + 7;
    const upload = await call(`${lb.url}/r/app/upload`, { method: 'POST', body: Buffer.alloc(size, 97) });
    expect(upload.body).toBe(String(size));

    const started = Date.now();
    const firstChunkAt = await new Promise<number>((resolve, reject) => {
      httpRequest(`${lb.url}/r/app/slow`, { timeout: 5000 }, (res) => {
        res.once('data', () => resolve(Date.now() - started));
        res.resume();
      })
        .on('error', reject)
        .end();
    });
    expect(firstChunkAt, 'first chunk must arrive before the node finishes (streamed)').toBeLessThan(300);
  });

  it('gives an unknown node no traffic until its health check passes, and rejects old versions', async () => {
    const good = await startStandIn();
    const late = await startStandIn();
    const old = await startStandIn();
    late.version = { status: 503, body: '{}' };
    old.version = { status: 200, body: '{"version":"0.0.234"}' };
    const lb = await startLb([good.address, late.address, old.address]);
    await waitOnline(lb.lb, [good.address]);
    for (let i = 0; i < 40; i++) await call(`${lb.url}/r/app/k${i}`);
    expect(good.seen).toHaveLength(40);
    expect(late.seen.length + old.seen.length).toBe(0);
    expect(lb.lb.balancer.get(old.address)?.lastCheckError).toMatch(/0\.0\.234 < min-api-version 0\.0\.235/);

    late.version = { status: 200, body: '{"version":"0.1.0"}' };
    await waitOnline(lb.lb, [late.address]);
    for (let i = 0; i < 40; i++) await call(`${lb.url}/r/app/k${i}`);
    expect(late.seen.length).toBeGreaterThan(0);
    expect(old.seen).toHaveLength(0);
  });

  it('takes a node out after -hc-unhealthy failed checks in a row, not after one', async () => {
    const { nodes, lb } = await standInCluster(2, ['-hc-unhealthy', '3', '-hc-interval', '0.05']);
    const flaky = nodes[0] as StandInNode;
    const backend = lb.lb.balancer.get(flaky.address);
    flaky.version = { status: 500, body: '' };
    await waitUntil('one failed check', () => (backend?.consecutiveFailed ?? 0) >= 1);
    flaky.version = { status: 200, body: '{"version":"0.1.0"}' };
    await waitUntil('a passed check', () => (backend?.consecutivePassed ?? 0) >= 1);
    expect(backend?.online, 'one failure must not take it out').toBe(true);
    flaky.version = { status: 500, body: '' };
    await waitUntil('offline', () => backend?.online === false);
    expect(backend?.checksFailed).toBeGreaterThanOrEqual(3);
  });

  it('drains on close: in-flight calls finish, new connections are refused', async () => {
    const { nodes, lb } = await standInCluster(1, ['-shutdown-timeout', '5']);
    (nodes[0] as StandInNode).handle = (_req, _body, res) => {
      setTimeout(() => res.writeHead(200).end('finished'), 300);
    };
    const inFlight = call(`${lb.url}/r/app/slow`);
    await waitUntil('call in flight', () => lb.lb.balancer.totalInFlight === 1);
    const closing = lb.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(call(`${lb.url}/r/app/other`)).rejects.toThrow();
    expect((await inFlight).body).toBe('finished');
    await closing;
  });

  it('serves management on its own listener when -mgmt-listen differs, and proxies everything on -listen', async () => {
    const node = await startStandIn(answerOk);
    const lb = await startLb([node.address], ['-mgmt-listen', '127.0.0.1:0']);
    expect(lb.mgmtUrl).not.toBe(lb.url);
    await waitOnline(lb.lb, [node.address]);
    const view = JSON.parse((await call(`${lb.mgmtUrl}${LB_PATHS.nodes}`)).body) as LbNodesResponse;
    expect(view).toEqual({ nodes: { [node.address]: 'online' }, sources: { [node.address]: 'static' } });
    const proxied = await call(`${lb.url}${LB_PATHS.nodes}`);
    expect(proxied.headers['fn-lb-node']).toBe(node.address);
    expect((await call(`${lb.mgmtUrl}/r/app/x`)).status).toBe(404);
  });
});
