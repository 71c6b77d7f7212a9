// The node's Fn v1 apps and routes API in process: the real server (buildServer) over the real SQLite
// datastore in memory, driven with fastify's inject(). It pins what clients see: shapes, defaults,
// merging, and every validation message with its status, including which one wins when a body is
// wrong in several places.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleRoute } from '../../helpers/sample-route.js';
import { ROUTE_LIMITS, type Route } from '../../src/common/wire.js';
import { SqliteDatastore } from '../../src/node/datastore/sqlite.js';
import { createNodeMetrics } from '../../src/node/metrics.js';
import { buildServer } from '../../src/node/server.js';

let datastore: SqliteDatastore;
let server: FastifyInstance;

beforeEach(async () => {
  datastore = SqliteDatastore.open(':memory:');
  server = await buildServer({
    nodeId: 'unit',
    maxRequestBytes: 64 * 1024,
    datastore,
    metrics: createNodeMetrics('unit'),
    logger: pino({ level: 'silent' }),
  });
});

afterEach(async () => {
  await server.close();
  await datastore.close();
});

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request and its JSON answer; a string body goes as it is, the way `curl -d` sends it. */
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
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

const failure = (status: number, message: string) => ({ status, body: { error: { message } } });

const createApp = (name: string, config?: Record<string, string>) =>
  send('POST', '/v1/apps', { app: { name, ...(config ? { config } : {}) } });

const createRoute = (app: string, route: Record<string, unknown>) =>
  send('POST', `/v1/apps/${app}/routes`, { route: { image: 'localhost/fnlb-guard/echo', ...route } });

/** A route as stored with Fn's defaults and the fields a request gave. */
const stored = (app: string, path: string, fields: Record<string, unknown> = {}) =>
  sampleRoute(app, path, fields as Partial<Route>);

describe('apps', () => {
  it('creates, loads, lists and deletes apps with Fn shapes', async () => {
    expect(await createApp('b', { A: '1' })).toEqual({
      status: 200,
      body: { message: 'App successfully created', app: { name: 'b', config: { A: '1' } } },
    });
    expect((await createApp('a')).body).toEqual({
      message: 'App successfully created',
      app: { name: 'a', config: {} },
    });
    expect(await send('GET', '/v1/apps/b')).toEqual({
      status: 200,
      body: { message: 'Successfully loaded app', app: { name: 'b', config: { A: '1' } } },
    });
    expect(await send('GET', '/v1/apps')).toEqual({
      status: 200,
      body: {
        message: 'Successfully listed applications',
        apps: [
          { name: 'a', config: {} },
          { name: 'b', config: { A: '1' } },
        ],
      },
    });
    expect(await send('DELETE', '/v1/apps/b')).toEqual({ status: 200, body: { message: 'App deleted' } });
    expect(await send('GET', '/v1/apps/b')).toEqual(failure(404, 'App not found'));
  });

  it('answers 409 for an app that exists and 404 for one that does not', async () => {
    await createApp('twice');
    expect(await createApp('twice')).toEqual(failure(409, 'App already exists'));
    for (const method of ['GET', 'DELETE'] as const) {
      expect(await send(method, '/v1/apps/nope')).toEqual(failure(404, 'App not found'));
    }
    expect(await send('PATCH', '/v1/apps/nope', { app: {} })).toEqual(failure(404, 'App not found'));
  });

  it('merges a config patch: a new value sets, an empty one deletes, others stay', async () => {
    await createApp('merge', { A: '1', B: '2' });
    expect(await send('PATCH', '/v1/apps/merge', { app: { config: { A: '', C: '3' } } })).toEqual({
      status: 200,
      body: { message: 'App successfully updated', app: { name: 'merge', config: { B: '2', C: '3' } } },
    });
    expect((await send('PATCH', '/v1/apps/merge', { app: { name: 'merge', config: null } })).body).toEqual({
      message: 'App successfully updated',
      app: { name: 'merge', config: { B: '2', C: '3' } },
    });
  });

  it('keeps the name: a patch naming another app is refused and changes nothing', async () => {
    await createApp('fixed', { A: '1' });
    expect(await send('PATCH', '/v1/apps/fixed', { app: { name: 'other', config: { A: '2' } } })).toEqual(
      failure(400, 'Could not update app: app.name is immutable'),
    );
    expect((await send('GET', '/v1/apps/fixed')).body.app).toEqual({ name: 'fixed', config: { A: '1' } });
  });

  it('ignores unknown fields and stores none of them', async () => {
    const created = await send('POST', '/v1/apps', {
      app: { name: 'extra', config: { A: '1' }, created_at: 'now', annotations: { x: 1 } },
      extra: true,
    });
    expect(created.body).toEqual({
      message: 'App successfully created',
      app: { name: 'extra', config: { A: '1' } },
    });
    expect((await send('GET', '/v1/apps/extra')).body.app).toEqual({ name: 'extra', config: { A: '1' } });
  });

  it('takes JSON whatever the content type, and a config of null as none', async () => {
    const created = await send('POST', '/v1/apps', '{"app":{"name":"curlish","config":null}}');
    expect(created).toEqual({
      status: 200,
      body: { message: 'App successfully created', app: { name: 'curlish', config: {} } },
    });
  });
});

