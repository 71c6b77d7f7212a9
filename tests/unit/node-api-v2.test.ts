// The node's Fn v2 API in process: the real server (buildServer) over the real SQLite datastore in
// memory, driven with fastify's inject(). It pins what v2 clients see: Fn's shapes, ids, defaults,
// paging by cursor, `{"message"}` errors with Fn's own words, and that v1 and v2 share one app table.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ULID_PATTERN } from '../../src/common/ulid.js';
import { invokeRoutes } from '../../src/node/api/invoke.js';
import { RouteCache } from '../../src/node/datastore/route-cache.js';
import { SqliteDatastore } from '../../src/node/datastore/sqlite.js';
import { createNodeMetrics } from '../../src/node/metrics.js';
import { buildServer } from '../../src/node/server.js';

let datastore: SqliteDatastore;
let server: FastifyInstance;
let routes: RouteCache;

beforeEach(async () => {
  datastore = SqliteDatastore.open(':memory:');
  routes = new RouteCache(datastore);
  server = await buildServer({
    nodeId: 'unit',
    maxRequestBytes: 64 * 1024,
    datastore,
    metrics: createNodeMetrics('unit'),
    logger: pino({ level: 'silent' }),
    // Invocation's lookups only: these tests never reach a function (tests/integration runs them).
    plugins: [
      invokeRoutes({
        nodeId: 'unit',
        routes,
        runner: { run: () => Promise.reject(new Error('no call in these tests may reach the runner')) },
      }),
    ],
  });
});

