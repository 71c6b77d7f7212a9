// fn-node processes sharing one Postgres: writes through one node are visible through the others
// (API at once, invocation within a second), several nodes migrate one fresh database at once, and a
// database outage turns writes into 503 JSON errors while the node keeps serving.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../helpers/databases.js';
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { startPostgres } from '../../helpers/postgres.js';
import { ScratchDir, ScratchNode } from '../../helpers/scratch-node.js';
import { FnClient } from '../../src/common/fn-client.js';

describe('nodes on one Postgres', () => {
  let database: ScratchDatabase;
  let scratch: ScratchDir;
  let nodes: FnNodeProcess[] = [];

  beforeAll(async () => {
    database = await createScratchDatabase(inject('pgUrl'), 'cluster');
    scratch = ScratchDir.create('cluster');
    // Three nodes start at once against a fresh database: migrations must not race.
    nodes = await scratch.startNodes(3, { dbUrl: database.url });
  });

  afterAll(async () => {
    await scratch?.close();
    await database?.drop();
  });

  it('shows a route written through one node on every other node', async () => {
    const [first, second, third] = nodes.map((node) => new FnClient(node.url, { timeoutMs: 10_000 })) as [
      FnClient,
      FnClient,
      FnClient,
    ];
    await first.createRoute('shared', { path: '/echo', image: 'localhost/fnlb-guard/echo', format: 'http' });
    expect((await second.getRoute('shared', '/echo')).image).toBe('localhost/fnlb-guard/echo');
    expect((await third.send('GET', '/v1/apps/shared')).status).toBe(200);
  });

  it('serves a route created through another node, and its changes, within one second', async () => {
    const [writer, caller] = nodes.map((node) => new FnClient(node.url, { timeoutMs: 10_000 })) as [
      FnClient,
      FnClient,
    ];
    // The caller looks the route up first, so a stale negative cache entry would show.
    expect((await caller.call('visible', '/now')).status).toBe(404);
    await writer.createRoute('visible', { path: '/now', image: 'localhost/fnlb-guard/echo', format: 'http' });
    const pollFor1s = (message: string) => ({ timeout: 1000, interval: 25, message });
    await expect
      .poll(
        async () => (await caller.call('visible', '/now', '', 'hi')).status,
        pollFor1s('route not served by another node within 1 s of its creation'),
      )
      .toBe(200);

    await writer.send('DELETE', '/v1/apps/visible/routes/now');
    await expect
      .poll(
        async () => (await caller.call('visible', '/now')).status,
        pollFor1s('deleted route still served by another node 1 s later'),
      )
      .toBe(404);
  });
});

describe('database outage', () => {
  it('answers writes with 503 JSON while the database is down and recovers when it is back', async () => {
    await using postgres = await startPostgres();
    await using node = await ScratchNode.start({ label: 'outage', dbUrl: postgres.url });
    const api = new FnClient(node.url, { timeoutMs: 15_000 });
    await api.createApp('before');

    await postgres.stop();
    const write = await api.send('POST', '/v1/apps', { app: { name: 'during' } });
    expect(write.status).toBe(503);
    expect(write.headers['retry-after']).toBeDefined();
    expect(JSON.parse(write.body)).toEqual({
      error: { message: expect.stringMatching(/^Datastore unavailable/) },
    });
    const read = await api.send('GET', '/v1/apps');
    expect(read.status).toBe(503);
    expect((await api.send('GET', '/version')).status).toBe(200);
    expect(node.running, 'the node still runs while its database is down').toBe(true);

    await postgres.start();
    await expect
      .poll(async () => (await api.send('POST', '/v1/apps', { app: { name: 'after' } })).status, {
        timeout: 10_000,
        interval: 100,
        message: 'writes not accepted within 10 s of the database coming back',
      })
      .toBe(200);
    expect((await api.send('GET', '/v1/apps/before')).status).toBe(200);
  });
});
