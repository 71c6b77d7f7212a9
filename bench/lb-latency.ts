// fnlb bench: what the balancer costs. One real fn-node (process driver) serves every target, so the
// columns differ only by the hop in front of it: a direct call, fnlb, and (when installed) nginx with
// `hash $uri consistent` and HAProxy with `balance uri` + `hash-balance-factor 125`, as the guard's
// wrappers in examples/balancers/ configure them (bench/lb-proxies.ts), with a worker (HAProxy: a
// thread) per core. Each peer's command line is printed before the tables. For two
// workloads (GET /version, no function; a hot function call that returns at once) it measures
// sequential latency (p50/p99, and p50 added over direct) and closed-loop throughput at 16 callers,
// all in the same run on the same machine. On a 2-core machine the load generator, the proxy, the
// node and the function share the cores, so throughput is a comparison, not a capacity figure.
// Also: the cost of one routing decision (ring walk + bounded-load choice) in-process.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { FnlbProcess } from '../helpers/fnlb-process.js';
import { ScratchNode } from '../helpers/scratch-node.js';
import { FnClient } from '../src/common/fn-client.js';
import { Balancer } from '../src/lb/balancer.js';
import { binary, INSTALL_HINT, type StartProxy, startHaproxy, startNginx } from './lb-proxies.js';
import { pct } from './percentile.js';

const ROUNDS = 3;
/** Per round and target: sequential calls for latency, then closed-loop callers for throughput. */
const SEQUENTIAL_CALLS = 300;
export const CALLERS = 16;
const ROUND_MS = 1000;
const WARMUP_MS = 1500;
const CALL_TIMEOUT_MS = 10_000;

interface Target {
  name: string;
  url: string;
}

export interface Tally {
  latencies: number[];
  calls: number;
  seconds: number;
  errors: number;
}

async function once(pool: Pool, path: string): Promise<boolean> {
  const response = await pool.request({
    path,
    method: 'GET',
    headersTimeout: CALL_TIMEOUT_MS,
    bodyTimeout: CALL_TIMEOUT_MS,
  });
  await response.body.dump();
  return response.statusCode === 200;
}

/** `callers` callers calling `path` back to back for `ms`, counted into `tally`. */
export async function closedLoop(
  pool: Pool,
  path: string,
  ms: number,
  tally?: Tally,
  callers = CALLERS,
): Promise<void> {
  const started = performance.now();
  const deadline = started + ms;
  let calls = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        if (!(await once(pool, path))) errors++;
        calls++;
      }
    }),
  );
  if (tally === undefined) return;
  tally.calls += calls;
  tally.errors += errors;
  tally.seconds += (performance.now() - started) / 1000;
}

/**
 * Warms every target (JIT, hot containers), then measures in rounds whose target order rotates, so
 * no target profits from going last on a machine that is still warming up.
 */
async function measure(targets: Target[], path: string): Promise<Tally[]> {
  const pools = targets.map(
    (target) => new Pool(target.url, { connections: CALLERS, keepAliveTimeout: 10_000 }),
  );
  const tallies: Tally[] = targets.map(() => ({ latencies: [], calls: 0, seconds: 0, errors: 0 }));
  try {
    for (const pool of pools) await closedLoop(pool, path, WARMUP_MS);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < targets.length; k++) {
        const i = (k + round) % targets.length;
        const pool = pools[i] as Pool;
        const tally = tallies[i] as Tally;
        for (let call = 0; call < SEQUENTIAL_CALLS; call++) {
          const started = performance.now();
          if (!(await once(pool, path))) tally.errors++;
          tally.latencies.push(performance.now() - started);
        }
        await closedLoop(pool, path, ROUND_MS, tally);
      }
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  for (const tally of tallies) tally.latencies.sort((a, b) => a - b);
  return tallies;
}

/** Closed-loop throughput only, at `callers`, in rotating rounds as measure() does. */
async function throughput(targets: Target[], path: string, callers: number): Promise<Tally[]> {
  const pools = targets.map(
    (target) => new Pool(target.url, { connections: callers, keepAliveTimeout: 10_000 }),
  );
  const tallies: Tally[] = targets.map(() => ({ latencies: [], calls: 0, seconds: 0, errors: 0 }));
  try {
    for (const pool of pools) await closedLoop(pool, path, WARMUP_MS, undefined, callers);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < targets.length; k++) {
        const i = (k + round) % targets.length;
        await closedLoop(pools[i] as Pool, path, ROUND_MS * 2, tallies[i], callers);
      }
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  return tallies;
}

