// Memory admission on a node given FN_MEMORY_MB for one 128 MB container: a second route's call
// evicts the other route's idle container; with nothing idle to evict, the call waits half its
// timeout and gets 503 with Retry-After.
import { describe, expect, it } from 'vitest';
import { exists, functionProcesses } from '../../helpers/proc.js';
import { waitUntil } from '../../helpers/wait.js';
import { FN_HEADERS } from '../../src/common/wire.js';
import { runnerNodeForFile, uniqueApp } from './support/runner-node.js';

const CAPACITY_MB = 200;
const ROUTE_MB = 128;

const rn = runnerNodeForFile({ FN_MEMORY_MB: String(CAPACITY_MB) });

describe(`memory admission (FN_MEMORY_MB=${CAPACITY_MB}, routes of ${ROUTE_MB} MB)`, () => {
  it('evicts the idle container of another route, then refuses with 503 when nothing is idle', async () => {
    const app = uniqueApp('mem');
    await rn.api.createRoute(app, {
      path: '/echo',
      image: 'localhost/fnlb-guard/echo',
      format: 'http',
      memory: ROUTE_MB,
    });
    await rn.api.createRoute(app, {
      path: '/sleep',
      image: 'localhost/fnlb-guard/sleep',
      format: 'http',
      memory: ROUTE_MB,
    });

    const echo = await rn.api.call(app, '/echo', '', 'hi');
    expect(echo.status, echo.body).toBe(200);
    const echoContainer = echo.headers[FN_HEADERS.container] ?? '';
    const echoPid = functionProcesses(rn.node.pid).get(echoContainer);
    expect(echoPid).toBeDefined();

    const sleep = await rn.api.call(app, '/sleep', '?ms=0');
    expect(sleep.status, sleep.body).toBe(200);
    await waitUntil('the evicted echo container gone', () => !exists(echoPid as number), 10_000);
    const afterEviction = await rn.stats();
    expect(afterEviction.containers).toMatchObject({ evicted: 1, idle: 1 });
    expect(
      functionProcesses(rn.node.pid).has(sleep.headers[FN_HEADERS.container] ?? ''),
      'the container of the call that got room still runs',
    ).toBe(true);

    // Hold the sleep container busy; the echo call (timeout 2 s) finds no room and nothing idle to
    // evict, so it waits 1 s and is refused while the sleep still runs.
    const busy = rn.api.call(app, '/sleep', '?ms=3000');
    await waitUntil('one call running', async () => (await rn.stats()).calls.running === 1, 10_000);
    await rn.api.upsertRoute(app, { path: '/echo', timeout: 2 });
    const refused = await rn.api.call(app, '/echo', '', 'hi');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({ error: { message: 'Timed out - server too busy' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await busy).status).toBe(200);
    const after = await rn.stats();
    expect(after.containers.evicted).toBe(1);
    expect(after.calls.failed).toBeGreaterThanOrEqual(1);
  });
});
