// The workload bench (`npm run bench workload`): what stickiness saves on the traffic users have. 1000
// routes with Zipf(1.1) popularity, 5 fn-node processes (process driver), a 20 ms function, a fixed
// time at 32 callers, through fnlb and, in front of the same nodes, nginx `hash $uri consistent`,
// HAProxy `balance uri` + `hash-balance-factor 125` and nginx round robin (the peers when installed,
// as the guard's wrappers in examples/balancers/ configure them, with a worker or thread per core:
// bench/lb-proxies.ts; each peer's command line is printed as it starts).
// Each balancer gets freshly started nodes (no container left from the one before) and the same
// seeded route sequence. Printed per balancer: containers started (the nodes' /stats), cold-call
// fraction, busiest node / mean (calls the nodes ran), p50/p99 end to end, failures; then the targets
// (fnlb starts at most 1.1 x the routes that were called; its p99 at most 0.8 x the best peer's).
//
// Sizing: every called route keeps a hot container for the whole run, so the function is a Perl one
// (bench/functions/sleep.pl, ~5 MB resident; a Node one holds ~40 MB, and 1000 of them do not fit in
// this machine's memory). Each node may reserve FN_MEMORY_MB for containers of ROUTE_MEMORY_MB each;
// a balancer that sends a route to every node makes the nodes evict and start again, which is what
// the cold fraction shows.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { FnNodeProcess } from '../helpers/fn-node-process.js';
import { FnlbProcess } from '../helpers/fnlb-process.js';
import { ScratchDir } from '../helpers/scratch-node.js';
import { FnClient } from '../src/common/fn-client.js';
import { seededRandom } from '../src/common/seeded-random.js';
import { FN_HEADERS } from '../src/common/wire.js';
import {
  binary,
  INSTALL_HINT,
  type StartProxy,
  startHaproxy,
  startNginx,
  startRoundRobin,
} from './lb-proxies.js';
import { pct } from './percentile.js';

const ROUTES = 1000;
const ZIPF_S = 1.1;
const NODES = 5;
const FUNCTION_MS = 20;
const CONCURRENCY = 32;
/** FNG_WORKLOAD_SECONDS shortens (or lengthens) each balancer's run; 60 s by default. */
function workloadSeconds(text: string | undefined): number {
  if (text === undefined || text === '') return 60;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600)
    throw new Error(`FNG_WORKLOAD_SECONDS: expected seconds from 0 to 3600, got ${JSON.stringify(text)}`);
  return value;
}
const SEED = 20261203;
const ROUTE_MEMORY_MB = 16;
/** 300 containers per node: a sticky balancer needs ~1000/5 plus spill; one that sprays needs 1000. */
const NODE_MEMORY_MB = 300 * ROUTE_MEMORY_MB;
const CALL_TIMEOUT_MS = 30_000;
const APP = 'workload';
const IMAGE = 'localhost/fnlb-guard/bench-sleep';
/** Targets, as the issue states them. */
const CONTAINERS_TARGET = 1.1;
const P99_TARGET = 0.8;

const FUNCTION_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/functions/sleep.pl');

/** Route index by Zipf(s) popularity: route 0 is the most called. Inverse CDF over the weights. */
export function zipfPicker(routes: number, s: number, random: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 1; k <= routes; k++) {
    total += k ** -s;
    cumulative.push(total);
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = routes - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cumulative[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

interface Peer {
  name: string;
  /** `command`: the peers' command line, printed as they start. */
  start(nodes: string[]): Promise<{ name: string; url: string; command?: string; stop(): Promise<unknown> }>;
}

interface Outcome {
  name: string;
  calls: number;
  failures: number;
  latencies: number[];
  routesCalled: number;
  containersStarted: number;
  coldCalls: number;
  nodeCalls: number[];
  spreadRoutes: number;
}

function routePath(index: number): string {
  return `/f${String(index).padStart(4, '0')}`;
}

/** The nodes of one row, each on a SQLite file of its own in the bench's directory. */
function startNodes(scratch: ScratchDir, registry: string): Promise<FnNodeProcess[]> {
  return Promise.all(
    Array.from({ length: NODES }, (_, i) =>
      scratch.startNode({
        dbUrl: scratch.sqliteUrl(`node-${i}/fn.db`),
        env: { FN_PROCESS_IMAGES: registry, FN_MEMORY_MB: String(NODE_MEMORY_MB), FN_LOG_LEVEL: 'warn' },
        readyTimeoutMs: 30_000,
      }),
    ),
  );
}

async function createRoutes(nodes: FnNodeProcess[]): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      const api = new FnClient(node.url, { timeoutMs: CALL_TIMEOUT_MS });
      for (let i = 0; i < ROUTES; i++) {
        await api.createRoute(APP, {
          path: routePath(i),
          image: IMAGE,
          format: 'http',
          memory: ROUTE_MEMORY_MB,
          // Longer than any run: a called route's container stays unless memory evicts it.
          idle_timeout: 3600,
        });
      }
    }),
  );
}