afterEach(async () => {
  await server.close();
  routes.close();
  await datastore.close();
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Json = Record<string, unknown>;

async function send(method: Method, url: string, body?: unknown) {
  const response = await server.inject({
    method,
    url,
    ...(body === undefined
      ? {}
      : typeof body === 'string'
        ? { payload: body, headers: { 'content-type': 'text/plain' } }
        : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return {
    status: response.statusCode,
    body: response.body === '' ? undefined : (response.json() as Json),
  };
}

const refused = (status: number, message: string) => ({ status, body: { message } });
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function created(method: Method, url: string, body: unknown): Promise<Json> {
  const answer = await send(method, url, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as Json;
}

const createApp = (name: string, fields: Json = {}) => created('POST', '/v2/apps', { name, ...fields });
const createFn = (appId: unknown, name: string, fields: Json = {}) =>
  created('POST', '/v2/fns', { app_id: appId, name, image: 'localhost/fnlb-guard/sleep', ...fields });
const createTrigger = (appId: unknown, fnId: unknown, name: string, source: string) =>
  created('POST', '/v2/triggers', { app_id: appId, fn_id: fnId, name, type: 'http', source });

describe('v2 apps', () => {
  it('creates an app with a ULID and timestamps, lists, reads, updates and deletes it', async () => {
    const app = await createApp('shop', { config: { A: '1' }, annotations: { 'team/owner': 'ops' } });
    expect(app).toMatchObject({ name: 'shop', config: { A: '1' }, annotations: { 'team/owner': 'ops' } });
    expect(app.id).toMatch(ULID_PATTERN);
    expect(app.created_at).toMatch(TIMESTAMP);
    expect(app.updated_at).toBe(app.created_at);

    expect(await send('GET', `/v2/apps/${app.id}`)).toEqual({ status: 200, body: app });
    expect((await send('GET', '/v2/apps?name=shop')).body).toEqual({ items: [app] });

    const updated = await created('PUT', `/v2/apps/${app.id}`, {
      config: { A: '', B: '2' },
      annotations: { 'team/owner': '' },
    });
    expect(updated).toMatchObject({ id: app.id, name: 'shop', config: { B: '2' } });
    expect(updated.annotations).toBeUndefined();

    expect(await send('DELETE', `/v2/apps/${app.id}`)).toEqual({ status: 204, body: undefined });
    expect(await send('GET', `/v2/apps/${app.id}`)).toEqual(refused(404, 'App not found'));
    expect(await send('DELETE', `/v2/apps/${app.id}`)).toEqual(refused(404, 'App not found'));
  });

  it("refuses bad bodies with Fn's messages", async () => {
    await createApp('taken');
    expect(await send('POST', '/v2/apps', { name: 'taken' })).toEqual(refused(409, 'App already exists'));
    expect(await send('POST', '/v2/apps', { name: 'bad name!' })).toEqual(refused(400, 'Invalid app name'));
    expect(await send('POST', '/v2/apps', {})).toEqual(refused(400, 'Missing Name'));
    expect(await send('POST', '/v2/apps', 'garbage')).toEqual(refused(400, 'Invalid JSON'));
    expect(await send('POST', '/v2/apps', { name: 'x', id: 'mine' })).toEqual(
      refused(400, 'App ID cannot be supplied on create'),
    );
    expect(await send('POST', '/v2/apps', { name: 'x', annotations: { 'a b': 'c' } })).toEqual(
      refused(
        400,
        'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace',
      ),
    );
    const app = await createApp('fixed');
    expect(await send('PUT', `/v2/apps/${app.id}`, { name: 'renamed' })).toEqual(
      refused(409, 'Could not update - name is immutable'),
    );
    expect(await send('PUT', `/v2/apps/${app.id}`, { id: 'other' })).toEqual(
      refused(400, 'App ID in path does not match ID in body'),
    );
  });

  it('pages by cursor in name order, per_page bounded to 100', async () => {
    for (const name of ['c', 'a', 'e', 'b', 'd']) await createApp(name);
    const first = (await send('GET', '/v2/apps?per_page=2')).body as { items: Json[]; next_cursor: string };
    expect(first.items.map((app) => app.name)).toEqual(['a', 'b']);
    const second = (await send('GET', `/v2/apps?per_page=2&cursor=${first.next_cursor}`)).body as {
      items: Json[];
      next_cursor: string;
    };
    expect(second.items.map((app) => app.name)).toEqual(['c', 'd']);
    const last = (await send('GET', `/v2/apps?per_page=2&cursor=${second.next_cursor}`)).body as Json;
    expect(last).toEqual({ items: [expect.objectContaining({ name: 'e' })] });
    expect(await send('GET', '/v2/apps?cursor=not*base64')).toEqual(refused(400, 'Invalid cursor'));
  });

  it('shares apps with v1: a v1 app has an id, and deleting through v2 removes its routes', async () => {
    await server.inject({ method: 'POST', url: '/v1/apps', payload: { app: { name: 'old' } } });
    await server.inject({
      method: 'POST',
      url: '/v1/apps/old/routes',
      payload: { route: { path: '/r', image: 'localhost/fnlb-guard/echo' } },
    });
    const [app] = ((await send('GET', '/v2/apps?name=old')).body as { items: Json[] }).items;
    expect(app?.id).toMatch(ULID_PATTERN);
    expect((await send('DELETE', `/v2/apps/${app?.id}`)).status).toBe(204);
    const v1 = await server.inject({ method: 'GET', url: '/v1/apps/old/routes/r' });
    expect(v1.statusCode).toBe(404);
    // The v1 API keeps its own error shape.
    expect(v1.json()).toEqual({ error: { message: 'App not found' } });
  });
});

describe('v2 fns and triggers', () => {
  it("creates a fn with Fn's defaults, updates and deletes it with its triggers", async () => {
    const app = await createApp('svc');
    const fn = await createFn(app.id, 'hello', { config: { K: 'v' } });
    expect(fn).toMatchObject({
      name: 'hello',
      app_id: app.id,
      image: 'localhost/fnlb-guard/sleep',
      memory: 128,
      timeout: 30,
      idle_timeout: 30,
      config: { K: 'v' },
    });
    expect(fn.id).toMatch(ULID_PATTERN);
    const trigger = await createTrigger(app.id, fn.id, 'hello', '/hello/');
    expect(trigger).toMatchObject({ app_id: app.id, fn_id: fn.id, type: 'http', source: '/hello' });

    const changed = await created('PUT', `/v2/fns/${fn.id}`, { memory: 256, config: { K: '' } });
    expect(changed).toMatchObject({ id: fn.id, name: 'hello', memory: 256, config: {} });
    expect((await send('GET', `/v2/fns?app_id=${app.id}`)).body).toEqual({ items: [changed] });
    expect((await send('GET', `/v2/triggers?app_id=${app.id}&fn_id=${fn.id}`)).body).toEqual({
      items: [trigger],
    });
    expect(await send('GET', `/v2/runner/apps/${app.id}/triggerBySource/http/hello`)).toEqual({
      status: 200,
      body: trigger,
    });

    expect((await send('DELETE', `/v2/fns/${fn.id}`)).status).toBe(204);
    expect(await send('GET', `/v2/fns/${fn.id}`)).toEqual(refused(404, 'Fn not found'));
    expect(await send('GET', `/v2/triggers/${trigger.id}`)).toEqual(refused(404, 'Trigger not found'));
  });

  it("refuses bad fns and triggers with Fn's messages", async () => {
    const app = await createApp('svc');
    const other = await createApp('other');
    const fn = await createFn(app.id, 'hello');
    expect(
      await send('POST', '/v2/fns', { name: 'hello', app_id: app.id, image: 'localhost/fnlb-guard/sleep' }),
    ).toEqual(refused(409, 'Fn with specified name already exists'));
    expect(await send('POST', '/v2/fns', { name: 'x', app_id: app.id })).toEqual(
      refused(400, 'Missing image on Fn'),
    );
    expect(await send('POST', '/v2/fns', { name: 'x', image: 'localhost/fnlb-guard/sleep' })).toEqual(
      refused(400, 'Missing AppID on Fn'),
    );
    expect(
      await send('POST', '/v2/fns', { name: 'x', app_id: 'NOPE', image: 'localhost/fnlb-guard/sleep' }),
    ).toEqual(refused(404, 'App not found'));
    expect(
      await send('POST', '/v2/fns', {
        name: 'x',
        app_id: app.id,
        image: 'localhost/fnlb-guard/sleep',
        timeout: 301,
      }),
    ).toEqual(refused(400, 'timeout value is out of range, must be between 0 and 300'));
    expect(await send('POST', '/v2/fns', { name: 'x', app_id: app.id, image: 'not an image!' })).toEqual(
      refused(400, 'Invalid Fn image'),
    );

    await createTrigger(app.id, fn.id, 'hello', '/hello');
    const same = { app_id: app.id, fn_id: fn.id, type: 'http' };
    expect(await send('POST', '/v2/triggers', { ...same, name: 'again', source: '/hello' })).toEqual(
      refused(409, 'Trigger with the same type and source exists on this app'),
    );
    expect(await send('POST', '/v2/triggers', { ...same, name: 'hello', source: '/other' })).toEqual(
      refused(409, 'Trigger already exists'),
    );
    expect(await send('POST', '/v2/triggers', { ...same, name: 't', source: 'nope' })).toEqual(
      refused(400, "Missing Trigger Source Prefix '/'"),
    );
    expect(await send('POST', '/v2/triggers', { ...same, name: 't', type: 'cron', source: '/c' })).toEqual(
      refused(400, 'Trigger Type Not Supported'),
    );
    expect(
      await send('POST', '/v2/triggers', { ...same, app_id: other.id, name: 't', source: '/elsewhere' }),
    ).toEqual(refused(400, 'Invalid Fn ID - not owned by specified app'));
    expect(await send('GET', '/v2/triggers')).toEqual(refused(400, 'Missing App ID on Trigger'));
  });

  it('answers calls to unknown triggers and fns with 404 in the v2 shape', async () => {
    const app = await createApp('svc');
    expect(await send('POST', '/t/nope/x')).toEqual(refused(404, 'App not found'));
    expect(await send('POST', '/t/svc/x')).toEqual(refused(404, 'Trigger not found'));
    expect(await send('POST', '/invoke/01NOPE')).toEqual(refused(404, 'Fn not found'));
    expect(app.id).toMatch(ULID_PATTERN);
  });
});

describe('v2 edge cases', () => {
  it('pages through records that share a name (two fns with a trigger named alike)', async () => {
    const app = await createApp('svc');
    const one = await createFn(app.id, 'one');
    const two = await createFn(app.id, 'two');
    await createTrigger(app.id, one.id, 't', '/one');
    await createTrigger(app.id, two.id, 't', '/two');
    const first = (await send('GET', `/v2/triggers?app_id=${app.id}&per_page=1`)).body as {
      items: Json[];
      next_cursor: string;
    };
    const second = (await send('GET', `/v2/triggers?app_id=${app.id}&per_page=1&cursor=${first.next_cursor}`))
      .body as { items: Json[] };
    expect([...first.items, ...second.items].map((trigger) => trigger.source).sort()).toEqual([
      '/one',
      '/two',
    ]);
  });

  it('finds a trigger of source "/" by source, and calls apps with names up to 255 characters', async () => {
    const app = await createApp('root');
    const fn = await createFn(app.id, 'home');
    const trigger = await createTrigger(app.id, fn.id, 'home', '/');
    expect(await send('GET', `/v2/runner/apps/${app.id}/triggerBySource/http/`)).toEqual({
      status: 200,
      body: trigger,
    });
    const long = 'a'.repeat(255);
    await createApp(long);
    expect(await send('POST', `/t/${long}/x`)).toEqual(refused(404, 'Trigger not found'));
  });

  it('refuses what could never be called or stored with a 400', async () => {
    const app = await createApp('svc');
    const fn = await createFn(app.id, 'f');
    const trigger = { app_id: app.id, fn_id: fn.id, type: 'http', name: 't' };
    for (const source of ['/a/../b', '/./x', '/a//b', '/50%25']) {
      expect(await send('POST', '/v2/triggers', { ...trigger, source })).toEqual(
        refused(400, 'Path malformed'),
      );
    }
    expect(
      await send('POST', '/v2/fns', { app_id: app.id, name: '\ud800', image: 'localhost/fnlb-guard/sleep' }),
    ).toEqual(refused(400, 'name must be a valid string'));
    const deep = `{"name":"deep","annotations":{"k":${'['.repeat(20_000)}1${']'.repeat(20_000)}}}`;
    expect((await send('POST', '/v2/apps', deep)).status).toBe(400);
    expect(await send('POST', '/v2/apps', { name: 'cfg', config: [] })).toEqual(refused(400, 'Invalid JSON'));
    expect(await send('POST', '/v2/apps', { name: 'cfg', config: { A: 1 } })).toEqual(
      refused(400, 'Invalid JSON'),
    );
  });

  it('takes a syslog_url away with ""', async () => {
    const app = await createApp('logs', { syslog_url: 'tcp://logs:514' });
    expect(app.syslog_url).toBe('tcp://logs:514');
    const updated = await created('PUT', `/v2/apps/${app.id}`, { syslog_url: '' });
    expect(updated.syslog_url).toBeUndefined();
  });
});
