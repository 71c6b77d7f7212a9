// The Fn API (node) through the balancer, the way Fn clients meet a deployment, in the API the run
// speaks: v1's shapes and defaults and its `{"error":{"message"}}`, or v2's records by id and its
// `{"message"}`, with the right status for every kind of bad input; and the balancer's own management
// API, when it has one, refusing bad input with its historic `{"msg"}` shape.

import { describe, expect } from 'vitest';
import { atMost, required } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import type { SuiteFile } from '../../guard/engine/suite-file.js';
import { LbManagement } from '../../guard/topology/lb-management.js';
import { functionImage } from '../../src/common/function-images.js';
import { LB_PATHS } from '../../src/common/lb-wire.js';
import { ROUTE_DEFAULTS } from '../../src/common/wire.js';
import { FN_DEFAULTS } from '../../src/common/wire-v2.js';

const guard = guardProperty('api');

/**
 * A JSON answer's status and body; a body that is not JSON comes back as {"notJson": text}. API
 * requests go where the topology serves its API (the balancer, or Fn's API node), calls through the
 * balancer.
 */
async function send(suite: SuiteFile, method: string, path: string, body?: unknown) {
  const calls = /^\/(?:r|t|invoke)\//.test(path);
  const result = await (calls ? suite.lb : suite.apiClient).send(method, path, body);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {};
  } catch {
    parsed = { notJson: result.body.slice(0, 200) };
  }
  return { status: result.status, body: parsed };
}

describe('Fn API through the balancer', () => {
  guard.test('creates a route with Fn defaults and returns Fn shapes for every read', async ({ suite }) => {
    if (suite.api.version === 'v2') return fnShapesV2(suite);
    const created = await send(suite, 'POST', `/v1/apps/${suite.app}/routes`, {
      route: { path: '/conf', image: suite.image('echo') },
    });
    expect(created).toEqual({
      status: 200,
      body: {
        message: expect.any(String),
        route: expect.objectContaining({
          path: '/conf',
          image: suite.image('echo'),
          format: ROUTE_DEFAULTS.format,
          type: ROUTE_DEFAULTS.type,
          memory: ROUTE_DEFAULTS.memory,
          timeout: ROUTE_DEFAULTS.timeout,
          idle_timeout: ROUTE_DEFAULTS.idle_timeout,
        }),
      },
    });
    // Its app by name (Fn until apps had ids), or by id (Fn 0.3.5xx, the last v1 releases).
    const route = created.body.route as { app_name?: unknown; app_id?: unknown };
    expect(
      route.app_name === suite.app || (typeof route.app_id === 'string' && route.app_id !== ''),
      `the route names its app (app_name ${suite.app}, or an app_id): ${JSON.stringify(route)}`,
    ).toBe(true);
    expect((await send(suite, 'GET', `/v1/apps/${suite.app}`)).body).toMatchObject({
      app: { name: suite.app },
    });
    const apps = (await send(suite, 'GET', '/v1/apps')).body.apps as { name: string }[];
    expect(apps.map((app) => app.name)).toContain(suite.app);
    const routes = (await send(suite, 'GET', `/v1/apps/${suite.app}/routes`)).body.routes as {
      path: string;
    }[];
    expect(routes.map((route) => route.path)).toEqual(expect.arrayContaining(['/conf', '/discover']));
    const patched = await send(suite, 'PATCH', `/v1/apps/${suite.app}/routes/conf`, {
      route: { timeout: 10 },
    });
    expect(patched.body).toMatchObject({ route: { path: '/conf', timeout: 10 } });
    expect((await send(suite, 'DELETE', `/v1/apps/${suite.app}/routes/conf`)).status).toBe(200);
  });

  guard.test('invokes a route and names the call', async ({ suite }) => {
    await suite.createRoute({ path: '/hello', image: suite.image('echo'), format: 'http' });
    const result = await suite.lb.send('POST', suite.invokePath('/hello'), 'hi there');
    expect(result.status).toBe(200);
    expect(result.body).toBe('hi there');
    // Fn-Call-Id, or the Fn server's own spelling of it.
    expect(result.headers['fn-call-id'] ?? result.headers.fn_call_id).toMatch(/^\S+$/);
  });
});

/** v2: a fn with Fn's defaults, read back by id and in its app's list, updated and removed. */
async function fnShapesV2(suite: SuiteFile): Promise<void> {
  const apps = (await send(suite, 'GET', `/v2/apps?name=${suite.app}`)).body.items as { id: string }[];
  const appId = apps[0]?.id;
  expect(appId, `GET /v2/apps?name=${suite.app} names the file's app`).toEqual(expect.any(String));
  const created = await send(suite, 'POST', '/v2/fns', {
    name: 'conf',
    app_id: appId,
    image: suite.image('echo'),
  });
  expect(created).toEqual({
    status: 200,
    body: expect.objectContaining({
      name: 'conf',
      app_id: appId,
      image: suite.image('echo'),
      ...FN_DEFAULTS,
    }),
  });
  const id = created.body.id as string;
  expect((await send(suite, 'GET', `/v2/fns/${id}`)).body).toMatchObject({ id, name: 'conf' });
  const listed = (await send(suite, 'GET', `/v2/fns?app_id=${appId}`)).body.items as { name: string }[];
  expect(listed.map((fn) => fn.name)).toEqual(expect.arrayContaining(['conf', 'discover']));
  const updated = await send(suite, 'PUT', `/v2/fns/${id}`, { timeout: 10 });
  expect(updated.body).toMatchObject({ id, timeout: 10 });
  expect((await send(suite, 'DELETE', `/v2/fns/${id}`)).status).toBe(204);
}

