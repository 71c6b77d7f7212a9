// The invocation path's route cache over the real SQLite datastore, with a fake clock. A second datastore
// on the same file plays "another node": its writes reach the file but not this cache's subscription,
// exactly the SQLite cluster case the TTL exists for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sampleRoute } from '../../helpers/sample-route.js';
import {
  type Datastore,
  DatastoreUnavailableError,
  type RouteChange,
} from '../../src/node/datastore/datastore.js';
import { RouteCache } from '../../src/node/datastore/route-cache.js';
import { SqliteDatastore } from '../../src/node/datastore/sqlite.js';

const SHORT = 500;
const LONG = 10_000;

const route = (path: string, image = 'v1') => sampleRoute('app', path, { image });

/**
 * The real datastore seen through two switches the test needs and SQLite cannot produce: notifications
 * live (as with a connected Postgres listener) and reads failing as if the database were down. It also
 * keeps the cache's listener so the test can send the "changes were missed" signal.
 */
function switchable(store: SqliteDatastore) {
  const state = { live: false, down: false, listeners: [] as ((change: RouteChange) => void)[] };
  const view = new Proxy(store, {
    get(target, prop) {
      if (prop === 'notificationsLive') return state.live;
      if (state.down && (prop === 'getRoute' || prop === 'getApp')) {
        return () => Promise.reject(new DatastoreUnavailableError('database down'));
      }
      if (prop === 'subscribe') {
        return (listener: (change: RouteChange) => void) => {
          state.listeners.push(listener);
          const unsubscribe = target.subscribe(listener);
          return () => {
            state.listeners.splice(state.listeners.indexOf(listener), 1);
            unsubscribe();
          };
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Datastore;
  return { view, state };
}

describe('route cache', () => {
  let dir: string;
  let here: SqliteDatastore;
  let elsewhere: SqliteDatastore;
  let now: number;
  const clock = () => now;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fnguard-cache-'));
    here = SqliteDatastore.open(join(dir, 'fn.db'));
    elsewhere = SqliteDatastore.open(join(dir, 'fn.db'));
    now = 1_000_000;
    await here.insertRoute(route('/r'));
  });

  afterEach(async () => {
    await here.close();
    await elsewhere.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves another node's change only after the short TTL, without querying in between", async () => {
    const reads = vi.spyOn(here, 'getRoute');
    const cache = new RouteCache(here, { now: clock });
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    await elsewhere.updateRoute(route('/r', 'v2'));
    for (let i = 0; i < 100; i++) expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    now += SHORT - 1;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    expect(reads).toHaveBeenCalledTimes(1);
    now += 1;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it("drops entries as soon as this node's datastore writes them", async () => {
    const cache = new RouteCache(here, { now: clock });
    await here.insertRoute(route('/s'));
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    expect((await cache.getRoute('app', '/s'))?.image).toBe('v1');
    expect(await cache.getApp('app')).toEqual({ name: 'app', config: {} });

    await here.updateRoute(route('/r', 'v2'));
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');
    await here.updateApp('app', { A: '1' });
    expect(await cache.getApp('app')).toEqual({ name: 'app', config: { A: '1' } });
    await here.removeRoute('app', '/r');
    expect(await cache.getRoute('app', '/r')).toBeUndefined();
    expect((await cache.getRoute('app', '/s'))?.image).toBe('v1');
    await here.removeApp('app');
    expect(await cache.getRoute('app', '/s')).toBeUndefined();
    expect(await cache.getApp('app')).toBeUndefined();
  });

  it('caches misses for the short TTL, so a flood to an unknown route costs one query', async () => {
    const reads = vi.spyOn(here, 'getRoute');
    const cache = new RouteCache(here, { now: clock });
    for (let i = 0; i < 1000; i++) expect(await cache.getRoute('app', '/unknown')).toBeUndefined();
    expect(reads).toHaveBeenCalledTimes(1);
    await elsewhere.insertRoute(route('/unknown'));
    now += SHORT - 1;
    expect(await cache.getRoute('app', '/unknown')).toBeUndefined();
    now += 1;
    expect((await cache.getRoute('app', '/unknown'))?.image).toBe('v1');
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it("replaces a cached miss at once when this node's datastore creates the route or app", async () => {
    const cache = new RouteCache(here, { now: clock });
    expect(await cache.getRoute('new', '/r')).toBeUndefined();
    expect(await cache.getApp('new')).toBeUndefined();
    await here.insertRoute({ ...route('/r'), app_name: 'new' });
    expect((await cache.getRoute('new', '/r'))?.app_name).toBe('new');
    expect(await cache.getApp('new')).toEqual({ name: 'new', config: {} });
  });

  it('shares one query among concurrent misses of one key', async () => {
    const reads = vi.spyOn(here, 'getRoute');
    const cache = new RouteCache(here, { now: clock });
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getRoute('app', '/r')));
    expect(results.every((r) => r?.image === 'v1')).toBe(true);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('neither caches nor shares what a query read before a concurrent change', async () => {
    const cache = new RouteCache(here, { now: clock });
    const inFlight = cache.getRoute('app', '/r');
    await here.updateRoute(route('/r', 'v2'));
    // A lookup made after the change must not join the query made before it.
    const after = cache.getRoute('app', '/r');
    await inFlight;
    expect((await after)?.image).toBe('v2');
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');
  });

  it('keeps hits for the long TTL only while notifications are live', async () => {
    const { view, state } = switchable(here);
    state.live = true;
    const cache = new RouteCache(view, { now: clock });
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    expect(await cache.getRoute('app', '/missing')).toBeUndefined();
    await elsewhere.updateRoute(route('/r', 'v2'));
    await elsewhere.insertRoute(route('/missing'));

    now += LONG - 1;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    // Misses keep the short TTL even while live.
    expect((await cache.getRoute('app', '/missing'))?.image).toBe('v1');
    now += 1;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');

    // The listener goes down: entries fetched while it was up fall back to the short TTL.
    await elsewhere.updateRoute(route('/r', 'v3'));
    now += SHORT;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');
    state.live = false;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v3');
  });

  it('reads everything again when told that changes may have been missed', async () => {
    const { view, state } = switchable(here);
    state.live = true;
    const cache = new RouteCache(view, { now: clock });
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    expect(await cache.getApp('app')).toEqual({ name: 'app', config: {} });
    await elsewhere.updateRoute(route('/r', 'v2'));
    await elsewhere.updateApp('app', { A: '1' });
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    for (const listener of state.listeners) listener({});
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');
    expect(await cache.getApp('app')).toEqual({ name: 'app', config: { A: '1' } });
  });

  it('keeps serving what it had when told of missed changes while the database still refuses reads', async () => {
    // The Postgres listener reconnects before the query pool's circuit lets reads through again.
    const { view, state } = switchable(here);
    state.live = true;
    const cache = new RouteCache(view, { now: clock });
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    state.down = true;
    for (const listener of state.listeners) listener({});
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    await elsewhere.updateRoute(route('/r', 'v2'));
    state.down = false;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v2');
  });

  it('serves the last known route while the database is down, but never an invalidated one or a miss', async () => {
    const { view, state } = switchable(here);
    const cache = new RouteCache(view, { now: clock });
    await here.insertRoute(route('/s'));
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    expect((await cache.getRoute('app', '/s'))?.image).toBe('v1');
    state.down = true;
    now += SHORT * 10;
    expect((await cache.getRoute('app', '/r'))?.image).toBe('v1');
    await expect(cache.getRoute('app', '/never-seen')).rejects.toBeInstanceOf(DatastoreUnavailableError);
    await here.updateRoute(route('/s', 'v2'));
    await expect(cache.getRoute('app', '/s')).rejects.toBeInstanceOf(DatastoreUnavailableError);
    state.down = false;
    expect((await cache.getRoute('app', '/s'))?.image).toBe('v2');
  });

  it('bounds the number of cached keys, dropping the oldest first', async () => {
    const reads = vi.spyOn(here, 'getRoute');
    const cache = new RouteCache(here, { now: clock, maxEntries: 3 });
    for (const path of ['/a', '/b', '/c', '/d']) await cache.getRoute('app', path);
    expect(reads).toHaveBeenCalledTimes(4);
    await cache.getRoute('app', '/d');
    await cache.getRoute('app', '/b');
    expect(reads).toHaveBeenCalledTimes(4);
    await cache.getRoute('app', '/a');
    expect(reads).toHaveBeenCalledTimes(5);
  });

  it('bounds what the cached keys weigh: 2000 misses on long random paths stay under the bound', async () => {
    const maxBytes = 1024 * 1024;
    const cache = new RouteCache(here, { now: clock, maxBytes });
    for (let index = 0; index < 2000; index++) await cache.getRoute('app', `/${index}-${'x'.repeat(8000)}`);
    // Each of the cache's four tables (apps, routes, v2 triggers, v2 fns) may fill a quarter of it.
    expect(cache.bytes).toBeLessThanOrEqual(maxBytes / 4);
    expect(cache.bytes).toBeGreaterThan(maxBytes / 8);
  });

  it('unsubscribes when closed', async () => {
    const { view, state } = switchable(here);
    const cache = new RouteCache(view, { now: clock });
    expect(state.listeners).toHaveLength(1);
    cache.close();
    expect(state.listeners).toHaveLength(0);
  });
  it('caches v2 trigger and fn lookups, misses with their reason, and drops them on a write to any app', async () => {
    const stamp = '2026-12-07T00:00:00.000Z';
    const app = { id: 'A'.repeat(26), name: 'v2app', config: {}, created_at: stamp, updated_at: stamp };
    await here.insertAppV2(app);
    const fn = {
      id: 'F'.repeat(26),
      name: 'hello',
      app_id: app.id,
      image: 'localhost/fnlb-guard/sleep',
      memory: 128,
      timeout: 30,
      idle_timeout: 30,
      config: {},
      created_at: stamp,
      updated_at: stamp,
    };
    await here.insertFn(fn);
    const reads = vi.spyOn(here, 'getTriggerBySource');
    const cache = new RouteCache(here, { now: clock });
    expect(await cache.triggerTarget('v2app', '/hello')).toEqual({ missing: 'Trigger not found' });
    expect(await cache.triggerTarget('nope', '/hello')).toEqual({ missing: 'App not found' });
    expect(await cache.fnTarget(fn.id)).toMatchObject({ fn: { image: 'localhost/fnlb-guard/sleep' } });
    await here.insertTrigger({
      id: 'T'.repeat(26),
      name: 'hello',
      app_id: app.id,
      fn_id: fn.id,
      type: 'http',
      source: '/hello',
      created_at: stamp,
      updated_at: stamp,
    });
    // This node's own write reaches the cache at once, misses included.
    expect(await cache.triggerTarget('v2app', '/hello')).toMatchObject({ fn: { id: fn.id } });
    for (let i = 0; i < 10; i++) await cache.triggerTarget('v2app', '/hello');
    expect(reads).toHaveBeenCalledTimes(2);
    await here.updateFn({ ...fn, image: 'localhost/fnlb-guard/echo' });
    expect(await cache.fnTarget(fn.id)).toMatchObject({ fn: { image: 'localhost/fnlb-guard/echo' } });
    expect(await cache.triggerTarget('v2app', '/hello')).toMatchObject({
      fn: { image: 'localhost/fnlb-guard/echo' },
    });
    cache.close();
  });
});
