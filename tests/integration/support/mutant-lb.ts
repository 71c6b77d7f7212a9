#!/usr/bin/env node
// A small balancer built to be broken on purpose, for showing that each property of the guard bites
// on a live balancer (tests/integration/guard-bite.test.ts). Without a flaw it does what a sound
// balancer must: consistent hashing of the canonical path with bounded loads, active health checks
// and passive marking, retries only of calls that never reached a node or that a node refused
// (Fn-Refused), and 400 for targets it cannot forward. Each -flaw breaks exactly one of those:
//   round-robin  every call to the next node in turn (stickiness)
//   raw-path     hashes the path as the client spelled it, not as the nodes read it (path spellings)
//   retry-5xx    sends a call that failed with any 5xx to the next node (no duplicate execution)
//   no-health    never checks nodes and never takes one out (failover)
//   no-spill     always the route's home node, however loaded (spill)
//   blame-node   a request it refuses as malformed takes the node its path hashes to out for 30 s, as
//                a balancer that counts a client's error against a node (malformed)
//   slow         waits 5 ms before forwarding each call, as a change that adds work to every call
//                (overhead)
// -hide-node (not a flaw) strips the nodes' Fn-Node header from every answer, as a balancer that hides
// its nodes does: a 404 then names no node, and placement must be measured on routes made for it.
// It takes the historic fnlb flags (-nodes, -listen, an integer -hc-interval) and -upstream-timeout,
// and has no management API. Not a product: a test double of a foreign balancer.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { parseGoFlags } from '../../../src/common/go-flags.js';
import { parseRequestTarget } from '../../../src/common/request-target.js';
import { FN_HEADERS } from '../../../src/common/wire.js';
import { Ring } from '../../../src/lb/ring.js';

const FLAWS = [
  'none',
  'round-robin',
  'raw-path',
  'retry-5xx',
  'no-health',
  'no-spill',
  'blame-node',
  'slow',
] as const;
type Flaw = (typeof FLAWS)[number];

const SPECS = {
  nodes: { kind: 'string', default: '', usage: 'comma separated host:port of the nodes' },
  listen: { kind: 'string', default: ':8081', usage: 'host:port to serve on' },
  'hc-interval': { kind: 'int', default: 1, min: 1, usage: 'whole seconds between health checks' },
  flaw: { kind: 'string', default: 'none', usage: FLAWS.join(', ') },
  'hide-node': { kind: 'bool', default: false, usage: 'strip Fn-Node from answers' },
  'upstream-timeout': { kind: 'int', default: 190, min: 1, usage: 'whole seconds a node may take to answer' },
} as const;

const FLOOR = 8;
const C = 1.25;
const MAX_BODY = 1024 * 1024;

interface Node {
  address: string;
  pool: Pool;
  online: boolean;
  inFlight: number;
  /** blame-node: out until then (ms since the epoch), whatever its health checks say. */
  blamedUntil: number;
}

const BLAME_MS = 30_000;
const SLOW_MS = 5;