const BAD_INPUT_V2: Array<[string, string, unknown, number]> = [
  ['POST', '/v2/apps', '{"name":', 400],
  ['POST', '/v2/apps', { name: 'has space' }, 400],
  ['GET', '/v2/apps/NOSUCHAPP0FNGUARD000000000', undefined, 404],
  ['POST', '/v2/fns', { name: 'x', app_id: 'NOSUCHAPP0FNGUARD000000000', image: functionImage('echo') }, 404],
  ['POST', '/v2/fns', { name: 'x' }, 400],
  ['POST', '/v2/triggers', {}, 400],
  ['GET', '/v2/fns/NOSUCHFN00FNGUARD000000000', undefined, 404],
  ['GET', '/t/APP/nosuchtrigger', undefined, 404],
  ['POST', '/invoke/NOSUCHFN00FNGUARD000000000', undefined, 404],
];

const BAD_INPUT: Array<[string, string, unknown, number]> = [
  ['POST', '/v1/apps', '{"app":', 400],
  ['POST', '/v1/apps', { app: { name: 'has space' } }, 400],
  ['POST', '/v1/apps', { app: { name: 'x'.repeat(31) } }, 400],
  ['GET', '/v1/apps/nosuchapp-fnguard', undefined, 404],
  ['POST', '/v1/apps/APP/routes', { route: { path: '/a/../b', image: 'i' } }, 400],
  ['POST', '/v1/apps/APP/routes', { route: { path: '/ok', image: 'i', timeout: 9999 } }, 400],
  ['POST', '/v1/apps/APP/routes', { route: { path: '/ok', image: 'i', format: 'xml' } }, 400],
  ['POST', '/v1/apps/APP/routes', { route: { path: '/discover', image: 'i' } }, 409],
  ['GET', '/v1/apps/APP/routes/nosuchroute', undefined, 404],
  ['GET', '/r/APP/nosuchroute', undefined, 404],
];

/** v1: `{"error":{"message"}}`; v2: `{"message"}` (Fn adds `fields` where it has them). */
function isFnError(body: Record<string, unknown>, version: 'v1' | 'v2'): boolean {
  if (version === 'v2') {
    const keys = Object.keys(body).filter((key) => key !== 'fields');
    return keys.length === 1 && typeof body.message === 'string';
  }
  const error = body.error as { message?: unknown } | undefined;
  return Object.keys(body).length === 1 && typeof error?.message === 'string';
}

describe('bad input', () => {
  guard.test('gets the right 4xx with a JSON error', async ({ suite, judge }) => {
    const wrong: string[] = [];
    const version = suite.api.version;
    const shape = version === 'v2' ? '{"message"}' : '{"error":{"message"}}';
    for (const [method, path, body, status] of version === 'v2' ? BAD_INPUT_V2 : BAD_INPUT) {
      const target = path.replace('APP', suite.app);
      const result = await send(suite, method, target, body);
      if (result.status !== status || !isFnError(result.body, version)) {
        wrong.push(
          `${method} ${target} ${JSON.stringify(body)}: ${result.status} ${JSON.stringify(result.body)}, want ${status} ${shape}`,
        );
      }
    }
    judge(
      [
        atMost(
          "bad requests answered outside Fn's status or shape",
          wrong.length,
          required(0, "every bad request gets its documented 4xx and Fn's error shape"),
        ),
      ],
      wrong,
    );
  });
});

describe("the balancer's management API", () => {
  guard.test(
    'refuses bad input with 400 {"msg"}',
    async ({ suite, judge }) => {
      const mgmt = new LbManagement(suite.info);
      const wrong: string[] = [];
      for (const [method, body] of [
        ['PUT', '{"node":'],
        ['PUT', '{"node":"no port"}'],
        ['DELETE', '{}'],
      ] as const) {
        const result = await mgmt.send(method, LB_PATHS.nodes, body);
        let shaped = false;
        try {
          shaped = typeof (JSON.parse(result.body) as { msg?: unknown }).msg === 'string';
        } catch {
          shaped = false;
        }
        if (result.status !== 400 || !shaped)
          wrong.push(`${method} ${body}: ${result.status} ${result.body}`);
      }
      judge(
        [
          atMost(
            'bad management requests not answered 400 {"msg"}',
            wrong.length,
            required(0, 'the historic fnlb shapes'),
          ),
        ],
        wrong,
      );
    },
    // The balancer's own API: a failure here is the balancer's, not the nodes'.
    { needs: ['mgmtWrite'], implicates: 'balancer' },
  );
});