describe('routes', () => {
  it("creates a route with Fn's defaults, and its app with it", async () => {
    expect(
      await send('POST', '/v1/apps/made/routes', {
        route: { path: '/p', image: 'localhost/fnlb-guard/echo' },
      }),
    ).toEqual({
      status: 200,
      body: { message: 'Route successfully created', route: stored('made', '/p') },
    });
    expect((await send('GET', '/v1/apps/made')).body.app).toEqual({ name: 'made', config: {} });
    expect(await send('GET', '/v1/apps/made/routes/p')).toEqual({
      status: 200,
      body: { message: 'Successfully loaded route', route: stored('made', '/p') },
    });
  });

  it('stores every field it is given, and a path without its trailing "/"', async () => {
    const route = {
      image: 'registry:5000/team/fn:1.0',
      format: 'http',
      type: 'sync',
      memory: ROUTE_LIMITS.maxMemory,
      timeout: ROUTE_LIMITS.maxTimeout,
      idle_timeout: ROUTE_LIMITS.maxIdleTimeout,
      cpus: '500m',
      config: { K: 'v' },
      headers: { 'X-Fn': ['a', 'b'] },
    };
    const created = await send('POST', '/v1/apps/full/routes', { route: { path: '/a/b/', ...route } });
    expect(created.body).toEqual({
      message: 'Route successfully created',
      route: stored('full', '/a/b', route),
    });
    expect((await send('GET', '/v1/apps/full/routes/a/b')).body.route).toEqual(stored('full', '/a/b', route));
  });

  it('lists the routes of an app by path', async () => {
    await createRoute('list', { path: '/b' });
    await createRoute('list', { path: '/a/nested' });
    await createRoute('other', { path: '/c' });
    expect(await send('GET', '/v1/apps/list/routes')).toEqual({
      status: 200,
      body: {
        message: 'Successfully listed routes',
        routes: [stored('list', '/a/nested'), stored('list', '/b')],
      },
    });
  });

  it('answers 409 for a route that exists and 404 for a route or app that does not', async () => {
    await createRoute('there', { path: '/p' });
    expect(await createRoute('there', { path: '/p/' })).toEqual(failure(409, 'Route already exists'));
    for (const method of ['GET', 'DELETE'] as const) {
      expect(await send(method, '/v1/apps/there/routes/q')).toEqual(failure(404, 'Route not found'));
      expect(await send(method, '/v1/apps/nope/routes/p')).toEqual(failure(404, 'App not found'));
    }
    expect(await send('PATCH', '/v1/apps/there/routes/q', { route: {} })).toEqual(
      failure(404, 'Route not found'),
    );
    expect(await send('PATCH', '/v1/apps/nope/routes/p', { route: {} })).toEqual(
      failure(404, 'App not found'),
    );
    expect(await send('GET', '/v1/apps/nope/routes')).toEqual(failure(404, 'App not found'));
    expect(await send('GET', '/v3/apps')).toEqual(failure(404, 'Path not found'));
  });

  it('patches only what is set: absent, null, 0 and "" keep the stored value', async () => {
    const fields = { format: 'json', memory: 256, timeout: 10, idle_timeout: 20, cpus: '1' };
    await createRoute('keep', { path: '/p', ...fields });
    for (const unset of [undefined, null, 0, '']) {
      const route = Object.fromEntries(
        ['image', 'format', 'type', 'memory', 'timeout', 'idle_timeout'].map((field) => [field, unset]),
      );
      const patched = await send('PATCH', '/v1/apps/keep/routes/p', { route });
      expect(patched).toEqual({
        status: 200,
        body: { message: 'Route successfully updated', route: stored('keep', '/p', fields) },
      });
    }
  });

  it('patches what is set, "" for cpus meaning the node default', async () => {
    await createRoute('set', { path: '/p', cpus: '2' });
    const route = {
      image: 'localhost/fnlb-guard/sleep',
      format: 'http',
      memory: 64,
      timeout: 5,
      idle_timeout: 7,
      cpus: '',
    };
    expect((await send('PATCH', '/v1/apps/set/routes/p', { route })).body).toEqual({
      message: 'Route successfully updated',
      route: stored('set', '/p', route),
    });
  });

  it('merges config and headers: a new entry sets, an empty one deletes, others stay', async () => {
    await createRoute('merge', { path: '/p', config: { A: '1', B: '2' }, headers: { X: ['1'], Y: ['2'] } });
    const patched = await send('PATCH', '/v1/apps/merge/routes/p', {
      route: { config: { A: '', C: '3' }, headers: { X: [], Z: ['3'] } },
    });
    expect(patched.body.route).toEqual(
      stored('merge', '/p', { config: { B: '2', C: '3' }, headers: { Y: ['2'], Z: ['3'] } }),
    );
    expect(
      (await send('PATCH', '/v1/apps/merge/routes/p', { route: { config: null, headers: null } })).body.route,
    ).toEqual(patched.body.route);
  });

  it('keeps the path: a body naming another path is refused, the same path (any trailing "/") is not', async () => {
    await createRoute('fixed', { path: '/p' });
    for (const method of ['PATCH', 'PUT'] as const) {
      expect(await send(method, '/v1/apps/fixed/routes/p', { route: { path: '/q', memory: 64 } })).toEqual(
        failure(400, 'Could not update route: route.path is immutable and must match the URL'),
      );
      expect(
        (await send(method, '/v1/apps/fixed/routes/p', { route: { path: '/p/', memory: 64 } })).status,
      ).toBe(200);
    }
    expect((await send('GET', '/v1/apps/fixed/routes/p')).body.route).toEqual(
      stored('fixed', '/p', { memory: 64 }),
    );
  });

  it('upserts with PUT: creates the route and its app, then updates it', async () => {
    expect(
      await send('PUT', '/v1/apps/up/routes/p', {
        route: { image: 'localhost/fnlb-guard/echo', memory: 64 },
      }),
    ).toEqual({
      status: 200,
      body: { message: 'Route successfully created', route: stored('up', '/p', { memory: 64 }) },
    });
    expect(await send('PUT', '/v1/apps/up/routes/p', { route: { timeout: 9 } })).toEqual({
      status: 200,
      body: { message: 'Route successfully updated', route: stored('up', '/p', { memory: 64, timeout: 9 }) },
    });
    expect(await send('PUT', '/v1/apps/up/routes/q', { route: { memory: 64 } })).toEqual(
      failure(400, 'Missing route image (route.image)'),
    );
  });

  it('deletes a route, and an app together with its routes', async () => {
    await createRoute('gone', { path: '/a' });
    await createRoute('gone', { path: '/b' });
    expect(await send('DELETE', '/v1/apps/gone/routes/a')).toEqual({
      status: 200,
      body: { message: 'Route deleted' },
    });
    expect(await send('GET', '/v1/apps/gone/routes/a')).toEqual(failure(404, 'Route not found'));
    expect(await send('DELETE', '/v1/apps/gone')).toEqual({ status: 200, body: { message: 'App deleted' } });
    expect(await send('GET', '/v1/apps/gone/routes/b')).toEqual(failure(404, 'App not found'));
  });

  it('ignores unknown fields and stores none of them, app_name among them', async () => {
    const created = await send('POST', '/v1/apps/extra/routes', {
      route: {
        path: '/p',
        image: 'localhost/fnlb-guard/echo',
        app_name: 'other',
        created_at: 'now',
        annotations: {},
      },
      extra: 1,
    });
    expect(created.body).toEqual({ message: 'Route successfully created', route: stored('extra', '/p') });
    expect((await send('GET', '/v1/apps/other')).status).toBe(404);
  });

  it.each([
    ['a string', '128'],
    ['a fraction', 1.5],
    ['a boolean', true],
    ['an array', [128]],
  ])('refuses memory given as %s, without coercing it', async (_what, memory) => {
    expect(await createRoute('typed', { path: '/p', memory })).toEqual(
      failure(400, 'Invalid route memory: route.memory must be a whole number from 1 to 8192'),
    );
    expect((await send('GET', '/v1/apps/typed')).status).toBe(404);
  });
});

