// How fnlb keys v2 calls (src/lb/fn-keys.ts): a trigger call `/t/<app><source>` by its fn's
// `/invoke/<fn id>`, looked up through the two Fn API endpoints, here answered by a small real HTTP
// server standing in for the API only (src/lb is the component under test, over real sockets and
// real undici pools). Edge cases a real node cannot be made to produce on demand: a hanging or
// failing API, bad answers, a v1 cluster, lookups shared by concurrent calls, the cache's TTLs and
// bound. A real fnlb in front of real fn-nodes: tests/integration/lb-v2-keys.test.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../helpers/wait.js';
import { Balancer } from '../../src/lb/balancer.js';
import {
  FnKeys,
  type FnKeysOptions,
  invokeKey,
  type ResolveResult,
  triggerOf,
} from '../../src/lb/fn-keys.js';
import {
  call,
  type LbUnderTest,
  type StandInNode,
  standInCluster,
  startLb,
  startStandIn,
  waitOnline,
} from './support/lb-fixtures.js';

const FN_A = '01JABCDEFGHJKMNPQRSTVWXYZ0';
const FN_B = '01JBBCDEFGHJKMNPQRSTVWXYZ0';
const APP_ID = '01JAPPDEFGHJKMNPQRSTVWXYZ0';

/** What the stand-in API knows and how it behaves. */
interface ApiState {
  apps: Map<string, string>;
  /** `<app id> <source>` to fn id. */
  triggers: Map<string, string>;
  /** ok; v1 (404 for /v2/apps, as a node without the v2 API); hang; fail (500); garbage (not JSON). */
  mode: 'ok' | 'v1' | 'hang' | 'fail' | 'garbage';
  /** Delay before each answer, so concurrent lookups overlap. */
  delayMs: number;
}

function apiState(): ApiState {
  return {
    apps: new Map([['app', APP_ID]]),
    triggers: new Map([
      [`${APP_ID} /hello`, FN_A],
      [`${APP_ID} /`, FN_B],
      [`${APP_ID} /a b/c`, FN_B],
    ]),
    mode: 'ok',
    delayMs: 0,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The two endpoints of the Fn API that trigger lookups use, as fn-node and Fn answer them. */
function answerApi(state: ApiState) {
  return (req: IncomingMessage, _body: Buffer, res: ServerResponse) => {
    const answer = () => {
      if (state.mode === 'hang') return;
      if (state.mode === 'fail') return json(res, 500, { message: 'internal error' });
      if (state.mode === 'garbage') return res.writeHead(200).end('<html>');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v2/apps') {
        if (state.mode === 'v1') return json(res, 404, { error: { message: 'Path not found' } });
        const name = url.searchParams.get('name') ?? '';
        const id = state.apps.get(name);
        return json(res, 200, { items: id === undefined ? [] : [{ id, name, config: {} }] });
      }
      const match = /^\/v2\/runner\/apps\/([^/]+)\/triggerBySource\/http\/(.*)$/.exec(url.pathname);
      if (match === null || state.mode === 'v1') return json(res, 404, { message: 'Path not found' });
      const source = `/${decodeURIComponent(match[2] as string)}`;
      const fnId = state.triggers.get(`${decodeURIComponent(match[1] as string)} ${source}`);
      if (fnId === undefined) return json(res, 404, { message: 'Trigger not found' });
      return json(res, 200, { id: 'T1', app_id: match[1], fn_id: fnId, type: 'http', source });
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  };
}

const silent = pino({ level: 'silent' });
let closing: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closing.reverse()) await close();
  closing = [];
});

function onlineBalancer(addresses: string[]): Balancer {
  const balancer = new Balancer({
    c: 1.25,
    floor: 8,
    vnodes: 200,
    maxNodes: 100,
    timeouts: { connectMs: 1000, headersMs: 5000, bodyMs: 5000 },
  });
  for (const address of addresses) {
    const added = balancer.add(address);
    if (added.kind === 'added') balancer.setState(added.backend, 'online');
  }
  closing.push(() => balancer.close());
  return balancer;
}

interface Setup {
  keys: FnKeys;
  api: StandInNode;
  state: ApiState;
  results: ResolveResult[];
  /** The API requests seen, path and query. */
  asked(): string[];
}