/** CONCURRENCY callers for `seconds`, each taking the next route of one seeded Zipf sequence. */
async function drive(
  url: string,
  seconds: number,
): Promise<Pick<Outcome, 'calls' | 'failures' | 'latencies' | 'routesCalled' | 'spreadRoutes'>> {
  const pick = zipfPicker(ROUTES, ZIPF_S, seededRandom(SEED));
  const pool = new Pool(url, { connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  const called = new Set<number>();
  const servedBy = new Map<number, Set<string>>();
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const route = pick();
          called.add(route);
          const started = performance.now();
          try {
            const response = await pool.request({
              method: 'GET',
              path: `/r/${APP}${routePath(route)}?ms=${FUNCTION_MS}`,
              headersTimeout: CALL_TIMEOUT_MS,
              bodyTimeout: CALL_TIMEOUT_MS,
            });
            await response.body.dump();
            if (response.statusCode !== 200) failures++;
            const node = response.headers[FN_HEADERS.node];
            if (typeof node === 'string') {
              const nodes = servedBy.get(route) ?? new Set<string>();
              nodes.add(node);
              servedBy.set(route, nodes);
            }
          } catch {
            failures++;
          }
          latencies.push(performance.now() - started);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  latencies.sort((a, b) => a - b);
  const spreadRoutes = [...servedBy.values()].filter((nodes) => nodes.size > 1).length;
  return { calls: latencies.length, failures, latencies, routesCalled: called.size, spreadRoutes };
}

async function runOne(peer: Peer, scratch: ScratchDir, registry: string, seconds: number): Promise<Outcome> {
  const nodes = await startNodes(scratch, registry);
  const running: Array<{ stop(): Promise<unknown> }> = [...nodes];
  try {
    const balancer = await peer.start(nodes.map((node) => node.address));
    running.push(balancer);
    if (balancer.command !== undefined) console.log(`${balancer.name}: ${balancer.command}`);
    const driven = await drive(balancer.url, seconds);
    const stats = await Promise.all(
      nodes.map((node) => new FnClient(node.url, { timeoutMs: CALL_TIMEOUT_MS }).stats()),
    );
    let coldCalls = 0;
    for (const one of stats) for (const route of Object.values(one.routes)) coldCalls += route.cold;
    return {
      name: balancer.name,
      ...driven,
      containersStarted: stats.reduce((sum, one) => sum + one.containers.started, 0),
      coldCalls,
      nodeCalls: stats.map((one) => one.calls.complete + one.calls.failed),
    };
  } finally {
    for (const one of running.reverse()) await one.stop();
  }
}

/** fnlb with `workers` proxy processes (each bounding loads by its own counts). */
function fnlbPeer(workers: number): Peer {
  const name = `fnlb -workers ${workers}`;
  return {
    name,
    start: async (nodes) => {
      const lb = await FnlbProcess.start({
        nodes,
        flags: ['-hc-interval', '0.5', '-workers', String(workers)],
      });
      try {
        await lb.waitNodes('every node online', (view) =>
          Object.values(view).every((state) => state === 'online'),
        );
      } catch (error) {
        await lb.stop();
        throw error;
      }
      return { name, url: lb.url, stop: () => lb.stop() };
    },
  };
}

function row(cells: string[]): string {
  const widths = [46, 11, 9, 10, 9, 9, 9, 8];
  return cells.map((cell, i) => cell.padEnd(widths[i] ?? 9)).join(' ');
}

const verdict = (met: boolean) => (met ? 'met' : 'missed');

function report(outcomes: Outcome[]): void {
  console.log(row(['balancer', 'containers', 'cold %', 'busiest/', 'p50 ms', 'p99 ms', 'calls', 'failures']));
  console.log(row(['', 'started', '', 'mean', '', '', '', '']));
  for (const one of outcomes) {
    const mean = one.nodeCalls.reduce((sum, calls) => sum + calls, 0) / one.nodeCalls.length;
    console.log(
      row([
        one.name,
        String(one.containersStarted),
        ((one.coldCalls / Math.max(1, one.calls)) * 100).toFixed(2),
        (Math.max(...one.nodeCalls) / Math.max(1, mean)).toFixed(3),
        pct(one.latencies, 50).toFixed(1),
        pct(one.latencies, 99).toFixed(1),
        String(one.calls),
        String(one.failures),
      ]),
    );
  }
  const fnlb = outcomes[0] as Outcome;
  const others = outcomes.filter((one) => !one.name.startsWith('fnlb'));
  const ratio = fnlb.containersStarted / fnlb.routesCalled;
  console.log(
    `${fnlb.name}: ${fnlb.containersStarted} containers for ${fnlb.routesCalled} routes called = ${ratio.toFixed(3)}x ` +
      `(target <= ${CONTAINERS_TARGET}x: ${verdict(ratio <= CONTAINERS_TARGET)}); ` +
      `${fnlb.spreadRoutes} routes ran on more than one node (bounded-load spill)`,
  );
  for (const one of outcomes.slice(1)) {
    console.log(
      `${one.name}: ${one.containersStarted} containers for ${one.routesCalled} routes called ` +
        `(${(one.containersStarted / one.routesCalled).toFixed(3)}x), ${one.spreadRoutes} on more than one node`,
    );
  }
  if (others.length === 0) return;
  const best = others.reduce((a, b) => (pct(a.latencies, 99) <= pct(b.latencies, 99) ? a : b));
  const p99Ratio = pct(fnlb.latencies, 99) / pct(best.latencies, 99);
  console.log(
    `${fnlb.name}'s p99 / the best peer's (${best.name}): ${p99Ratio.toFixed(2)}x ` +
      `(target <= ${P99_TARGET}x: ${verdict(p99Ratio <= P99_TARGET)})`,
  );
}

export async function runWorkloadBench(): Promise<void> {
  const seconds = workloadSeconds(process.env.FNG_WORKLOAD_SECONDS);
  console.log(
    `== workload: ${ROUTES} routes, Zipf(${ZIPF_S}), ${NODES} fn-node processes, a ${FUNCTION_MS} ms function, ` +
      `${seconds} s at ${CONCURRENCY} callers per balancer ==`,
  );
  await using scratch = ScratchDir.create('bench-workload');
  const registry = join(scratch.path, 'images.json');
  writeFileSync(
    registry,
    JSON.stringify({
      images: { [IMAGE]: { command: '/usr/bin/perl', args: [FUNCTION_SCRIPT], ready: 'fd' } },
    }),
  );
  const setup = await startNodes(scratch, registry);
  try {
    await createRoutes(setup);
  } finally {
    for (const node of setup) await node.stop();
  }
  // The first row is the one the targets judge: a worker per core, fnlb's default.
  const cores = availableParallelism();
  const peers: Peer[] = [fnlbPeer(cores), ...(cores > 1 ? [fnlbPeer(1)] : [])];
  const missing: string[] = [];
  const candidates: Array<[string, string, StartProxy]> = [
    ['nginx', 'nginx hash', startNginx],
    ['haproxy', 'haproxy bounded', startHaproxy],
    ['nginx', 'round robin', startRoundRobin],
  ];
  for (const [command, label, start] of candidates) {
    if (binary(command) === undefined) missing.push(label);
    else peers.push({ name: label, start: (nodes) => start(nodes, cores) });
  }
  const outcomes: Outcome[] = [];
  for (const peer of peers) outcomes.push(await runOne(peer, scratch, registry, seconds));
  report(outcomes);
  if (missing.length > 0)
    console.log(`not measured (not installed): ${missing.join(', ')}. To add their rows: ${INSTALL_HINT}`);
}
