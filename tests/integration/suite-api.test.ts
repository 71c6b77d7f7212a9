// API conformance and bad input through the balancer, the way Fn clients meet a deployment: Fn v1
// shapes and defaults, Fn's error shape with the right status for every kind of bad input, and the
// balancer's own management API refusing bad input with its historic `{"msg"}` shape.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FnClient } from '../../helpers/fn-client.js';
import { SuiteFile } from '../../helpers/suite.js';
import { ROUTE_DEFAULTS } from '../../src/common/wire.js';
import { LB_PATHS } from '../../src/lb/wire.js';

let suite: SuiteFile;

beforeAll(async () => {
  suite = await SuiteFile.open(inject('topology'), 'api');
});

afterAll(async () => {
  await suite?.close();
});

async function send(method: string, path: string, body?: unknown) {
  const result = await suite.lb.send(method, path, body);
  return {
    status: result.status,
    body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {},
  };
}

describe('Fn v1 API through the balancer', () => {
  it('creates a route with Fn defaults and returns Fn shapes for every read', async () => {
    const created = await send('POST', `/v1/apps/${suite.app}/routes`, {
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
    expect((await send('GET', `/v1/apps/${suite.app}`)).body).toMatchObject({ app: { name: suite.app } });
    const apps = (await send('GET', '/v1/apps')).body.apps as { name: string }[];
    expect(apps.map((app) => app.name)).toContain(suite.app);
    const routes = (await send('GET', `/v1/apps/${suite.app}/routes`)).body.routes as { path: string }[];
    expect(routes.map((route) => route.path)).toEqual(expect.arrayContaining(['/conf', '/discover']));
    const patched = await send('PATCH', `/v1/apps/${suite.app}/routes/conf`, { route: { timeout: 10 } });
    expect(patched.body).toMatchObject({ route: { path: '/conf', timeout: 10 } });
    expect((await send('DELETE', `/v1/apps/${suite.app}/routes/conf`)).status).toBe(200);
  });

  it('invokes a route and names the node, container and cold start in headers', async () => {
    await suite.createRoute({ path: '/hello', image: 'fnguard/echo', format: 'http' });
    const result = await suite.lb.call(suite.app, '/hello', '', 'hi there');
    expect(result.status).toBe(200);
    expect(result.body).toBe('hi there');
    expect(result.headers['fn-call-id']).toBeTruthy();
    expect(result.headers['fn-node']).toBeTruthy();
    expect(result.headers['fn-container']).toBeTruthy();
    expect(['true', 'false']).toContain(result.headers['fn-cold']);
    // The balancer consumes the node's load signal; clients never see it.
    expect(result.headers['xxx-fxlb-wait']).toBeUndefined();
  });
});

describe('bad input gets the right 4xx with a JSON error', () => {
  it.each([
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
  ])('%s %s %j -> %i', async (method, path, body, status) => {
    const result = await send(method, path.replace('APP', suite.app), body);
    expect(result.status).toBe(status);
    expect(result.body).toEqual({ error: { message: expect.any(String) } });
  });
});

describe("the balancer's management API refuses bad input", () => {
  const token = process.env.FNLB_MGMT_TOKEN;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  it.each([
    ['PUT', '{"node":'],
    ['PUT', '{"node":"no port"}'],
    ['DELETE', '{}'],
  ])('%s %s -> 400 {"msg"}', async (method, body) => {
    const mgmt = suite.info.lbMgmtUrl;
    // An external balancer without a management API has nothing to check here.
    if (mgmt === undefined) return;
    const result = await new FnClient(mgmt, { timeoutMs: 5000 }).send(method, LB_PATHS.nodes, body, headers);
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body)).toEqual({ msg: expect.any(String) });
  });
});
