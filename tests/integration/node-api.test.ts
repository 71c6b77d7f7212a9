// The Fn v1 API of a real fn-node process over HTTP: shapes, defaults, limits and error codes.
import { spawnSync } from 'node:child_process';
import { gte } from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnvironment } from '../../helpers/child-env.js';
import { FN_NODE_ENTRY, type FnNodeProcess } from '../../helpers/fn-node-process.js';
import { sampleRoute } from '../../helpers/sample-route.js';
import { ScratchDir } from '../../helpers/scratch-node.js';
import { FnClient } from '../../src/common/fn-client.js';

// The nodes share the directory's SQLite file; fn-node picks their driver (`auto`).
let scratch: ScratchDir;
let node: FnNodeProcess;
let api: FnClient;

beforeAll(async () => {
  scratch = ScratchDir.create('api');
  node = await scratch.startNode({ driver: 'auto', env: { FN_MAX_REQUEST_SIZE: '4096' } });
  api = new FnClient(node.url, { timeoutMs: 10_000 });
});

afterAll(async () => {
  await scratch?.close();
});

async function json(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const result = await api.send(method, path, body, headers);
  expect(result.headers['content-type']).toMatch(/application\/json/);
  return {
    status: result.status,
    body: JSON.parse(result.body) as Record<string, unknown> & { error?: { message: string } },
  };
}

describe('system endpoints', () => {
  it('answers ping, version, stats and metrics', async () => {
    expect((await json('GET', '/')).status).toBe(200);
    const version = await json('GET', '/version');
    expect(gte(version.body.version as string, '0.0.235')).toBe(true);
    const stats = await json('GET', '/stats');
    expect(stats.body).toMatchObject({
      node: node.nodeId,
      calls: { complete: 0 },
      containers: { started: 0 },
    });
    const metrics = await api.send('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^fn_http_requests_total\{.*route="\/version".*\} \d+/m);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const result = await json('GET', '/nope');
    expect(result).toEqual({ status: 404, body: { error: { message: 'Path not found' } } });
  });
});

describe('invocation', () => {
  it('answers a call naming its call id, node, container and whether it started cold', async () => {
    await json('POST', '/v1/apps/invoked/routes', {
      route: { path: '/hello', image: 'localhost/fnlb-guard/echo', format: 'http' },
    });
    const first = await api.call('invoked', '/hello', '', 'hi there');
    expect(first.status).toBe(200);
    expect(first.body).toBe('hi there');
    expect(first.headers['fn-call-id']).toMatch(/^\S+$/);
    expect(first.headers['fn-node']).toBe(node.nodeId);
    expect(first.headers['fn-container']).toMatch(/^\S+$/);
    expect(first.headers['fn-cold']).toBe('true');
    const second = await api.call('invoked', '/hello', '', 'again');
    expect(second.headers['fn-cold']).toBe('false');
    expect(second.headers['fn-container']).toBe(first.headers['fn-container']);
  });

  it('in the opaque test mode (FN_TEST_OPAQUE=1) serves no /stats and names no node', async () => {
    await using opaque = await scratch.startNode({
      driver: 'auto',
      env: { FN_TEST_OPAQUE: '1' },
    });
    const client = new FnClient(opaque.url, { timeoutMs: 10_000 });
    expect((await client.send('GET', '/stats')).status).toBe(404);
    await client.send('POST', '/v1/apps/opaque/routes', {
      route: { path: '/hello', image: 'localhost/fnlb-guard/echo', format: 'http' },
    });
    const call = await client.call('opaque', '/hello', '', 'hi');
    expect(call.status).toBe(200);
    expect(call.headers['fn-node']).toBeUndefined();
    expect((await client.send('GET', '/r/opaque/nowhere')).headers['fn-node']).toBeUndefined();
  });
});

describe('apps', () => {
  it('creates, lists, loads, patches and deletes an app with Fn shapes', async () => {
    const created = await json('POST', '/v1/apps', { app: { name: 'shapes', config: { A: '1', B: '2' } } });
    expect(created).toEqual({
      status: 200,
      body: { message: 'App successfully created', app: { name: 'shapes', config: { A: '1', B: '2' } } },
    });
    expect((await json('POST', '/v1/apps', { app: { name: 'shapes' } })).status).toBe(409);
    await api.createApp('another');
    const listed = await json('GET', '/v1/apps');
    const names = (listed.body.apps as { name: string }[]).map((app) => app.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['shapes', 'another']));
    expect((await json('GET', '/v1/apps/shapes')).body.app).toEqual({
      name: 'shapes',
      config: { A: '1', B: '2' },
    });

    const patched = await json('PATCH', '/v1/apps/shapes', { app: { config: { A: '', C: '3' } } });
    expect(patched.body).toEqual({
      message: 'App successfully updated',
      app: { name: 'shapes', config: { B: '2', C: '3' } },
    });
    const renamed = await json('PATCH', '/v1/apps/shapes', { app: { name: 'other' } });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error?.message).toMatch(/app\.name/);

    expect(await json('DELETE', '/v1/apps/shapes')).toEqual({
      status: 200,
      body: { message: 'App deleted' },
    });
    expect(await json('GET', '/v1/apps/shapes')).toEqual({
      status: 404,
      body: { error: { message: 'App not found' } },
    });
    expect((await json('DELETE', '/v1/apps/shapes')).status).toBe(404);
  });

  it('accepts JSON sent without a JSON content type, as curl -d does', async () => {
    const result = await json('POST', '/v1/apps', '{"app":{"name":"curlish"}}', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(result.status).toBe(200);
  });

  it.each([
    ['an empty body', ''],
    ['broken JSON', '{"app":'],
    ['a JSON array', '[]'],
  ])('rejects %s with 400 Invalid JSON', async (_what, body) => {
    const result = await json('POST', '/v1/apps', body);
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toMatch(/^Invalid JSON/);
  });

  it('answers a body it refuses with 400 naming the field (every message: tests/unit/node-api.test.ts)', async () => {
    const result = await json('POST', '/v1/apps', { app: { name: 'a b' } });
    expect(result).toEqual({
      status: 400,
      body: {
        error: { message: 'Invalid app name: app.name must not contain spaces or control characters' },
      },
    });
  });

  it('answers 413 with a JSON error for a body over the limit', async () => {
    const result = await json('POST', '/v1/apps', {
      app: { name: 'big', config: { BLOB: 'x'.repeat(8192) } },
    });
    expect(result.status).toBe(413);
    expect(result.body.error?.message).toMatch(/too large/);
  });
});