const JSON_ERROR = (() => {
  try {
    JSON.parse('{"app":');
  } catch (error) {
    return (error as Error).message;
  }
})();

const LONG = 'a'.repeat(31);
const PATH_MESSAGE = (problem: string) => `Invalid route path: route.path ${problem}`;
const IMAGE_MESSAGE = (problem: string) => `Invalid route image: route.image ${problem}`;
const limitMessage = (field: string, max: number) =>
  `Invalid route ${field}: route.${field} must be a whole number from 1 to ${max}`;
const LOADER = "changes how the function's runtime loads code and is not allowed";
/** A new route body with a valid path and image, and these fields. */
const withRoute = (fields: Record<string, unknown>) => ({
  route: { path: '/p', image: 'localhost/fnlb-guard/echo', ...fields },
});

/** [what, method, url, body, message]: one row per message the API answers with a 400. */
const INVALID: [string, Method, string, unknown, string][] = [
  // The body itself.
  ['no body', 'POST', '/v1/apps', undefined, 'Invalid JSON: expected an object body'],
  ['an empty body', 'POST', '/v1/apps', '', 'Invalid JSON: the request body is empty'],
  ['broken JSON', 'POST', '/v1/apps', '{"app":', `Invalid JSON: ${JSON_ERROR}`],
  ['a JSON array', 'POST', '/v1/apps', '[]', 'Invalid JSON: expected an object body'],
  ['a JSON null', 'POST', '/v1/apps', 'null', 'Invalid JSON: expected an object body'],
  ['a JSON string', 'POST', '/v1/apps/a/routes', '"route"', 'Invalid JSON: expected an object body'],
  ['no app', 'POST', '/v1/apps', { name: 'x' }, 'Missing new application (app)'],
  ['no app update', 'PATCH', '/v1/apps/a', {}, 'Missing app update (app)'],
  ['an app that is no object', 'POST', '/v1/apps', { app: 'x' }, 'Invalid app: "app" must be an object'],
  ['an app of null', 'PATCH', '/v1/apps/a', { app: null }, 'Invalid app: "app" must be an object'],
  ['no route', 'POST', '/v1/apps/a/routes', {}, 'Missing new route (route)'],
  ['no route update', 'PATCH', '/v1/apps/a/routes/p', {}, 'Missing route update (route)'],
  ['no route to put', 'PUT', '/v1/apps/a/routes/p', {}, 'Missing route (route)'],
  ['a route array', 'POST', '/v1/apps/a/routes', { route: [] }, 'Invalid route: "route" must be an object'],
  [
    'a route of null',
    'PUT',
    '/v1/apps/a/routes/p',
    { route: null },
    'Invalid route: "route" must be an object',
  ],
  // App names, in the body and in the URL.
  ['no app name', 'POST', '/v1/apps', { app: {} }, 'Missing app name (app.name)'],
  ['an app name of null', 'POST', '/v1/apps', { app: { name: null } }, 'Missing app name (app.name)'],
  ['an empty app name', 'POST', '/v1/apps', { app: { name: '' } }, 'Missing app name (app.name)'],
  [
    'an app name number',
    'POST',
    '/v1/apps',
    { app: { name: 7 } },
    'Invalid app name: app.name must be a string',
  ],
  [
    'a long app name',
    'POST',
    '/v1/apps',
    { app: { name: LONG } },
    'Invalid app name: app.name must be 30 characters or less',
  ],
  [
    'an app name with a space',
    'POST',
    '/v1/apps',
    { app: { name: 'a b' } },
    'Invalid app name: app.name must not contain spaces or control characters',
  ],
  [
    'an app name with a control character',
    'POST',
    '/v1/apps',
    { app: { name: 'a\u0007' } },
    'Invalid app name: app.name must not contain spaces or control characters',
  ],
  [
    'an app name with ".."',
    'POST',
    '/v1/apps',
    { app: { name: 'a..b' } },
    'Invalid app name: app.name must not contain ".."',
  ],
  [
    'an app name with a dot',
    'POST',
    '/v1/apps',
    { app: { name: 'a.b' } },
    'Invalid app name: app.name may contain only letters, digits, "_" and "-"',
  ],
  [
    'a long app name in the URL',
    'GET',
    `/v1/apps/${LONG}`,
    undefined,
    'Invalid app name: app name in the URL must be 30 characters or less',
  ],
  [
    'an app name with a space in the URL',
    'GET',
    '/v1/apps/a%20b/routes',
    undefined,
    'Invalid app name: app name in the URL must not contain spaces or control characters',
  ],
  [
    'an app name with ".." in the URL',
    'POST',
    '/v1/apps/a..b/routes',
    withRoute({}),
    'Invalid app name: app name in the URL must not contain ".."',
  ],
  [
    'an app name with a dot in the URL',
    'DELETE',
    '/v1/apps/a.b/routes/p',
    undefined,
    'Invalid app name: app name in the URL may contain only letters, digits, "_" and "-"',
  ],
  // Config, of apps and of routes.
  [
    'an app config that is no object',
    'POST',
    '/v1/apps',
    { app: { name: 'a', config: ['A'] } },
    'Invalid config: app.config must be an object of strings',
  ],
  [
    'an app config value that is no string',
    'POST',
    '/v1/apps',
    { app: { name: 'a', config: { A: 1 } } },
    'Invalid config: app.config.A must be a string',
  ],
  [
    'an app config key with a space',
    'POST',
    '/v1/apps',
    { app: { name: 'a', config: { 'A B': '1' } } },
    'Invalid config: app.config key "A B" must be a non-empty name without spaces or "="',
  ],
  [
    'an app config key with "="',
    'PATCH',
    '/v1/apps/a',
    { app: { config: { 'A=B': '1' } } },
    'Invalid config: app.config key "A=B" must be a non-empty name without spaces or "="',
  ],
  [
    'an empty app config key',
    'POST',
    '/v1/apps',
    { app: { name: 'a', config: { '': '1' } } },
    'Invalid config: app.config key "" must be a non-empty name without spaces or "="',
  ],
  [
    'an app config loader variable',
    'POST',
    '/v1/apps',
    { app: { name: 'a', config: { LD_PRELOAD: '/x.so' } } },
    `Invalid config: app.config key "LD_PRELOAD" ${LOADER}`,
  ],
  [
    'an app name that is not the URL one',
    'PATCH',
    '/v1/apps/a',
    { app: { name: 7 } },
    'Could not update app: app.name is immutable',
  ],
  [
    'a route config that is no object',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ config: 'A=1' }),
    'Invalid config: route.config must be an object of strings',
  ],
  [
    'a route config value that is no string',
    'PATCH',
    '/v1/apps/a/routes/p',
    { route: { config: { A: null } } },
    'Invalid config: route.config.A must be a string',
  ],
  [
    'a route config key with a tab',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ config: { 'A\tB': '1' } }),
    'Invalid config: route.config key "A\\tB" must be a non-empty name without spaces or "="',
  ],
  [
    'a route config loader variable',
    'PUT',
    '/v1/apps/a/routes/p',
    withRoute({ config: { node_options: '--require x' } }),
    `Invalid config: route.config key "node_options" ${LOADER}`,
  ],
  // Route paths, in the body and in the URL.
  [
    'no route path',
    'POST',
    '/v1/apps/a/routes',
    { route: { image: 'i' } },
    'Missing route path (route.path)',
  ],
  [
    'a route path of null',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: null }),
    'Missing route path (route.path)',
  ],
  [
    'an empty route path',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '' }),
    'Missing route path (route.path)',
  ],
  [
    'a route path number',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: 1 }),
    PATH_MESSAGE('must be a string'),
  ],
  [
    'a long route path',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: `/${'p'.repeat(256)}` }),
    PATH_MESSAGE('must be 256 characters or less'),
  ],
  [
    'a route path with a space',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '/a b' }),
    PATH_MESSAGE('must not contain spaces or control characters'),
  ],
  [
    'a route path with ".."',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '/a/../b' }),
    PATH_MESSAGE('must not contain ".."'),
  ],
  [
    'a relative route path',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: 'p' }),
    PATH_MESSAGE('must start with "/"'),
  ],
  [
    'a route path of slashes',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '//' }),
    PATH_MESSAGE('must start with "/"'),
  ],
  [
    'the route path "/"',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '/' }),
    PATH_MESSAGE('must name a route below "/"'),
  ],
  [
    'a route path with an empty segment',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '/a//b/' }),
    PATH_MESSAGE('must not contain empty segments'),
  ],
  [
    'a route path with "%"',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '/a%20' }),
    PATH_MESSAGE(
      'must not contain "%": calls are routed by their decoded path, so write the character itself',
    ),
  ],
  [
    'a route path with "?"',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ path: '/a?b' }),
    PATH_MESSAGE('contains characters not allowed in a URL path'),
  ],
  [
    'a route path with "%" in the URL',
    'GET',
    '/v1/apps/a/routes/a%25b',
    undefined,
    'Invalid route path: route path in the URL must not contain "%": calls are routed by their decoded path, so write the character itself',
  ],
  [
    'a long route path in the URL',
    'GET',
    `/v1/apps/a/routes/${'p'.repeat(256)}`,
    undefined,
    'Invalid route path: route path in the URL must be 256 characters or less',
  ],
  [
    'a route path with a space in the URL',
    'PUT',
    '/v1/apps/a/routes/a%20b',
    withRoute({}),
    'Invalid route path: route path in the URL must not contain spaces or control characters',
  ],
  [
    'a route path with ".." in the URL',
    'PATCH',
    '/v1/apps/a/routes/a..b',
    withRoute({}),
    'Invalid route path: route path in the URL must not contain ".."',
  ],
  [
    'a route path with "\\"" in the URL',
    'DELETE',
    '/v1/apps/a/routes/a%22b',
    undefined,
    'Invalid route path: route path in the URL contains characters not allowed in a URL path',
  ],
  [
    'a bad route path in the body of an update',
    'PATCH',
    '/v1/apps/a/routes/p',
    { route: { path: 'p' } },
    PATH_MESSAGE('must start with "/"'),
  ],
  [
    'another route path in the body of an update',
    'PUT',
    '/v1/apps/a/routes/p',
    { route: { path: '/q' } },
    'Could not update route: route.path is immutable and must match the URL',
  ],
  // Images.
  ['no image', 'POST', '/v1/apps/a/routes', { route: { path: '/p' } }, 'Missing route image (route.image)'],
  [
    'an empty image',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: '' }),
    'Missing route image (route.image)',
  ],
  [
    'an image of 0',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: 0 }),
    'Missing route image (route.image)',
  ],
  [
    'an image boolean',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: true }),
    IMAGE_MESSAGE('must be a string'),
  ],
  [
    'a long image',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: 'i'.repeat(257) }),
    IMAGE_MESSAGE('must be 256 characters or less'),
  ],
  [
    'an image with a space',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: 'a b' }),
    IMAGE_MESSAGE('must not contain spaces or control characters'),
  ],
  [
    'an image with ".."',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: 'a..b' }),
    IMAGE_MESSAGE('must not contain ".."'),
  ],
  [
    'an image that is no reference',
    'PATCH',
    '/v1/apps/a/routes/p',
    { route: { image: 'fnguard/Echo' } },
    IMAGE_MESSAGE(
      'must be an image reference such as "localhost/fnlb-guard/primes" or "registry:5000/team/fn:1.0"',
    ),
  ],
  [
    'an image of 256 characters, over the reference limit',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ image: 'i'.repeat(256) }),
    IMAGE_MESSAGE(
      'must be an image reference such as "localhost/fnlb-guard/primes" or "registry:5000/team/fn:1.0"',
    ),
  ],
  // Format and type.
  [
    'an unknown format',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ format: 'grpc' }),
    'Invalid route format: route.format must be one of default, http, json, http-stream',
  ],
  [
    'a format number',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ format: 1 }),
    'Invalid route format: route.format must be one of default, http, json, http-stream',
  ],
  [
    'type async',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ type: 'async' }),
    'Invalid route type: route.type "async" needs a message queue this node does not have; use "sync"',
  ],
  [
    'an unknown type',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ type: 'batch' }),
    'Invalid route type: route.type must be "sync"',
  ],
  [
    'a type boolean',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ type: false }),
    'Invalid route type: route.type must be "sync"',
  ],
  // Numbers.
  [
    'memory over the limit',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ memory: 8193 }),
    limitMessage('memory', 8192),
  ],
  ['a negative memory', 'POST', '/v1/apps/a/routes', withRoute({ memory: -1 }), limitMessage('memory', 8192)],
  [
    'a memory string',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ memory: '128' }),
    limitMessage('memory', 8192),
  ],
  [
    'timeout over the limit',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ timeout: 121 }),
    limitMessage('timeout', 120),
  ],
  [
    'a timeout fraction',
    'PUT',
    '/v1/apps/a/routes/p',
    withRoute({ timeout: 0.5 }),
    limitMessage('timeout', 120),
  ],
  [
    'idle_timeout over the limit',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ idle_timeout: 3601 }),
    limitMessage('idle_timeout', 3600),
  ],
  [
    'an idle_timeout object',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ idle_timeout: {} }),
    limitMessage('idle_timeout', 3600),
  ],
  // CPUs.
  [
    'cpus number',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ cpus: 1 }),
    'Invalid route cpus: route.cpus must be a string such as "500m"',
  ],
  [
    'cpus of 0',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ cpus: 0 }),
    'Invalid route cpus: route.cpus must be a string such as "500m"',
  ],
  [
    'cpus that are no CPU share',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ cpus: 'lots' }),
    'Invalid route cpus: route.cpus must be millicpus such as "500m" or CPUs such as "0.5"',
  ],
  [
    'cpus over the limit',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ cpus: '65' }),
    'Invalid route cpus: route.cpus must be between 0.01 and 64 CPUs',
  ],
  [
    'cpus under the limit',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ cpus: '5m' }),
    'Invalid route cpus: route.cpus must be between 0.01 and 64 CPUs',
  ],
  // Headers.
  [
    'headers that are no object',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ headers: [] }),
    'Invalid headers: route.headers must be an object of string arrays',
  ],
  [
    'a header that is no array',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ headers: { A: 'b' } }),
    'Invalid headers: route.headers.A must be an array of strings',
  ],
  [
    'a header array of numbers',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ headers: { A: [1] } }),
    'Invalid headers: route.headers.A must be an array of strings',
  ],
  [
    'a header name that HTTP cannot carry',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ headers: { 'A:B': ['c'] } }),
    'Invalid headers: route.headers key "A:B" is not an HTTP header name',
  ],
  [
    'a header value with a control character',
    'POST',
    '/v1/apps/a/routes',
    withRoute({ headers: { A: ['b\nc'] } }),
    'Invalid headers: route.headers.A has a value with a control character',
  ],
];