/** Callers of the multi-core table, and its target: fnlb with a worker per core at 60% of nginx's rate. */
const MULTI_CORE_CALLERS = 32;
const MULTI_CORE_TARGET = 0.6;

async function multiCore(targets: Target[]): Promise<void> {
  console.log(
    `
multi-core: GET /version at ${MULTI_CORE_CALLERS} callers, ${ROUNDS} rounds of ${(ROUND_MS * 2) / 1000} s per target ` +
      `(${availableParallelism()} cores, shared with the load generator and the node)`,
  );
  const widths = [48, 12, 12, 7];
  console.log(row(['target', 'calls/s', 'of nginx', 'errors'], widths));
  const tallies = await throughput(targets, '/version', MULTI_CORE_CALLERS);
  const rate = (i: number) => (tallies[i] as Tally).calls / (tallies[i] as Tally).seconds;
  const nginx = targets.findIndex((target) => target.name.startsWith('nginx'));
  targets.forEach((target, i) => {
    const share = nginx < 0 ? '-' : `${((rate(i) / rate(nginx)) * 100).toFixed(0)}%`;
    console.log(row([target.name, rate(i).toFixed(0), share, String((tallies[i] as Tally).errors)], widths));
  });
  const workers = targets.findIndex(
    (target) => target.name.startsWith('fnlb -workers') && !target.name.endsWith(' 1'),
  );
  if (nginx >= 0 && workers >= 0) {
    const ratio = rate(workers) / rate(nginx);
    console.log(
      `${targets[workers]?.name} / nginx: ${(ratio * 100).toFixed(0)}% (target >= ${MULTI_CORE_TARGET * 100}%: ${verdict(ratio >= MULTI_CORE_TARGET)})`,
    );
  }
}

const BENCH_BALANCER = {
  c: 1.25,
  floor: 8,
  vnodes: 2000,
  maxNodes: 1000,
  timeouts: { connectMs: 1000, headersMs: 1000, bodyMs: 1000 },
};
/** The placement targets: spread as even as nginx's consistent hash measured, without losing membership. */
const BUSIEST_TARGET = 1.08;
const MEMBERSHIP_BOUND = 1 / 6 + 0.05;
/** fnlb's added latency at concurrency 1, as a multiple of HAProxy's in the same run. */
const ADDED_P50_TARGET = 3;

function balancerOf(nodes: number): Balancer {
  const balancer = new Balancer(BENCH_BALANCER);
  for (let i = 0; i < nodes; i++) online(balancer, `10.0.0.${i + 1}:8080`);
  return balancer;
}

function routingCost(): string {
  const balancer = balancerOf(5);
  const keys = Array.from({ length: 1000 }, (_, i) => `/r/app/route-${i}`);
  const rounds = 200;
  const started = performance.now();
  for (let round = 0; round < rounds; round++) for (const key of keys) balancer.choose(key);
  const ns = ((performance.now() - started) * 1e6) / (rounds * keys.length);
  void balancer.close();
  return `routing decision (ring walk + bounded-load choice, 5 nodes x 2000 vnodes): ${ns.toFixed(0)} ns`;
}

const verdict = (met: boolean) => (met ? 'met' : 'missed');

/** Where 1000 routes land on 5 nodes, and how many a 6th node takes: the ring alone, in-process. */
function placementSpread(): string[] {
  const keys = Array.from({ length: 1000 }, (_, i) => `/r/app/route-${i}`);
  const five = balancerOf(5);
  const six = balancerOf(6);
  const perNode = new Map<string, number>();
  let moved = 0;
  for (const key of keys) {
    const home = five.choose(key)?.address as string;
    perNode.set(home, (perNode.get(home) ?? 0) + 1);
    if (six.choose(key)?.address !== home) moved++;
  }
  void five.close();
  void six.close();
  const busiest = Math.max(...perNode.values()) / (keys.length / 5);
  const share = moved / keys.length;
  return [
    `1000 routes on 5 nodes: busiest node / mean ${busiest.toFixed(3)} (target <= ${BUSIEST_TARGET}: ${verdict(busiest <= BUSIEST_TARGET)}; ` +
      'a uniform random placement of 1000 keys averages 1.083)',
    `a 6th node takes ${(share * 100).toFixed(1)}% of them (bound <= ${(MEMBERSHIP_BOUND * 100).toFixed(1)}%: ${verdict(share <= MEMBERSHIP_BOUND)})`,
  ];
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i] ?? 10)).join('  ');
}

