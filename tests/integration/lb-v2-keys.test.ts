// fnlb keys Fn v2 calls by their fn: the compiled fnlb (two workers, each looking triggers up itself)
// in front of three real fn-node processes on one Postgres database. A fn called through its HTTP
// trigger (`/t/<app><source>`) and directly (`/invoke/<fn id>`) lands on one node, the node that
// `/invoke/<fn id>` hashes to; with -v2-resolve=false the same two calls land where their own paths
// hash, which the trigger sources below are chosen to make two different nodes (by the ring's own
// function), so the first check cannot pass by luck.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../helpers/databases.js';
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FAST_HEALTH_CHECKS, FnlbProcess } from '../../helpers/fnlb-process.js';
import { ScratchDir } from '../../helpers/scratch-node.js';
import { FnClient } from '../../src/common/fn-client.js';
import { FN_HEADERS } from '../../src/common/wire.js';
import { Ring } from '../../src/lb/ring.js';

const APP = 'keyed';
/** fnlb's default -vnodes: the ring the balancer builds over the three nodes. */
const VNODES = 2000;

interface Served {
  status: number;
  node: string;
  lbNode: string;
  body: string;
}

/** One call on a connection of its own (node:cluster hands each new connection to the next worker). */
async function call(lb: FnlbProcess, method: 'GET' | 'POST', path: string): Promise<Served> {
  const response = await request(`${lb.url}${path}`, {
    method,
    reset: true,
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  });
  return {
    status: response.statusCode,
    node: String(response.headers[FN_HEADERS.node] ?? ''),
    lbNode: String(response.headers[FN_HEADERS.lbNode] ?? ''),
    body: await response.body.text(),
  };
}

interface KeyedFn {
  id: string;
  source: string;
}

describe('fnlb keys v2 calls by their fn', () => {
  let database: ScratchDatabase;
  let scratch: ScratchDir;
  let nodes: FnNodeProcess[] = [];
  let ring: Ring;
  const fns: KeyedFn[] = [];

  beforeAll(async () => {
    database = await createScratchDatabase(inject('pgUrl'), 'lb_v2_keys');
    scratch = ScratchDir.create('lb-v2-keys');
    nodes = await scratch.startNodes(3, { dbUrl: database.url });
    ring = new Ring(
      nodes.map((node) => node.address),
      VNODES,
    );
    const api = new FnClient((nodes[0] as FnNodeProcess).url, { timeoutMs: 10_000 });
    const expectOk = (what: string, result: { status: number; body: string }) => {
      if (result.status !== 200) throw new Error(`${what}: ${result.status} ${result.body}`);
      return JSON.parse(result.body) as { id: string };
    };
    const app = expectOk('POST /v2/apps', await api.send('POST', '/v2/apps', { name: APP }));
    for (let f = 0; f < 3; f++) {
      const fn = expectOk(
        'POST /v2/fns',
        await api.send('POST', '/v2/fns', {
          name: `sleep${f}`,
          app_id: app.id,
          image: 'localhost/fnlb-guard/sleep',
          memory: 64,
        }),
      );
      // A source whose /t path hashes to another node than the fn's /invoke path.
      const home = ring.home(`/invoke/${fn.id}`);
      let source = '';
      for (let i = 0; source === '' && i < 100; i++)
        if (ring.home(`/t/${APP}/sleep${f}-${i}`) !== home) source = `/sleep${f}-${i}`;
      expectOk(
        'POST /v2/triggers',
        await api.send('POST', '/v2/triggers', {
          name: `sleep${f}`,
          app_id: app.id,
          fn_id: fn.id,
          type: 'http',
          source,
        }),
      );
      fns.push({ id: fn.id, source });
    }
  }, 120_000);

  afterAll(async () => {
    await scratch?.close();
    await database?.drop();
  });

  async function balancer(flags: string[] = []): Promise<FnlbProcess> {
    const lb = await FnlbProcess.start({
      nodes: nodes.map((node) => node.address),
      flags: [...FAST_HEALTH_CHECKS, '-workers', '2', ...flags],
    });
    await lb.waitNodes('every node online', (view) =>
      Object.values(view).every((state) => state === 'online'),
    );
    return lb;
  }

  const nodeIdOf = (address: string | undefined) =>
    nodes.find((node) => node.address === address)?.nodeId ?? `(no node at ${address})`;

  it('sends /t/<app><source> and /invoke/<fn id> of one fn to the node /invoke/<fn id> hashes to', async () => {
    const lb = await balancer();
    try {
      for (const fn of fns) {
        const served: Served[] = [];
        for (let i = 0; i < 20; i++) {
          served.push(
            i % 2 === 0
              ? await call(lb, 'GET', `/t/${APP}${fn.source}?ms=1&i=${i}`)
              : await call(lb, 'POST', `/invoke/${fn.id}?ms=1`),
          );
        }
        const home = ring.home(`/invoke/${fn.id}`);
        expect(new Set(served.map((one) => one.node)), `Fn-Node of ${fn.source}`).toEqual(
          new Set([nodeIdOf(home)]),
        );
        expect(new Set(served.map((one) => one.lbNode))).toEqual(new Set([home]));
        const failed = served.filter((one) => one.status !== 200);
        expect(failed, `calls of ${fn.source} / ${fn.id} that failed`).toEqual([]);
      }
      // Counted as one key per fn, over both workers.
      const stats = await lb.stats();
      for (const fn of fns) {
        expect(stats.routes[`/invoke/${fn.id}`]?.requests).toBe(20);
        expect(stats.routes[`/t/${APP}${fn.source}`]).toBeUndefined();
      }
      // An unknown trigger still reaches a node, which answers it.
      const unknown = await call(lb, 'GET', `/t/${APP}/nope`);
      expect(unknown.status, unknown.body).toBe(404);
      expect(JSON.parse(unknown.body)).toEqual({ message: 'Trigger not found' });
      expect(unknown.lbNode).toBe(ring.home(`/t/${APP}/nope`));
    } finally {
      await lb.stop();
    }
  }, 120_000);

  it('with -v2-resolve=false, the two ways of calling a fn land on different nodes', async () => {
    const lb = await balancer(['-v2-resolve=false']);
    try {
      for (const fn of fns) {
        const viaTrigger = await call(lb, 'GET', `/t/${APP}${fn.source}?ms=1`);
        const direct = await call(lb, 'POST', `/invoke/${fn.id}?ms=1`);
        expect(viaTrigger.node).toBe(nodeIdOf(ring.home(`/t/${APP}${fn.source}`)));
        expect(direct.node).toBe(nodeIdOf(ring.home(`/invoke/${fn.id}`)));
        expect(viaTrigger.node).not.toBe(direct.node);
        expect([viaTrigger.status, direct.status]).toEqual([200, 200]);
      }
    } finally {
      await lb.stop();
    }
  }, 120_000);
});
