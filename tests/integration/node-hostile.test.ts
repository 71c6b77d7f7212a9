// fn-node under hostile input: functions that answer what HTTP cannot carry or more than they may,
// clients that forge call metadata, stall, crowd or walk away, and requests the API must refuse in
// Fn's error shape. One real node (process driver, SQLite), the localhost/fnlb-guard/hostile and localhost/fnlb-guard/sleep
// functions. Each case is a defect a node without these limits had; the test pins the fix.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../../guard/measure/raw-http.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { waitUntil } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';

const RESPONSE_LIMIT = 64 * 1024;
const QUEUE_LIMIT = 3;
const CONNECTION_LIMIT = 20;

let node: ScratchNode;
let api: FnClient;

beforeAll(async () => {
  node = await ScratchNode.start({
    label: 'hostile',
    env: {
      FN_MAX_RESPONSE_SIZE: String(RESPONSE_LIMIT),
      FN_MAX_QUEUE: String(QUEUE_LIMIT),
      FN_REQUEST_TIMEOUT: '2',
      FN_MAX_CONNS: String(CONNECTION_LIMIT),
    },
  });
  api = new FnClient(node.url, { timeoutMs: 20_000 });
  for (const format of ['http', 'default', 'json'] as const) {
    const created = await api.send('POST', '/v1/apps/hostile/routes', {
      route: { path: `/${format}`, image: 'localhost/fnlb-guard/hostile', format },
    });
    expect(created.status).toBe(200);
  }
  await api.send('POST', '/v1/apps/hostile/routes', {
    route: { path: '/slow', image: 'localhost/fnlb-guard/sleep', format: 'http', timeout: 20 },
  });
});

afterAll(async () => {
  await node?.close();
});

const call = (path: string, query = '', headers: Record<string, string> = {}) =>
  api.send('GET', `/r/hostile${path}${query}`, undefined, headers);

function expectFnError(answer: { status: number; body: string }, status: number, message: RegExp): void {
  expect(answer.status).toBe(status);
  expect(JSON.parse(answer.body)).toEqual({ error: { message: expect.stringMatching(message) } });
}

describe('what a function answers', () => {
  it('a 1xx head as its answer is a 502, and the next call gets a fresh container', async () => {
    const hinted = await call('/http', '?do=early-hints');
    expectFnError(hinted, 502, /not a final HTTP status/);
    const next = await call('/http');
    expect(next.status).toBe(200);
    expect(next.headers['fn-container']).not.toBe(hinted.headers['fn-container']);
  });

  it('a header value HTTP cannot carry is dropped, the rest of the answer kept', async () => {
    const answer = await call('/http', '?do=bad-header');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('bad header');
    expect(answer.headers['x-good']).toBe('kept');
    expect(answer.headers['x-bad']).toBeUndefined();
  });

  // Found by tests/unit/formats-fuzz: the http reader kept headers on a plain object, so a function
  // answering a header named "constructor" threw a TypeError from the runner's stdout handler and the
  // whole node exited.
  it.each(['http', 'json'])(
    'headers named like Object.prototype members (%s format) are served, and the node stays up',
    async (format) => {
      const answer = await call(`/${format}`, '?do=object-names');
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('object names');
      expect(answer.headers.constructor).toBe('c');
      expect(answer.headers['x-good']).toBe('kept');
      expect(node.running, 'the node still runs').toBe(true);
      expect((await call(`/${format}`)).status).toBe(200);
    },
  );

  it("cannot set the node's own headers", async () => {
    const answer = await call('/http', '?do=reserved');
    expect(answer.status).toBe(200);
    expect(answer.headers['fn-node']).toBe(node.nodeId);
    for (const name of ['fn-call-id', 'fn-container', 'fn-cold'])
      expect(answer.headers[name]).not.toBe('forged');
  });

  it.each(['http', 'default', 'json'])(
    'over FN_MAX_RESPONSE_SIZE in the %s format is a 502 naming the limit; under it, a 200',
    async (format) => {
      const over = await call(`/${format}`, `?do=flood&bytes=${RESPONSE_LIMIT + 1}`);
      expectFnError(over, 502, new RegExp(`over the limit of ${RESPONSE_LIMIT} bytes`));
      const under = await call(`/${format}`, `?do=flood&bytes=${RESPONSE_LIMIT - 1024}`);
      expect(under.status).toBe(200);
      expect(under.body.length).toBe(RESPONSE_LIMIT - 1024);
    },
  );
});

