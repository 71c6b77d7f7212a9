// Hot functions on a real fn-node with the process driver: container reuse, the three formats, the
// function environment, invocation headers and the not-found answers.
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/common/duration.js';
import { FN_HEADERS } from '../../src/common/wire.js';
import { runnerNodeForFile, uniqueApp } from './support/runner-node.js';

/** Issue 3: 100 sequential calls to a hot route are served by exactly one container. */
const SEQUENTIAL_CALLS = 100;
const PRIMES_UP_TO_1000 = 168;

const rn = runnerNodeForFile();

describe('fn-node runner (process driver)', () => {
  it(`serves ${SEQUENTIAL_CALLS} sequential calls of a hot http primes route with one container`, async () => {
    const app = uniqueApp('hot');
    await rn.api.createRoute(app, { path: '/primes', image: 'localhost/fnlb-guard/primes', format: 'http' });
    const containers = new Set<string>();
    const callIds = new Set<string>();
    const cold: string[] = [];
    for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
      const result = await rn.api.call(app, '/primes', '?max=1000&loops=2');
      expect(result.status, result.body).toBe(200);
      const body = JSON.parse(result.body);
      expect(body).toMatchObject({ hostname: rn.node.nodeId, max: 1000, loops: 2, count: PRIMES_UP_TO_1000 });
      expect(body.container).toBe(result.headers[FN_HEADERS.container]);
      expect(result.headers[FN_HEADERS.node]).toBe(rn.node.nodeId);
      expect(parseGoDuration(result.headers[FN_HEADERS.wait] ?? '')).toBeGreaterThanOrEqual(0);
      containers.add(body.container);
      callIds.add(result.headers[FN_HEADERS.callId] ?? '');
      cold.push(result.headers[FN_HEADERS.cold] ?? '');
    }
    const route = (await rn.stats()).routes[`${app}/primes`];
    expect(containers.size, `containers used: ${[...containers].join(', ')}`).toBe(1);
    expect(callIds.size).toBe(SEQUENTIAL_CALLS);
    // Fn-Cold of every call in order: the first started the container, every later one found it.
    expect(cold).toEqual(['true', ...Array(SEQUENTIAL_CALLS - 1).fill('false')]);
    expect(route).toMatchObject({
      calls: SEQUENTIAL_CALLS,
      cold: 1,
      hot: SEQUENTIAL_CALLS - 1,
      containers_started: 1,
    });
    expect(route?.run_ms_ewma).toBeGreaterThan(0);
    expect(route?.start_ms_ewma).toBeGreaterThan(0);
  });

  it('runs primes in the json format on a hot container too', async () => {
    const app = uniqueApp('json');
    await rn.api.createRoute(app, {
      path: '/primes',
      image: 'localhost/fnlb-guard/primes:latest',
      format: 'json',
    });
    const first = await rn.api.call(app, '/primes', '?max=100');
    const second = await rn.api.call(app, '/primes', '?max=1000');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(JSON.parse(first.body).count).toBe(25);
    expect(JSON.parse(second.body).count).toBe(PRIMES_UP_TO_1000);
    expect(first.headers['content-type']).toMatch(/application\/json/);
    expect(second.headers[FN_HEADERS.container]).toBe(first.headers[FN_HEADERS.container]);
    expect(second.headers[FN_HEADERS.cold]).toBe('false');
  });

  it('gives each default-format call a fresh container that ends with the call', async () => {
    const app = uniqueApp('dflt');
    await rn.api.createRoute(app, {
      path: '/primes',
      image: 'localhost/fnlb-guard/primes',
      format: 'default',
    });
    const first = await rn.api.call(app, '/primes', '?max=100');
    const second = await rn.api.call(app, '/primes', '?max=100');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(JSON.parse(first.body).count).toBe(25);
    expect(second.headers[FN_HEADERS.container]).not.toBe(first.headers[FN_HEADERS.container]);
    expect([first.headers[FN_HEADERS.cold], second.headers[FN_HEADERS.cold]]).toEqual(['true', 'true']);
    expect((await rn.stats()).routes[`${app}/primes`]).toMatchObject({
      calls: 2,
      cold: 2,
      containers_started: 2,
    });
  });

  it('passes bodies through untouched and gives functions their environment, not the node’s', async () => {
    const app = uniqueApp('env');
    await rn.api.createApp(app, { APP_WIDE: 'from-app', SHARED: 'app' });
    await rn.api.createRoute(app, {
      path: '/echo',
      image: 'localhost/fnlb-guard/echo',
      format: 'http',
      memory: 96,
      config: { SHARED: 'route', ROUTE_ONLY: 'yes' },
    });
    const names =
      'FN_APP_NAME,FN_PATH,FN_FORMAT,FN_MEMORY,HOSTNAME,APP_WIDE,SHARED,ROUTE_ONLY,FN_CONTAINER_ID,DB_URL';
    const env = await rn.api.call(app, '/echo', `?env=${names}`);
    expect(env.status, env.body).toBe(200);
    expect(JSON.parse(env.body)).toEqual({
      FN_APP_NAME: app,
      FN_PATH: '/echo',
      FN_FORMAT: 'http',
      FN_MEMORY: '96',
      HOSTNAME: rn.node.nodeId,
      APP_WIDE: 'from-app',
      SHARED: 'route',
      ROUTE_ONLY: 'yes',
      FN_CONTAINER_ID: env.headers[FN_HEADERS.container],
      DB_URL: null,
    });
    const body = 'line one\r\n\r\nHTTP/1.1 200 OK\r\n{"not":"framing"} ünïcödé';
    const echoed = await rn.api.send('PUT', `/r/${app}/echo`, body, { 'content-type': 'text/x-test' });
    expect(echoed.status).toBe(200);
    expect(echoed.body).toBe(body);
    expect(echoed.headers['content-type']).toBe('text/x-test');
  });

  it('gives default-format functions the request URL and method in their environment', async () => {
    const app = uniqueApp('url');
    await rn.api.createRoute(app, { path: '/echo', image: 'localhost/fnlb-guard/echo', format: 'default' });
    const result = await rn.api.call(app, '/echo', '?env=FN_REQUEST_URL,FN_METHOD');
    expect(result.status, result.body).toBe(200);
    expect(JSON.parse(result.body)).toEqual({
      FN_REQUEST_URL: `${rn.node.url}/r/${app}/echo?env=FN_REQUEST_URL,FN_METHOD`,
      FN_METHOD: 'GET',
    });
  });

  it('answers unknown apps and routes with JSON 404s, and an unknown image with a JSON 502', async () => {
    const app = uniqueApp('nf');
    await rn.api.createRoute(app, { path: '/ghost', image: 'acme/not-registered:1.0' });
    expect(await rn.api.call(`${app}x`, '/ghost')).toMatchObject({
      status: 404,
      body: JSON.stringify({ error: { message: 'App not found' } }),
    });
    expect(await rn.api.call(app, '/nope')).toMatchObject({
      status: 404,
      body: JSON.stringify({ error: { message: 'Route not found' } }),
    });
    const missing = await rn.api.call(app, '/ghost');
    expect(missing.status).toBe(502);
    expect(JSON.parse(missing.body).error.message).toMatch(
      /"acme\/not-registered:1\.0" is not in .*FN_PROCESS_IMAGES/,
    );
    expect(missing.headers[FN_HEADERS.callId]).toBeTruthy();
  });
});