export async function runLbBench(): Promise<void> {
  console.log('== fnlb: added latency and throughput versus a direct call (same node, same run) ==');
  console.log(routingCost());
  for (const line of placementSpread()) console.log(line);
  // The node outlives what is started in front of it: `running` stops first, then the scope ends it.
  await using node = await ScratchNode.start({ label: 'bench-lb' });
  const running: Array<{ stop(): Promise<unknown> }> = [];
  try {
    const api = new FnClient(node.url, { timeoutMs: CALL_TIMEOUT_MS });
    await api.createRoute('bench', {
      path: '/noop',
      image: 'localhost/fnlb-guard/sleep',
      format: 'http',
      memory: 64,
    });
    const cores = availableParallelism();
    const lb = await FnlbProcess.start({
      nodes: [node.address],
      flags: ['-hc-interval', '0.2', '-workers', String(cores)],
    });
    running.push(lb);
    const single = await FnlbProcess.start({
      nodes: [node.address],
      flags: ['-hc-interval', '0.2', '-workers', '1'],
    });
    running.push(single);
    for (const one of [lb, single])
      await one.waitNodes('node online', (view) => view[node.address] === 'online');

    const targets: Target[] = [
      { name: 'direct to the node', url: node.url },
      { name: 'fnlb', url: lb.url },
    ];
    const missing: string[] = [];
    const proxies: Array<[string, StartProxy]> = [
      ['nginx', startNginx],
      ['haproxy', startHaproxy],
    ];
    for (const [name, start] of proxies) {
      if (binary(name) === undefined) {
        missing.push(name);
        continue;
      }
      const proxy = await start([node.address], cores);
      running.push(proxy);
      targets.push({ name: proxy.name, url: proxy.url });
      console.log(`${proxy.name}: ${proxy.command}`);
    }

    const widths = [48, 9, 9, 14, 14, 7];
    const workloads: Array<[string, string]> = [
      ['GET /version (no function)', '/version'],
      ['hot function call (localhost/fnlb-guard/sleep ?ms=0)', '/r/bench/noop?ms=0'],
    ];
    for (const [label, path] of workloads) {
      console.log(
        `\n${label}: ${ROUNDS} rounds of ${SEQUENTIAL_CALLS} sequential calls and ${CALLERS} callers for ` +
          `${ROUND_MS / 1000} s per target`,
      );
      console.log(
        row(['target', 'p50 ms', 'p99 ms', 'p50 added ms', `calls/s @${CALLERS}`, 'errors'], widths),
      );
      const tallies = await measure(targets, path);
      const direct = tallies[0] as Tally;
      const directP50 = pct(direct.latencies, 50);
      const directRate = direct.calls / direct.seconds;
      targets.forEach((target, i) => {
        const tally = tallies[i] as Tally;
        const p50 = pct(tally.latencies, 50);
        const rate = tally.calls / tally.seconds;
        console.log(
          row(
            [
              target.name,
              p50.toFixed(3),
              pct(tally.latencies, 99).toFixed(3),
              i === 0 ? '-' : signed(p50 - directP50),
              `${rate.toFixed(0)} (${((rate / directRate) * 100).toFixed(0)}%)`,
              String(tally.errors),
            ],
            widths,
          ),
        );
      });
      const added = (name: string) => {
        const i = targets.findIndex((target) => target.name.startsWith(name));
        return i < 0 ? undefined : pct((tallies[i] as Tally).latencies, 50) - directP50;
      };
      const fnlbAdded = added('fnlb') as number;
      const haproxyAdded = added('haproxy');
      if (haproxyAdded !== undefined && haproxyAdded > 0) {
        const ratio = fnlbAdded / haproxyAdded;
        console.log(
          `fnlb's added p50 / HAProxy's: ${ratio.toFixed(2)}x (target <= ${ADDED_P50_TARGET}x: ${verdict(ratio <= ADDED_P50_TARGET)})`,
        );
      }
    }
    await multiCore([
      targets[0] as Target,
      { name: 'fnlb -workers 1', url: single.url },
      { name: `fnlb -workers ${cores}`, url: lb.url },
      ...targets.slice(2),
    ]);
    if (missing.length > 0) {
      console.log(
        `\nnot measured (not installed): ${missing.join(', ')}. To add their columns: ${INSTALL_HINT}`,
      );
    }
  } finally {
    for (const process of running.reverse()) await process.stop();
  }
}

function online(balancer: Balancer, node: string): void {
  const added = balancer.add(node);
  if (added.kind === 'added') added.backend.setState('online');
}