function main(): void {
  const { values } = parseGoFlags(process.argv.slice(2), SPECS);
  const flaw = values.flaw as Flaw;
  if (!FLAWS.includes(flaw)) throw new Error(`-flaw must be one of ${FLAWS.join(', ')}`);
  const nodes: Node[] = values.nodes
    .split(',')
    .filter(Boolean)
    .map((address) => ({
      address,
      pool: new Pool(`http://${address}`, {
        connect: { timeout: 2000 },
        headersTimeout: values['upstream-timeout'] * 1000,
        bodyTimeout: values['upstream-timeout'] * 1000,
      }),
      online: flaw === 'no-health',
      inFlight: 0,
      blamedUntil: 0,
    }));
  const ring = new Ring(
    nodes.map((node) => node.address),
    160,
  );
  const byAddress = new Map(nodes.map((node) => [node.address, node]));
  let turn = 0;

  if (flaw !== 'no-health') {
    const check = () => {
      for (const node of nodes) {
        node.pool
          .request({ method: 'GET', path: '/version', headersTimeout: 1000, bodyTimeout: 1000 })
          .then(async (answer) => {
            await answer.body.dump();
            node.online = answer.statusCode === 200;
          })
          .catch(() => {
            node.online = false;
          });
      }
    };
    check();
    setInterval(check, values['hc-interval'] * 1000).unref();
  }

  const choose = (key: string, tried: ReadonlySet<Node>): Node | undefined => {
    const now = Date.now();
    const candidates = nodes.filter((node) => node.online && node.blamedUntil <= now && !tried.has(node));
    if (candidates.length === 0) return undefined;
    if (flaw === 'round-robin') return candidates[turn++ % candidates.length];
    const total = nodes.reduce((sum, node) => sum + node.inFlight, 0);
    const bound = Math.max(FLOOR, Math.ceil((C * (total + 1)) / candidates.length));
    const walk = ring.walk(key, (address) => candidates.includes(byAddress.get(address) as Node));
    const home = byAddress.get(walk[0] as string);
    if (flaw === 'no-spill') return home;
    return (
      walk.map((address) => byAddress.get(address) as Node).find((node) => node.inFlight < bound) ?? home
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseRequestTarget(req.url ?? '');
    if (!target.ok || (target.authority !== undefined && target.authority !== req.headers.host)) {
      if (flaw === 'blame-node') {
        const blamed = byAddress.get(ring.walk((req.url ?? '/').split('?')[0] as string)[0] as string);
        if (blamed) blamed.blamedUntil = Date.now() + BLAME_MS;
      }
      res
        .writeHead(400, { 'content-type': 'application/json', connection: 'close' })
        .end('{"error":{"message":"bad request"}}');
      return;
    }
    const raw = (req.url ?? '/').split('?')[0] as string;
    const key = flaw === 'raw-path' ? raw : target.path;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(chunk);
    }
    const body = size === 0 ? null : Buffer.concat(chunks);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (
        value !== undefined &&
        !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name)
      ) {
        headers[name] = value;
      }
    }
    const tried = new Set<Node>();
    for (;;) {
      const node = choose(key, tried);
      if (node === undefined) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"no node"}}');
        return;
      }
      tried.add(node);
      node.inFlight++;
      try {
        if (flaw === 'slow') await sleep(SLOW_MS);
        const answer = await node.pool.request({
          method: (req.method ?? 'GET') as 'GET',
          path: `${target.path}${target.query}`,
          headers,
          body,
        });
        const data = Buffer.from(await answer.body.arrayBuffer());
        const refused = answer.statusCode === 503 && answer.headers[FN_HEADERS.refused] !== undefined;
        const retry = flaw === 'retry-5xx' ? answer.statusCode >= 500 : refused;
        if (retry && nodes.some((other) => other.online && !tried.has(other))) continue;
        const out: Record<string, string | string[]> = {};
        const dropped = ['connection', 'keep-alive', 'transfer-encoding'];
        if (values['hide-node']) dropped.push(FN_HEADERS.node.toLowerCase());
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !dropped.includes(name)) out[name] = value;
        }
        res.writeHead(answer.statusCode, out).end(data);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        const unreachable = [
          'ECONNREFUSED',
          'ECONNRESET',
          'UND_ERR_CONNECT_TIMEOUT',
          'UND_ERR_SOCKET',
        ].includes(code);
        if (unreachable && flaw !== 'no-health') {
          node.online = false;
          continue;
        }
        res.writeHead(502, { 'content-type': 'application/json' }).end(`{"error":{"message":"${code}"}}`);
        return;
      } finally {
        node.inFlight--;
      }
    }
  };

  const [host, port] = values.listen.split(/:(?=\d+$)/);
  createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  }).listen(Number(port), host || undefined);
  process.on('SIGTERM', () => process.exit(0));
}

main();