describe('validation', () => {
  it.each(INVALID)('refuses %s with 400 and its message', async (_what, method, url, body, message) => {
    // The routes and app the bodies update exist, so what answers is the body's check.
    await createRoute('a', { path: '/p' });
    expect(await send(method, url, body)).toEqual(failure(400, message));
  });

  /** [what, method, url, body, message]: when a request is wrong in several places, the first check answers. */
  const FIRST_WINS: [string, Method, string, unknown, string][] = [
    [
      'the URL app name before the body',
      'POST',
      '/v1/apps/a.b/routes',
      { route: 5 },
      'Invalid app name: app name in the URL may contain only letters, digits, "_" and "-"',
    ],
    [
      'the URL path before the body',
      'PUT',
      '/v1/apps/a/routes/a%25b',
      { route: 5 },
      'Invalid route path: route path in the URL must not contain "%": calls are routed by their decoded path, so write the character itself',
    ],
    [
      'the app name before its config',
      'POST',
      '/v1/apps',
      { app: { name: 'a.b', config: 5 } },
      'Invalid app name: app.name may contain only letters, digits, "_" and "-"',
    ],
    [
      'length before spaces',
      'POST',
      '/v1/apps',
      { app: { name: `${LONG} ..` } },
      'Invalid app name: app.name must be 30 characters or less',
    ],
    [
      'the path before the image',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ path: '/a%b', image: 5 }),
      PATH_MESSAGE(
        'must not contain "%": calls are routed by their decoded path, so write the character itself',
      ),
    ],
    [
      'the image reference before the format',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ image: 'UPPER', format: 'grpc' }),
      IMAGE_MESSAGE(
        'must be an image reference such as "localhost/fnlb-guard/primes" or "registry:5000/team/fn:1.0"',
      ),
    ],
    [
      'the format before the type',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ type: 'async', format: 'grpc' }),
      'Invalid route format: route.format must be one of default, http, json, http-stream',
    ],
    [
      'the type before memory',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ memory: '1', type: 'async' }),
      'Invalid route type: route.type "async" needs a message queue this node does not have; use "sync"',
    ],
    [
      'memory before timeout',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ timeout: -1, memory: -1 }),
      limitMessage('memory', 8192),
    ],
    [
      'timeout before idle_timeout',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ idle_timeout: -1, timeout: -1 }),
      limitMessage('timeout', 120),
    ],
    [
      'idle_timeout before cpus',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ cpus: 1, idle_timeout: -1 }),
      limitMessage('idle_timeout', 3600),
    ],
    [
      'cpus before config',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ config: 5, cpus: 'lots' }),
      'Invalid route cpus: route.cpus must be millicpus such as "500m" or CPUs such as "0.5"',
    ],
    [
      'config before headers',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ headers: 5, config: { A: 1 } }),
      'Invalid config: route.config.A must be a string',
    ],
    [
      'config entries in their order: a value first',
      'POST',
      '/v1/apps',
      { app: { name: 'a', config: { A: 1, 'B C': 'x' } } },
      'Invalid config: app.config.A must be a string',
    ],
    [
      'config entries in their order: a key first',
      'POST',
      '/v1/apps',
      { app: { name: 'a', config: { 'B C': 'x', A: 1 } } },
      'Invalid config: app.config key "B C" must be a non-empty name without spaces or "="',
    ],
    [
      'header entries in their order',
      'POST',
      '/v1/apps/a/routes',
      withRoute({ headers: { 'B C': ['x'], A: 'y' } }),
      'Invalid headers: route.headers key "B C" is not an HTTP header name',
    ],
    [
      'headers before a missing image',
      'POST',
      '/v1/apps/a/routes',
      { route: { path: '/p', headers: 5 } },
      'Invalid headers: route.headers must be an object of string arrays',
    ],
    [
      'the body path before its immutability',
      'PATCH',
      '/v1/apps/a/routes/p',
      { route: { path: '/q', memory: 'x' } },
      'Could not update route: route.path is immutable and must match the URL',
    ],
    [
      'the app name before its config in an update',
      'PATCH',
      '/v1/apps/a',
      { app: { name: 'b', config: 5 } },
      'Could not update app: app.name is immutable',
    ],
  ];

  it.each(FIRST_WINS)('answers %s', async (_what, method, url, body, message) => {
    await createRoute('a', { path: '/p' });
    expect(await send(method, url, body)).toEqual(failure(400, message));
  });

  it('looks an update up before its fields: a missing route answers 404 whatever the body says', async () => {
    await createApp('a');
    expect(await send('PATCH', '/v1/apps/a/routes/q', { route: { memory: 'x' } })).toEqual(
      failure(404, 'Route not found'),
    );
    expect(await send('PATCH', '/v1/apps/nope', { app: 5 })).toEqual(failure(404, 'App not found'));
    // The body's shape and path are checked before the lookup.
    expect(await send('PATCH', '/v1/apps/a/routes/q', { route: 5 })).toEqual(
      failure(400, 'Invalid route: "route" must be an object'),
    );
    expect(await send('PATCH', '/v1/apps/a/routes/q', { route: { path: '/p' } })).toEqual(
      failure(400, 'Could not update route: route.path is immutable and must match the URL'),
    );
  });

  it('changes nothing when it refuses a write', async () => {
    await createRoute('a', { path: '/p', config: { A: '1' } });
    const before = await send('GET', '/v1/apps/a/routes/p');
    expect((await send('PATCH', '/v1/apps/a/routes/p', { route: { memory: 64, cpus: 'lots' } })).status).toBe(
      400,
    );
    expect(await send('GET', '/v1/apps/a/routes/p')).toEqual(before);
  });
});