describe('routes', () => {
  it('creates a route with Fn defaults and creates its app', async () => {
    const created = await json('POST', '/v1/apps/primesapp/routes', {
      route: { path: '/primes', image: 'localhost/fnlb-guard/primes:0.0.1' },
    });
    expect(created).toEqual({
      status: 200,
      body: {
        message: 'Route successfully created',
        route: sampleRoute('primesapp', '/primes', { image: 'localhost/fnlb-guard/primes:0.0.1' }),
      },
    });
    expect((await json('GET', '/v1/apps/primesapp')).status).toBe(200);
    const again = await json('POST', '/v1/apps/primesapp/routes', { route: { path: '/primes', image: 'x' } });
    expect(again).toEqual({ status: 409, body: { error: { message: 'Route already exists' } } });
  });

  it("keeps Fn's cpus: millicpus or CPUs, and empty for the node's default", async () => {
    await api.createRoute('cpus', { path: '/half', image: 'localhost/fnlb-guard/echo', cpus: '500m' });
    expect((await json('GET', '/v1/apps/cpus/routes/half')).body).toMatchObject({ route: { cpus: '500m' } });
    const patched = await json('PATCH', '/v1/apps/cpus/routes/half', { route: { cpus: '' } });
    expect(patched.body).toMatchObject({ route: { cpus: '' } });
  });

  it('loads, lists, patches, upserts and deletes routes', async () => {
    await api.createRoute('crud', {
      path: '/b',
      image: 'localhost/fnlb-guard/echo',
      format: 'http',
      memory: 64,
    });
    await api.createRoute('crud', {
      path: '/a/nested',
      image: 'localhost/fnlb-guard/echo',
      config: { K: 'v' },
    });
    const listed = await json('GET', '/v1/apps/crud/routes');
    expect((listed.body.routes as { path: string }[]).map((route) => route.path)).toEqual([
      '/a/nested',
      '/b',
    ]);
    expect((await json('GET', '/v1/apps/crud/routes/a/nested')).body.route).toMatchObject({
      config: { K: 'v' },
    });

    const patched = await json('PATCH', '/v1/apps/crud/routes/b', {
      route: {
        image: 'localhost/fnlb-guard/sleep',
        timeout: 5,
        config: { X: '1' },
        headers: { 'X-Fn': ['yes'] },
      },
    });
    expect(patched.body).toMatchObject({
      message: 'Route successfully updated',
      route: {
        path: '/b',
        image: 'localhost/fnlb-guard/sleep',
        format: 'http',
        memory: 64,
        timeout: 5,
        config: { X: '1' },
      },
    });
    const immutable = await json('PATCH', '/v1/apps/crud/routes/b', { route: { path: '/c' } });
    expect(immutable.status).toBe(400);
    expect(immutable.body.error?.message).toMatch(/route\.path is immutable/);

    const upserted = await json('PUT', '/v1/apps/crud/routes/c', {
      route: { image: 'localhost/fnlb-guard/echo' },
    });
    expect(upserted.body).toMatchObject({
      message: 'Route successfully created',
      route: { path: '/c', memory: 128 },
    });
    const updated = await json('PUT', '/v1/apps/crud/routes/c', { route: { memory: 256 } });
    expect(updated.body).toMatchObject({
      message: 'Route successfully updated',
      route: { image: 'localhost/fnlb-guard/echo', memory: 256 },
    });

    expect(await json('DELETE', '/v1/apps/crud/routes/c')).toEqual({
      status: 200,
      body: { message: 'Route deleted' },
    });
    expect(await json('GET', '/v1/apps/crud/routes/c')).toEqual({
      status: 404,
      body: { error: { message: 'Route not found' } },
    });
    expect(await json('GET', '/v1/apps/nosuchapp/routes/x')).toEqual({
      status: 404,
      body: { error: { message: 'App not found' } },
    });
    expect((await json('GET', '/v1/apps/nosuchapp/routes')).status).toBe(404);
    expect((await json('DELETE', '/v1/apps/crud/routes/c')).status).toBe(404);
  });

  it('removes an app together with its routes', async () => {
    await api.createRoute('gone', { path: '/r1', image: 'localhost/fnlb-guard/echo' });
    expect((await json('DELETE', '/v1/apps/gone')).status).toBe(200);
    expect((await json('GET', '/v1/apps/gone/routes/r1')).status).toBe(404);
  });

  it('rejects a bad app name in the URL', async () => {
    const result = await json('POST', '/v1/apps/bad%20name/routes', { route: { path: '/p', image: 'i' } });
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toMatch(/app name in the URL/);
  });
});

describe('command line', () => {
  it.each([
    [['--port', 'abc'], /--port: expected a whole number/],
    [['--driver', 'kubernetes'], /--driver: expected auto, docker or process/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 naming the flag for %j', (args, message) => {
    const result = spawnSync(process.execPath, [FN_NODE_ENTRY, ...args], {
      env: childEnvironment(),
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
