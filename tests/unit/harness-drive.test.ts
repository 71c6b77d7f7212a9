// Attribution, bounds and call order of the load driver. The HTTP server here stands for *other*
// Fn-compatible deployments, answering in ways fn-node never does (no hostname in the body, only an
// Fn-Lb-Node header, a non-JSON body), which the harness must still attribute or reject; fn-node
// itself is exercised in tests/integration/harness-cli.test.ts.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FnClient } from '../../src/common/fn-client.js';
import { NodeDirectory } from '../../src/harness/attribution.js';
import { discoverNodes } from '../../src/harness/discovery.js';
import { callPlan, drive } from '../../src/harness/drive.js';
import { execute } from '../../src/harness/execute.js';

let server: Server;
let address: string;
let inFlight = 0;
let maxInFlight = 0;
const agent = new Agent();

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (path === '/r/a/json')
      return json(200, { hostname: 'node-x', durationSeconds: 0.25 }, { 'fn-cold': 'true' });
    if (path === '/r/a/header') return json(200, { count: 1 }, { 'fn-node': 'node-y' });
    if (path === '/r/a/lb') return json(200, {}, { 'fn-lb-node': '127.0.0.1:9002' });
    if (path === '/r/a/text') {
      response.writeHead(200, { 'fn-node': 'node-x' });
      return response.end('hello');
    }
    if (path === '/r/a/fail')
      return json(502, { error: { message: 'function crashed' } }, { 'fn-node': 'node-y' });
    if (path === '/r/a/slow') {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        json(200, { hostname: 'node-x' });
      }, 40);
      return;
    }
    json(404, { error: { message: 'Route not found' } });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  server.close();
});

const client = () => new FnClient(`http://${address}`, { timeoutMs: 5000, dispatcher: agent });

describe('attribution of a call to a node', () => {
  const directory = new NodeDirectory(['127.0.0.1:9001', '127.0.0.1:9002']);
  directory.register('node-x', '127.0.0.1:9001');
  directory.register('node-y', '127.0.0.1:9002');

  it('maps the body hostname, else Fn-Node, else Fn-Lb-Node to the node address', async () => {
    const fromBody = await execute(client(), '/r/a/json', '?max=100&loops=1');
    expect(fromBody).toMatchObject({
      ok: true,
      status: 200,
      hostname: 'node-x',
      cold: true,
      durationSeconds: 0.25,
    });
    expect(directory.attribute(fromBody)).toBe('127.0.0.1:9001');
    const fromHeader = await execute(client(), '/r/a/header', '?max=100&loops=1');
    expect(fromHeader).toMatchObject({ ok: true, hostname: undefined, nodeHeader: 'node-y', cold: false });
    expect(directory.attribute(fromHeader)).toBe('127.0.0.1:9002');
    expect(directory.attribute(await execute(client(), '/r/a/lb', '?max=100&loops=1'))).toBe(
      '127.0.0.1:9002',
    );
  });

  it('keeps an id nobody discovered as it is, and gives up only when nothing names a node', () => {
    expect(directory.attribute({ hostname: 'node-z', nodeHeader: undefined, lbNodeHeader: undefined })).toBe(
      'node-z',
    );
    expect(
      directory.attribute({ hostname: undefined, nodeHeader: undefined, lbNodeHeader: undefined }),
    ).toBeUndefined();
  });

  it('fails a call that is not 200, or not a JSON object, keeping the body for the JSON: line', async () => {
    const failed = await execute(client(), '/r/a/fail', '?max=100&loops=1');
    expect(failed).toMatchObject({ ok: false, status: 502, error: 'function returned status code: 502' });
    expect(failed.body).toBe('{"error":{"message":"function crashed"}}');
    expect(directory.attribute(failed)).toBe('127.0.0.1:9002');
    const text = await execute(client(), '/r/a/text', '?max=100&loops=1');
    expect(text).toMatchObject({
      ok: false,
      status: 200,
      error: 'response body is not a JSON object',
      body: 'hello',
    });
  });

  it('discovery maps each node to its id and reports one that fails or shares an id', async () => {
    const found = new NodeDirectory([address, `localhost:${address.split(':')[1]}`]);
    const results = await discoverNodes(found, '/r/a/json', () => client());
    expect(results[0]).toMatchObject({ node: address, id: 'node-x', error: undefined });
    expect(results[1]?.id).toBeUndefined();
    expect(results[1]?.error).toContain(`the same as ${address}`);
    const missing = await discoverNodes(new NodeDirectory([address]), '/r/a/missing', () => client());
    expect(missing[0]).toMatchObject({
      id: undefined,
      reachable: true,
      error: 'function returned status code: 404',
    });
  });
});

describe('driving', () => {
  const directory = new NodeDirectory([]);

  it('keeps exactly -concurrency calls in flight and makes exactly -calls calls', async () => {
    maxInFlight = 0;
    const result = await drive({
      client: client(),
      routes: ['/r/a/slow'],
      calls: 24,
      query: '?max=100&loops=1',
      concurrency: 4,
      deadlineMs: 30_000,
      directory,
      signal: new AbortController().signal,
    });
    expect(result.stop).toBe('completed');
    expect(result.records.map((r) => r.index)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(maxInFlight).toBe(4);
  });

  it('stops starting calls at the deadline and on abort', async () => {
    const base = {
      client: client(),
      routes: ['/r/a/slow'],
      calls: 1000,
      query: '?max=100&loops=1',
      concurrency: 2,
      directory,
    };
    const started = performance.now();
    const timed = await drive({ ...base, deadlineMs: 200, signal: new AbortController().signal });
    expect(timed.stop).toBe('deadline');
    expect(timed.records.length).toBeGreaterThan(2);
    expect(timed.records.length).toBeLessThan(100);
    expect(performance.now() - started).toBeLessThan(2000);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = await drive({ ...base, deadlineMs: 30_000, signal: controller.signal });
    expect(aborted.stop).toBe('interrupted');
    expect(aborted.records.length).toBeLessThan(100);
  });
});

describe('call plan', () => {
  it('gives every route its share: calls/routes each, the remainder one more', () => {
    const plan = callPlan(7, 100);
    const counts = Array.from({ length: 7 }, (_, route) => plan.filter((r) => r === route).length);
    expect(counts).toEqual([15, 15, 14, 14, 14, 14, 14]);
    expect(callPlan(7, 100)).toEqual(plan);
    expect(callPlan(1, 5)).toEqual([0, 0, 0, 0, 0]);
  });

  it('does not let a round-robin balancer look sticky when the node count divides the route count', () => {
    // 100 calls over 50 routes on 5 nodes: in i-mod-50 order every route's two calls would land on
    // the same node under round-robin; the shuffled plan must expose the spread.
    const plan = callPlan(50, 100);
    const nodesOf = new Map<number, Set<number>>();
    for (const [call, route] of plan.entries()) {
      nodesOf.set(route, (nodesOf.get(route) ?? new Set()).add(call % 5));
    }
    const spread = [...nodesOf.values()].filter((nodes) => nodes.size > 1).length;
    expect(spread).toBeGreaterThan(25);
  });
});
