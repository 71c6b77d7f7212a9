// The Fn v1 API (node) through the balancer, the way Fn clients meet a deployment: Fn v1 shapes and
// defaults, Fn's error shape with the right status for every kind of bad input; and the balancer's
// own management API, when it has one, refusing bad input with its historic `{"msg"}` shape.
import { describe, expect } from 'vitest';
import { atMost, required } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import type { SuiteFile } from '../../guard/engine/suite-file.js';
import { LbManagement } from '../../guard/topology/lb-management.js';
import { LB_PATHS } from '../../src/common/lb-wire.js';
import { ROUTE_DEFAULTS } from '../../src/common/wire.js';

const guard = guardProperty('api');

/** A JSON answer's status and body; a body that is not JSON comes back as {"notJson": text}. */
async function send(suite: SuiteFile, method: string, path: string, body?: unknown) {
  const result = await suite.lb.send(method, path, body);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {};
  } catch {
    parsed = { notJson: result.body.slice(0, 200) };
  }
  return { status: result.status, body: parsed };
}

describe('Fn v1 API through the balancer', () => {
  guard.test('creates a route with Fn defaults and returns Fn shapes for every read', async ({ suite }) => {
    const created = await send(suite, 'POST', `/v1/apps/${suite.app}/routes`, {
      route: { path: '/conf', image: 'fnguard/echo' },
    });
    expect(created).toEqual({
      status: 200,
      body: {
        message: expect.any(String),
        route: expect.objectContaining({
          app_name: suite.app,
          path: '/conf',
          image: 'fnguard/echo',
          format: ROUTE_DEFAULTS.format,
          type: ROUTE_DEFAULTS.type,
          memory: ROUTE_DEFAULTS.memory,
          timeout: ROUTE_DEFAULTS.timeout,
          idle_timeout: ROUTE_DEFAULTS.idle_timeout,
        }),
      },
    });
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
    await suite.createRoute({ path: '/hello', image: 'fnguard/echo', format: 'http' });
    const result = await suite.lb.call(suite.app, '/hello', '', 'hi there');
    expect(result.status).toBe(200);
    expect(result.body).toBe('hi there');
    // Fn-Call-Id, or the Fn server's own spelling of it.
    expect(result.headers['fn-call-id'] ?? result.headers.fn_call_id).toMatch(/^\S+$/);
  });
});

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

function isFnError(body: Record<string, unknown>): boolean {
  const error = body.error as { message?: unknown } | undefined;
  return Object.keys(body).length === 1 && typeof error?.message === 'string';
}

describe('bad input', () => {
  guard.test('gets the right 4xx with a JSON error', async ({ suite, judge }) => {
    const wrong: string[] = [];
    for (const [method, path, body, status] of BAD_INPUT) {
      const target = path.replace('APP', suite.app);
      const result = await send(suite, method, target, body);
      if (result.status !== status || !isFnError(result.body)) {
        wrong.push(
          `${method} ${target} ${JSON.stringify(body)}: ${result.status} ${JSON.stringify(result.body)}, want ${status} {"error":{"message"}}`,
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