/** FnKeys asking a stand-in API as -api-url (or as the one node, `viaNodes`). */
async function setup(options: Partial<FnKeysOptions> & { viaNodes?: boolean } = {}): Promise<Setup> {
  const state = apiState();
  const api = await startStandIn(answerApi(state));
  const results: ResolveResult[] = [];
  const balancer = onlineBalancer(options.viaNodes ? [api.address] : []);
  const keys = new FnKeys(
    balancer,
    {
      enabled: true,
      ...(options.viaNodes ? {} : { apiUrl: `http://${api.address}` }),
      onResolved: (result) => results.push(result),
      ...options,
    },
    silent,
  );
  closing.push(() => keys.close());
  return { keys, api, state, results, asked: () => api.seen.map((seen) => seen.url) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fnlb v2 keys: mapping', () => {
  it('reads /t/<app><source> paths and keys direct calls by their canonical /invoke path', () => {
    expect(triggerOf('/t/app/hello')).toEqual({ app: 'app', source: '/hello' });
    expect(triggerOf('/t/app')).toEqual({ app: 'app', source: '/' });
    expect(triggerOf('/t/app/a/b%20c')).toEqual({ app: 'app', source: '/a/b%20c' });
    for (const other of ['/t', '/r/app/hello', '/invoke/x', '/tt/app', `/t/app/${'x'.repeat(3000)}`])
      expect(triggerOf(other)).toBeUndefined();
    expect(invokeKey(FN_A)).toBe(`/invoke/${FN_A}`);
    expect(invokeKey('a b')).toBe('/invoke/a%20b');
    for (const bad of ['', '..', 'a/b', 42, null, undefined, 'x'.repeat(300)])
      expect(invokeKey(bad)).toBeUndefined();
  });

  it('keys every path but a trigger call by itself, synchronously and without asking', async () => {
    const { keys, asked } = await setup();
    for (const path of ['/r/app/hello', `/invoke/${FN_A}`, '/t', '/version', '/v2/apps'])
      expect(keys.keyFor(path)).toBe(path);
    expect(asked()).toEqual([]);
  });

  it("keys a trigger call by its fn's /invoke path, asking the two endpoints once", async () => {
    const { keys, asked, results } = await setup();
    expect(await keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    expect(asked()).toEqual(['/v2/apps?name=app', `/v2/runner/apps/${APP_ID}/triggerBySource/http/hello`]);
    // Cached: answered at once, without asking again.
    expect(keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    // Another source of the same app: the app's id is cached too.
    expect(await keys.keyFor('/t/app')).toBe(`/invoke/${FN_B}`);
    expect(await keys.keyFor('/t/app/a%20b/c')).toBe(`/invoke/${FN_B}`);
    expect(asked().slice(2)).toEqual([
      `/v2/runner/apps/${APP_ID}/triggerBySource/http/`,
      `/v2/runner/apps/${APP_ID}/triggerBySource/http/a%20b/c`,
    ]);
    expect(results).toEqual(['fn', 'fn', 'fn']);
  });

  it("asks the first online node of the trigger path's walk, and the next when it cannot be reached", async () => {
    const state = apiState();
    const api = await startStandIn(answerApi(state));
    const dead = await startStandIn();
    await dead.close();
    const balancer = onlineBalancer([api.address, dead.address]);
    const keys = new FnKeys(balancer, { enabled: true }, silent);
    closing.push(() => keys.close());
    // Trigger paths homed on each node: the app segment and the source are all the walk depends on.
    const homedOn = (address: string) => {
      for (let i = 0; i < 1000; i++) {
        const path = `/t/app/s${i}`;
        if (balancer.walk(path)[0]?.address === address) return { path, source: `/s${i}` };
      }
      throw new Error(`no path homed on ${address}`);
    };
    const live = homedOn(api.address);
    const gone = homedOn(dead.address);
    state.triggers.set(`${APP_ID} ${live.source}`, FN_A);
    state.triggers.set(`${APP_ID} ${gone.source}`, FN_B);
    expect(await keys.keyFor(live.path)).toBe(`/invoke/${FN_A}`);
    expect(await keys.keyFor(gone.path)).toBe(`/invoke/${FN_B}`);
    // No node online: nothing to ask, the call goes by its path.
    for (const backend of balancer.backends()) balancer.setState(backend, 'offline');
    expect(await keys.keyFor('/t/app/other')).toBe('/t/app/other');
  });

  it('is off with enabled: false (-v2-resolve=false)', async () => {
    const { keys, asked } = await setup({ enabled: false });
    expect(keys.keyFor('/t/app/hello')).toBe('/t/app/hello');
    expect(asked()).toEqual([]);
  });
});

describe('fnlb v2 keys: failures key the call by its path', () => {
  it('an unknown trigger or app: the path, remembered for the negative TTL only', async () => {
    const { keys, asked, results, state } = await setup({ negativeTtlMs: 500 });
    expect(await keys.keyFor('/t/app/nope')).toBe('/t/app/nope');
    expect(await keys.keyFor('/t/ghost/hello')).toBe('/t/ghost/hello');
    // The unknown app is not asked for a trigger.
    expect(asked()).toEqual([
      '/v2/apps?name=app',
      `/v2/runner/apps/${APP_ID}/triggerBySource/http/nope`,
      '/v2/apps?name=ghost',
    ]);
    expect(results).toEqual(['none', 'none']);
    expect(keys.keyFor('/t/app/nope')).toBe('/t/app/nope');
    expect(keys.keyFor('/t/ghost/hello')).toBe('/t/ghost/hello');
    expect(asked()).toHaveLength(3);
    // Created since: found once the negative answer expired.
    state.triggers.set(`${APP_ID} /nope`, FN_A);
    state.apps.set('ghost', APP_ID);
    await sleep(600);
    expect(await keys.keyFor('/t/app/nope')).toBe(`/invoke/${FN_A}`);
    expect(await keys.keyFor('/t/ghost/hello')).toBe(`/invoke/${FN_A}`);
  });

  it('a cluster without the v2 API (404 for /v2/apps) is not asked again for any trigger for a while', async () => {
    const { keys, asked, results, state } = await setup({ noApiTtlMs: 300 });
    state.mode = 'v1';
    expect(await keys.keyFor('/t/app/hello')).toBe('/t/app/hello');
    for (let i = 0; i < 50; i++) expect(keys.keyFor(`/t/app/other-${i}`)).toBe(`/t/app/other-${i}`);
    expect(asked()).toEqual(['/v2/apps?name=app']);
    expect(results).toEqual(['no_api']);
    // Upgraded in place: resolved again once the "no API" answer expired.
    state.mode = 'ok';
    await sleep(350);
    expect(await keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
  });

  it('an API that does not answer: the call goes by its path at the deadline, and others do not wait', async () => {
    const { keys, state, results } = await setup({ deadlineMs: 300, negativeTtlMs: 1000 });
    state.mode = 'hang';
    const started = performance.now();
    const keyed = await Promise.all([keys.keyFor('/t/app/hello'), keys.keyFor('/t/app/hello')]);
    const took = performance.now() - started;
    expect(keyed).toEqual(['/t/app/hello', '/t/app/hello']);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1000);
    expect(results).toEqual(['failed']);
    // Within the negative TTL, other triggers go by their path at once instead of waiting too.
    expect(keys.keyFor('/t/app/other')).toBe('/t/app/other');
  });

  it.each([
    ['fail', '500'],
    ['garbage', 'not JSON'],
  ] as const)('an API answering %s (%s): the path', async (mode, _what) => {
    const { keys, state, results } = await setup();
    state.mode = mode;
    expect(await keys.keyFor('/t/app/hello')).toBe('/t/app/hello');
    expect(results).toEqual(['failed']);
  });

  it('a trigger answer without a usable fn_id: the path', async () => {
    const state = apiState();
    const api = await startStandIn((req, body, res) => {
      if (req.url?.startsWith('/v2/runner/')) return json(res, 200, { id: 'T1', fn_id: 'a/b' });
      answerApi(state)(req, body, res);
    });
    const keys = new FnKeys(onlineBalancer([]), { enabled: true, apiUrl: `http://${api.address}` }, silent);
    closing.push(() => keys.close());
    expect(await keys.keyFor('/t/app/hello')).toBe('/t/app/hello');
  });

  it('an answer too large to be an app list or a trigger: the path', async () => {
    const api = await startStandIn((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"items":[${'{"id":"x","name":"y"},'.repeat(10_000)}{}]}`);
    });
    const keys = new FnKeys(onlineBalancer([]), { enabled: true, apiUrl: `http://${api.address}` }, silent);
    closing.push(() => keys.close());
    expect(await keys.keyFor('/t/app/hello')).toBe('/t/app/hello');
  });

  it('close() ends lookups in flight: their calls go by their path', async () => {
    const { keys, state } = await setup();
    state.mode = 'hang';
    const keyed = keys.keyFor('/t/app/hello');
    await sleep(50);
    await keys.close();
    expect(await keyed).toBe('/t/app/hello');
  });
});

describe('fnlb v2 keys: sharing and the cache', () => {
  it('concurrent calls of one trigger share one lookup; of one app, one app lookup', async () => {
    const { keys, state, asked, results } = await setup();
    state.delayMs = 100;
    const keyed = await Promise.all([
      ...Array.from({ length: 50 }, () => keys.keyFor('/t/app/hello')),
      ...Array.from({ length: 50 }, () => keys.keyFor('/t/app')),
    ]);
    expect(new Set(keyed)).toEqual(new Set([`/invoke/${FN_A}`, `/invoke/${FN_B}`]));
    expect(asked().filter((url) => url.startsWith('/v2/apps'))).toEqual(['/v2/apps?name=app']);
    expect(
      asked()
        .filter((url) => url.startsWith('/v2/runner/'))
        .sort(),
    ).toEqual([
      `/v2/runner/apps/${APP_ID}/triggerBySource/http/`,
      `/v2/runner/apps/${APP_ID}/triggerBySource/http/hello`,
    ]);
    expect(results).toEqual(['fn', 'fn']);
  });

  it('past the positive TTL, uses the fn it knows while asking again, then the new answer', async () => {
    const { keys, state, asked } = await setup({ positiveTtlMs: 300 });
    expect(await keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    state.triggers.set(`${APP_ID} /hello`, FN_B);
    state.delayMs = 100;
    await sleep(350);
    // Expired: answered at once with what it knew, and asked again in the background.
    expect(keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    await waitUntil('the refreshed answer', () => keys.keyFor('/t/app/hello') === `/invoke/${FN_B}`, 2000);
    expect(asked().filter((url) => url.includes('triggerBySource'))).toHaveLength(2);
  });

  it('keeps the fn it knew when asking again fails, and asks no more than once per negative TTL', async () => {
    const { keys, state, asked } = await setup({ positiveTtlMs: 50, negativeTtlMs: 2000 });
    expect(await keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    state.mode = 'fail';
    await sleep(100);
    const before = asked().length;
    expect(keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    await waitUntil('the failed refresh', () => asked().length > before, 2000);
    await sleep(50);
    for (let i = 0; i < 20; i++) expect(keys.keyFor('/t/app/hello')).toBe(`/invoke/${FN_A}`);
    expect(asked().length).toBe(before + 1);
  });

  it('bounds the cache in bytes, dropping the least recently used first', async () => {
    const { keys, state, asked } = await setup({ maxCacheBytes: 4000 });
    for (let i = 0; i < 40; i++) state.triggers.set(`${APP_ID} /t${i}`, FN_A);
    for (let i = 0; i < 40; i++) expect(await keys.keyFor(`/t/app/t${i}`)).toBe(`/invoke/${FN_A}`);
    const { entries, bytes } = keys.cacheSize;
    expect(bytes).toBeLessThanOrEqual(4000);
    expect(entries).toBeGreaterThan(5);
    expect(entries).toBeLessThan(40);
    // The last one is still known; the first was dropped and is asked for again.
    const before = asked().length;
    expect(keys.keyFor('/t/app/t39')).toBe(`/invoke/${FN_A}`);
    expect(asked().length).toBe(before);
    expect(await keys.keyFor('/t/app/t0')).toBe(`/invoke/${FN_A}`);
    expect(asked().length).toBeGreaterThan(before);
  });

  it('looks up at most maxResolving triggers at once; past that, calls go by their path', async () => {
    const { keys, state } = await setup({ maxResolving: 2, deadlineMs: 300 });
    state.mode = 'hang';
    const first = keys.keyFor('/t/app/one');
    const second = keys.keyFor('/t/app/two');
    expect(typeof first).not.toBe('string');
    expect(typeof second).not.toBe('string');
    expect(keys.keyFor('/t/app/three')).toBe('/t/app/three');
    expect(await first).toBe('/t/app/one');
    expect(await second).toBe('/t/app/two');
  });
});

describe('fnlb v2 keys: through a real in-process fnlb', () => {
  /** Stand-in nodes answering the API as a shared datastore would, and calls with their own address. */
  async function cluster(flags: string[] = []) {
    const state = apiState();
    const nodes: StandInNode[] = [];
    for (let i = 0; i < 3; i++) {
      const node: StandInNode = await startStandIn((req, body, res) => {
        if (req.url?.startsWith('/v2/')) return answerApi(state)(req, body, res);
        res.writeHead(200, { 'content-type': 'application/json', 'fn-node': node.address }).end('{}');
      });
      nodes.push(node);
    }
    const addresses = nodes.map((node) => node.address);
    const lb = await startLb(addresses, flags);
    await waitOnline(lb.lb, addresses);
    return { lb, nodes, state };
  }

  /** Fns whose /t path and /invoke path hash to different nodes, so sharing a key is visible. */
  function splitFns(lb: LbUnderTest, state: ApiState, count: number) {
    const fns: Array<{ source: string; fnId: string }> = [];
    for (let i = 0; fns.length < count && i < 1000; i++) {
      const fnId = `01JFN${String(i).padStart(21, '0')}`;
      const source = `/f${i}`;
      if (lb.lb.balancer.walk(`/t/app${source}`)[0] === lb.lb.balancer.walk(`/invoke/${fnId}`)[0]) continue;
      state.triggers.set(`${APP_ID} ${source}`, fnId);
      fns.push({ source, fnId });
    }
    return fns;
  }

  it('sends /t/<app><source> and /invoke/<fn id> of one fn to one node, and counts them as one key', async () => {
    const { lb, state } = await cluster();
    const [fn] = splitFns(lb, state, 1) as [{ source: string; fnId: string }];
    const served = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const viaTrigger = await call(`${lb.url}/t/app${fn.source}?n=${i}`, { method: 'PUT', body: 'x' });
      const direct = await call(`${lb.url}/invoke/${fn.fnId}`, { method: 'POST', body: 'y' });
      for (const answer of [viaTrigger, direct]) {
        expect(answer.status).toBe(200);
        served.add(String(answer.headers['fn-lb-node']));
      }
    }
    expect([...served]).toEqual([lb.lb.balancer.walk(`/invoke/${fn.fnId}`)[0]?.address]);
    const { routes } = lb.lb.stats.routes();
    expect(routes[`/invoke/${fn.fnId}`]?.requests).toBe(20);
    expect(routes[`/t/app${fn.source}`]).toBeUndefined();
  });

  it('with -v2-resolve=false, keys a trigger call by its path (on another node than its fn here)', async () => {
    const { lb, state, nodes } = await cluster(['-v2-resolve=false']);
    const [fn] = splitFns(lb, state, 1) as [{ source: string; fnId: string }];
    const viaTrigger = await call(`${lb.url}/t/app${fn.source}`);
    const direct = await call(`${lb.url}/invoke/${fn.fnId}`, { method: 'POST' });
    expect(viaTrigger.headers['fn-lb-node']).not.toBe(direct.headers['fn-lb-node']);
    expect(nodes.flatMap((node) => node.seen).filter((seen) => seen.url.startsWith('/v2/'))).toEqual([]);
  });

  it('forwards a trigger call whose lookup hangs after the 2 s deadline, by its path', async () => {
    const { nodes, lb } = await standInCluster(2);
    for (const node of nodes) {
      node.handle = (req, _body, res) => {
        if (req.url?.startsWith('/v2/')) return; // never answered
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Trigger not found"}');
      };
    }
    const started = performance.now();
    const answer = await call(`${lb.url}/t/app/hello`, { method: 'POST', body: 'payload' });
    const took = performance.now() - started;
    expect(answer.status).toBe(404);
    expect(took).toBeGreaterThan(1900);
    expect(took).toBeLessThan(3500);
    const forwarded = nodes.flatMap((node) => node.seen).filter((seen) => seen.url === '/t/app/hello');
    expect(forwarded.map((seen) => seen.body.toString())).toEqual(['payload']);
    expect(answer.headers['fn-lb-node']).toBe(lb.lb.balancer.walk('/t/app/hello')[0]?.address);
    // The metric counts the lookup, not the call.
    const metrics = await lb.lb.stats.registry.getSingleMetricAsString('fnlb_v2_lookups_total');
    expect(metrics).toContain('fnlb_v2_lookups_total{result="failed"} 1');
  });
});