describe('what a client sends', () => {
  it("cannot forge the call metadata the function receives as the node's", async () => {
    const answer = await call('/http', '?do=headers', {
      Fn_call_id: 'forged',
      Fn_method: 'DELETE',
      Fn_request_url: 'http://elsewhere/',
      Fn_deadline: '1999-01-01T00:00:00Z',
    });
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body) as Record<string, string[]>;
    expect(seen.fn_call_id).toEqual([answer.headers['fn-call-id']]);
    expect(seen.fn_method).toEqual(['GET']);
    expect(seen.fn_request_url).toHaveLength(1);
    expect(seen.fn_request_url?.[0]).toContain('/r/hostile/http');
    expect(seen.fn_deadline?.[0]).not.toBe('1999-01-01T00:00:00Z');
  });

  it('a call whose client went away leaves the queue at once and starts no container', async () => {
    await api.send('POST', '/v1/apps/hostile/routes', {
      route: { path: '/abandoned', image: 'localhost/fnlb-guard/sleep', format: 'http', timeout: 20 },
    });
    const impatient = new FnClient(node.url, { timeoutMs: 300 });
    // One call takes the route's first container; the others wait behind it, then give up.
    const calls = Array.from({ length: QUEUE_LIMIT }, () =>
      impatient.send('GET', '/r/hostile/abandoned?ms=3000').catch(() => 'gave up'),
    );
    await Promise.all(calls);
    await waitUntil(
      'the abandoned calls to leave the queue',
      async () => (await api.stats()).calls.queued === 0,
      2000,
    );
    await sleep(3500);
    const route = (await api.stats()).routes['hostile/abandoned'];
    expect(route?.containers_started).toBe(1);
    expect((route?.hot ?? 0) + (route?.cold ?? 0)).toBeLessThanOrEqual(1);
  });

  it("a route's queue is bounded: past FN_MAX_QUEUE a call is refused 503, Fn-Refused, Retry-After", async () => {
    const answers = await Promise.all(
      Array.from({ length: QUEUE_LIMIT + 4 }, () => call('/slow', '?ms=1500')),
    );
    const refused = answers.filter((answer) => answer.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.headers['fn-refused']).toBe('busy');
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(answer.body).toContain(`${QUEUE_LIMIT} calls already wait`);
    }
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
  });

  it('a stalled upload is cut after FN_REQUEST_TIMEOUT with a 408, not held for minutes', async () => {
    const started = performance.now();
    const answer = await rawRequest(
      new URL(node.url).host,
      'POST /r/hostile/http HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly ten b',
      10_000,
    );
    expect(performance.now() - started).toBeLessThan(5000);
    expect(
      answer.status === 408 || answer.ended === 'closed' || answer.ended === 'reset',
      `a 408 or a closed connection, got ${JSON.stringify(answer)}`,
    ).toBe(true);
  });

  it('connections past FN_MAX_CONNS are refused, and the node serves on', async () => {
    const host = new URL(node.url);
    const sockets = await Promise.all(
      Array.from(
        { length: CONNECTION_LIMIT + 10 },
        () =>
          new Promise<{ closed: boolean; destroy(): void }>((resolve) => {
            const socket = connect({ host: host.hostname, port: Number(host.port) });
            const state = { closed: false, destroy: () => socket.destroy() };
            socket.on('close', () => {
              state.closed = true;
            });
            socket.on('error', () => {});
            socket.on('connect', () => resolve(state));
            setTimeout(() => resolve(state), 2000);
          }),
      ),
    );
    await sleep(300);
    const closed = sockets.filter((socket) => socket.closed).length;
    for (const socket of sockets) socket.destroy();
    expect(closed).toBeGreaterThanOrEqual(10);
    await waitUntil('the node to serve again', async () => (await call('/http')).status === 200, 5000);
  });
});

