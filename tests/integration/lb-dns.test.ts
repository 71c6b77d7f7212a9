// fnlb's -nodes-dns against a real resolver (dnsmasq, tests/integration/support/dns-server.ts) and real fn-node
// processes: names whose records appear get traffic once a health check passes, a record that goes
// is drained (its calls in flight finish) and removed, a resolver that stops answering leaves the last
// known set in place, and /1/lb/nodes says where each node came from. Every name resolves to
// 127.0.0.1, each with its own port: one machine, several nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FnlbProcess } from '../../helpers/fnlb-process.js';
import { ScratchDir } from '../../helpers/scratch-node.js';
import { waitForState } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';
import type { LbNodesResponse } from '../../src/common/lb-wire.js';
import { DnsServer, dnsmasqMissing } from './support/dns-server.js';

const missing = dnsmasqMissing();
if (missing) console.warn(`[lb-dns] skipped: ${missing}`);

const DOMAIN = 'fng.test';
const INTERVAL_S = 0.3;
/** A change must show within two reads of the names, plus a health check. */
const CHANGE_WITHIN_MS = 2 * INTERVAL_S * 1000 + 1500;

describe.skipIf(missing !== undefined)('fnlb -nodes-dns', () => {
  let dns: DnsServer;
  const nodes: FnNodeProcess[] = [];
  let lb: FnlbProcess;
  let client: FnClient;
  let scratch: ScratchDir;

  const view = async (): Promise<LbNodesResponse> => JSON.parse((await lb.manage('GET', '/1/lb/nodes')).body);
  /** Ms until the node view is `wanted`; a timeout says what the view was last. */
  const waitView = async (what: string, wanted: (nodes: LbNodesResponse) => boolean, ms = CHANGE_WITHIN_MS) =>
    (await waitForState(what, view, wanted, ms, 50)).ms;

  beforeAll(async () => {
    dns = await DnsServer.start(DOMAIN);
    // One database for the four nodes, so a route created once is served by whichever node gets it.
    scratch = ScratchDir.create('lb-dns');
    nodes.push(...(await scratch.startNodes(4)));
    const [a, b, c, fixed] = nodes as [FnNodeProcess, FnNodeProcess, FnNodeProcess, FnNodeProcess];
    dns.setRecords({ a: ['127.0.0.1'], b: ['127.0.0.1'] });
    lb = await FnlbProcess.start({
      nodes: [fixed.address],
      token: 'dns-test-token',
      flags: [
        '-hc-interval',
        '0.2',
        '-nodes-dns',
        `a.${DOMAIN}:${a.port},b.${DOMAIN}:${b.port}`,
        '-nodes-dns',
        `c.${DOMAIN}:${c.port}`,
        '-dns-interval',
        String(INTERVAL_S),
        '-dns-server',
        dns.address,
      ],
    });
    client = new FnClient(lb.url, { timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await lb?.stop();
    await scratch?.close();
    await dns?.close();
  });

  it('serves the nodes the names stand for, saying where each came from', async () => {
    const [a, b, c, fixed] = nodes as [FnNodeProcess, FnNodeProcess, FnNodeProcess, FnNodeProcess];
    await waitView(
      'a and b online',
      (v) => v.nodes[a.address] === 'online' && v.nodes[b.address] === 'online',
    );
    const seen = await view();
    expect(seen.nodes[c.address], 'c has no record yet').toBeUndefined();
    expect(seen.sources).toMatchObject({ [a.address]: 'dns', [b.address]: 'dns', [fixed.address]: 'static' });
    expect((await client.send('GET', '/version')).status).toBe(200);
  });

  it('adds a name whose record appears, after its first passing health check', async () => {
    const c = nodes[2] as FnNodeProcess;
    dns.setRecords({ a: ['127.0.0.1'], b: ['127.0.0.1'], c: ['127.0.0.1'] });
    const ms = await waitView('c online', (v) => v.nodes[c.address] === 'online');
    console.log(`[lb-dns] c online ${ms} ms after its record appeared`);
  });

  it('keeps the last known nodes while the resolver does not answer', async () => {
    const [a, b, c] = nodes as [FnNodeProcess, FnNodeProcess, FnNodeProcess];
    await dns.stop();
    // Several reads fail (each waits for its timeouts) and nothing may change.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const seen = await view();
    for (const node of [a, b, c]) expect(seen.nodes[node.address], node.address).toBe('online');
    await dns.start();
  }, 30_000);

  it('drains and removes a node whose record goes: its calls in flight finish there', async () => {
    const [a, b, c] = nodes as [FnNodeProcess, FnNodeProcess, FnNodeProcess];
    await client.createApp('dnsapp');
    const paths = Array.from({ length: 40 }, (_, index) => `/slow${index}`);
    for (const path of paths)
      await client.createRoute('dnsapp', { path, image: 'localhost/fnlb-guard/sleep', format: 'http' });
    // One call at a time lands on each route's home node: keep the routes whose home is a.
    const onA: string[] = [];
    for (const path of paths) {
      const answer = await client.send('GET', `/r/dnsapp${path}?ms=1`);
      expect(answer.status, answer.body).toBe(200);
      if (answer.headers['fn-node'] === a.nodeId) onA.push(path);
    }
    expect(onA.length, 'routes whose home is a').toBeGreaterThan(0);
    const inFlight = onA.slice(0, 3).map((path) => client.send('GET', `/r/dnsapp${path}?ms=1500`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    dns.setRecords({ b: ['127.0.0.1'], c: ['127.0.0.1'] });
    await waitView('a removed', (v) => v.nodes[a.address] === undefined);
    for (const answer of await Promise.all(inFlight)) {
      expect(answer.status, answer.body).toBe(200);
      expect(answer.headers['fn-node'], 'the drained call ran on a').toBe(a.nodeId);
    }
    const after = await client.send('GET', `/r/dnsapp${onA[0]}?ms=1`);
    expect(after.status).toBe(200);
    expect(after.headers['fn-node']).not.toBe(a.nodeId);
    const seen = await view();
    expect(seen.nodes[b.address]).toBe('online');
    expect(seen.nodes[c.address]).toBe('online');
  }, 30_000);
});