describe("the API's refusals, in Fn's error shape", () => {
  it.each([
    ['an app name of 300 characters in the URL', `/r/${'a'.repeat(300)}/x`, 414, /too long/],
    ['a bad percent-escape', '/r/hostile/%zz', 400, /bad percent-escape/],
  ])('%s', async (_what, path, status, message) => {
    expectFnError(await api.send('GET', path), status, message);
  });

  it('a 20 KiB path: 431', async () => {
    const answer = await rawRequest(
      new URL(node.url).host,
      `GET /r/hostile/${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      5000,
    );
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body ?? '')).toEqual({ error: { message: 'Request header fields too large' } });
  });

  it('a Host header that is not a host: 400', async () => {
    const answer = await rawRequest(
      new URL(node.url).host,
      'GET /r/hostile/http HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n',
      5000,
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body ?? '')).toEqual({
      error: { message: expect.stringMatching(/Host header/) },
    });
  });

  // Found by tests/reliability/fuzz-node: Node's HTTP server answered this itself, with an empty 400.
  it('an HTTP/1.1 request without a Host header: 400 in Fn shape (HTTP/1.0 needs none)', async () => {
    const answer = await rawRequest(
      new URL(node.url).host,
      'GET /r/hostile/http HTTP/1.1\r\nConnection: close\r\n\r\n',
      5000,
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body ?? '')).toEqual({
      error: { message: expect.stringMatching(/Host header/) },
    });
    const old = await rawRequest(new URL(node.url).host, 'GET /version HTTP/1.0\r\n\r\n', 5000);
    expect(old.status).toBe(200);
  });

  it('GET and DELETE with a JSON content type and no body are served', async () => {
    const json = { 'content-type': 'application/json' };
    expect((await api.send('GET', '/v1/apps', undefined, json)).status).toBe(200);
    await api.send('POST', '/v1/apps', { app: { name: 'doomed' } });
    expect((await api.send('DELETE', '/v1/apps/doomed', undefined, json)).status).toBe(200);
  });

  it.each([
    [
      'route config NODE_OPTIONS',
      {
        route: {
          path: '/x1',
          image: 'localhost/fnlb-guard/echo',
          config: { NODE_OPTIONS: '--require /tmp/x.js' },
        },
      },
      /NODE_OPTIONS/,
    ],
    [
      'route config LD_PRELOAD',
      { route: { path: '/x2', image: 'localhost/fnlb-guard/echo', config: { LD_PRELOAD: '/tmp/x.so' } } },
      /LD_PRELOAD/,
    ],
    [
      'a route header value with a control character',
      { route: { path: '/x3', image: 'localhost/fnlb-guard/echo', headers: { 'X-A': ['a\u0001b'] } } },
      /control character/,
    ],
    [
      'a route path with "%"',
      { route: { path: '/p%41x', image: 'localhost/fnlb-guard/echo' } },
      /must not contain "%"/,
    ],
  ])('refuses %s with 400 naming it', async (_what, body, message) => {
    expectFnError(await api.send('POST', '/v1/apps/hostile/routes', body), 400, message);
  });

  it('refuses loader variables in app config, and lets one be removed', async () => {
    expectFnError(
      await api.send('PATCH', '/v1/apps/hostile', { app: { config: { NODE_PATH: '/tmp' } } }),
      400,
      /NODE_PATH/,
    );
    expect((await api.send('PATCH', '/v1/apps/hostile', { app: { config: { NODE_PATH: '' } } })).status).toBe(
      200,
    );
  });
});

describe("the node's own memory", () => {
  it('forgets a pool once its containers are gone, and says why it last held a start back', async () => {
    await using fresh = await ScratchNode.start({ label: 'pools' });
    const client = new FnClient(fresh.url, { timeoutMs: 20_000 });
    await client.send('POST', '/v1/apps/pools/routes', {
      route: { path: '/brief', image: 'localhost/fnlb-guard/sleep', format: 'http', idle_timeout: 1 },
    });
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => client.send('GET', '/r/pools/brief?ms=5')),
    );
    expect(burst.map((answer) => answer.status).filter((status) => status !== 200)).toEqual([]);
    const during = await client.stats();
    expect(during.pools).toBe(1);
    // Twenty fast calls on a cold route: the policy held starts back, and says which rule did.
    expect(['first-start-guard', 'starter-bound', 'adaptive', 'no-waiters']).toContain(
      during.routes['pools/brief']?.launch_hold,
    );
    await waitUntil(
      'the idle container to go and its pool with it',
      async () => (await client.stats()).pools === 0,
      10_000,
      200,
    );
    expect((await client.stats()).containers.idle).toBe(0);
  });
});
