// The soak: a mixed load through fnlb over many routes (fast, slow and crashing functions, hot and
// cold formats) on a cluster of this project's own builds, with a node restarted with SIGTERM at
// random moments, sampled every few seconds. It passes when no call failed that should not have, the
// resident memory of fnlb and of every node that lived long enough grew at most MAX_RSS_GROWTH after
// its warm-up, and, once the load stopped and the idle timeout passed, nothing was left: no function
// instance, no call queued or running, and the node holding at most FD_SLACK more descriptors of its
// own than when it started (the balancer's keep-alive connections to it counted apart).
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, descendants, descriptorsOf, openFds, rssBytes } from '../../../helpers/proc.js';
import { tryWaitUntil } from '../../../helpers/wait.js';
import { FnClient } from '../../../src/common/fn-client.js';
import { seededRandom } from '../../../src/common/seeded-random.js';
import type { RouteBody } from '../../../src/common/wire.js';
import { ReliabilityCluster } from '../support/cluster.js';
import { Traffic, type TrafficRoute, type TrafficTally } from '../support/traffic.js';

export interface SoakOptions {
  minutes: number;
  routes: number;
  nodes: number;
  concurrency: number;
  /** Mean seconds between node restarts; 0 for none. */
  restartEverySeconds: number;
  /** Idle timeout of the soak's routes: what the end waits for before counting leftovers. */
  idleTimeoutSeconds: number;
  seed: number;
  /** Every line the soak prints. */
  log: (line: string) => void;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, 'log'> = {
  minutes: 5,
  routes: 200,
  nodes: 5,
  concurrency: 8,
  restartEverySeconds: 45,
  idleTimeoutSeconds: 15,
  seed: 1,
};

/** Growth of resident memory allowed after warm-up. */
export const MAX_RSS_GROWTH = 0.1;
const SAMPLE_EVERY_MS = 5000;
const PRINT_EVERY_MS = 30_000;
const CALL_TIMEOUT_MS = 20_000;
/**
 * Descriptors a node may hold itself at rest beyond what it had when it started (a database
 * connection the pool has not yet closed); the balancer's keep-alive connections to it are counted
 * apart, as the client's.
 */
const FD_SLACK = 4;
/** RSS is judged after this share of the run, at most WARM_UP_MAX_MS: V8 grows its heaps for minutes. */
const WARM_UP_SHARE = 0.4;
const WARM_UP_MAX_MS = 120_000;
/** A lifetime is judged only on this much time after its warm-up: GC peaks come minutes apart. */
const JUDGED_SPAN_MS = 90_000;
/** Memory a node may reserve for instances: bounds how many of the routes are hot at once. */
const NODE_MEMORY_MB = 2560;
const APP = 'soak';

interface Lifetime {
  /** "fnlb", or the node's address with its restart count. */
  name: string;
  pid: number;
  startedAt: number;
  /** Descriptors it held itself just after it started, before any call. */
  fdsAtStart: number;
  samples: Array<{ at: number; rss: number }>;
}

export interface SoakVerdict {
  ok: boolean;
  /** One line per check: what was measured beside its bound. */
  lines: string[];
  tally: TrafficTally;
}

type RouteKind = 'fast' | 'slow' | 'crash' | 'cold';

/** Per 20 routes: 14 fast, 4 slow, 1 cold, 1 crashing; the most popular routes (the first) are fast. */
function kindOf(index: number): RouteKind {
  const slot = index % 20;
  if (slot === 19) return 'crash';
  if (slot === 18) return 'cold';
  if (slot >= 14) return 'slow';
  return 'fast';
}

function routeOf(index: number, idleTimeout: number): RouteBody['route'] & { path: string } {
  const kind = kindOf(index);
  return {
    path: `/${kind}-${index}`,
    image: kind === 'crash' ? 'localhost/fnlb-guard/crash' : 'localhost/fnlb-guard/sleep',
    format: kind === 'cold' ? 'default' : 'http',
    memory: 128,
    timeout: 30,
    idle_timeout: idleTimeout,
  };
}

function targetOf(index: number, random: () => number): TrafficRoute {
  const kind = kindOf(index);
  const target = `/r/${APP}/${kind}-${index}`;
  if (kind === 'crash') return { target, expect: 502, fromNode: true };
  const ms = kind === 'slow' ? 200 + Math.floor(random() * 600) : Math.floor(random() * 5);
  return { target: `${target}?ms=${ms}`, expect: 200 };
}

/** Zipf-like popularity: a few routes take most calls and stay hot, the tail starts and retires. */
function picker(routes: number, random: () => number): () => TrafficRoute {
  const weights = Array.from({ length: routes }, (_, index) => 1 / (index + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return () => {
    let left = random() * total;
    for (let index = 0; index < routes; index++) {
      left -= weights[index] as number;
      if (left <= 0) return targetOf(index, random);
    }
    return targetOf(routes - 1, random);
  };
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(0)}MB`;
}

export async function runSoak(options: SoakOptions): Promise<SoakVerdict> {
  const { log } = options;
  const random = seededRandom(options.seed);
  const durationMs = options.minutes * 60_000;
  // Past the cold starts, caches, JIT and the heap growth of the first minutes.
  const warmUpMs = Math.min(WARM_UP_MAX_MS, durationMs * WARM_UP_SHARE);
  log(
    `[soak] ${options.minutes} min, ${options.routes} routes, ${options.nodes} nodes, ${options.concurrency} callers, ` +
      `a node restart every ~${options.restartEverySeconds} s, seed ${options.seed}`,
  );
  const cluster = await ReliabilityCluster.start({
    nodes: options.nodes,
    nodeEnv: { FN_MEMORY_MB: String(NODE_MEMORY_MB) },
  });
  try {
    await cluster.lbClient.createApp(APP);
    for (let index = 0; index < options.routes; index++) {
      await cluster.lbClient.createRoute(APP, routeOf(index, options.idleTimeoutSeconds));
    }
    const began = performance.now();
    const lifetimes: Lifetime[] = [];
    const current = new Map<string, Lifetime>();
    const track = (key: string, name: string, pid: number, port: number) => {
      const fdsAtStart = descriptorsOf(pid, port)?.own ?? 0;
      const lifetime: Lifetime = { name, pid, startedAt: performance.now(), fdsAtStart, samples: [] };
      lifetimes.push(lifetime);
      current.set(key, lifetime);
    };
    track('fnlb', 'fnlb', cluster.lb.pid, cluster.lb.port);
    for (const [index, node] of cluster.nodes.entries())
      track(`node${index}`, node.address, node.pid, node.port);

    const traffic = new Traffic({
      baseUrl: cluster.lb.url,
      pick: picker(options.routes, random),
      concurrency: options.concurrency,
      until: began + durationMs,
      maxCalls: Math.ceil(durationMs / 1000) * 500,
      callTimeoutMs: CALL_TIMEOUT_MS,
    });
    const running = traffic.run();
    let restartError: unknown;
    const restarts = (async () => {
      if (options.restartEverySeconds <= 0) return;
      for (;;) {
        const waitMs = options.restartEverySeconds * 1000 * (0.5 + random());
        if (performance.now() + waitMs > began + durationMs - 5000) return;
        await sleep(waitMs);
        const index = Math.floor(random() * cluster.nodes.length);
        const before = cluster.nodes[index]?.address;
        log(`[soak] +${((performance.now() - began) / 1000).toFixed(0)} s: restarting ${before} (SIGTERM)`);
        await cluster.restartNode(index, (node) =>
          track(`node${index}`, `${node.address} (restart ${cluster.restarts.nodes})`, node.pid, node.port),
        );
      }
    })().catch((error: unknown) => {
      restartError = error;
      traffic.stop();
    });

    let lastPrint = performance.now();
    while (performance.now() < began + durationMs && restartError === undefined) {
      await sleep(SAMPLE_EVERY_MS);
      const now = performance.now();
      for (const lifetime of current.values()) {
        const rss = rssBytes(lifetime.pid);
        if (rss !== undefined) lifetime.samples.push({ at: now, rss });
      }
      if (now - lastPrint >= PRINT_EVERY_MS) {
        lastPrint = now;
        log(await sampleLine(cluster, traffic.tally, began));
      }
    }
    const tally = await running;
    await restarts;
    if (restartError !== undefined) throw restartError;
    log(await sampleLine(cluster, tally, began));

    const lines: string[] = [];
    let ok = true;
    const check = (passed: boolean, line: string) => {
      ok &&= passed;
      lines.push(`${passed ? 'pass' : 'FAIL'}  ${line}`);
    };
    const shown = tally.unexpected
      .slice(0, 5)
      .map((failure) => `\n        ${failure.target}: ${failure.status ?? '-'} ${failure.error}`)
      .join('');
    check(
      tally.unexpected.length === 0,
      `unexpected failures: ${tally.unexpected.length} of ${tally.calls} calls (bound 0; ${tally.expected} answered as their route should, ${cluster.restarts.nodes} node restarts)${shown}`,
    );
    // fnlb is never restarted here: a connection it refused is a balancer gone, not a restart.
    check(
      tally.unsent === 0 && alive(cluster.lb.pid),
      `fnlb: ${alive(cluster.lb.pid) ? 'alive' : 'GONE'} at the end, ${tally.unsent} connections refused (bound 0)`,
    );
    for (const lifetime of lifetimes) {
      const after = lifetime.samples.filter((sample) => sample.at - lifetime.startedAt >= warmUpMs);
      const span = after.length > 1 ? (after.at(-1)?.at ?? 0) - (after[0]?.at ?? 0) : 0;
      if (span < JUDGED_SPAN_MS) {
        lines.push(
          `skip  ${lifetime.name}: RSS not judged: sampled ${(span / 1000).toFixed(0)} s after its ${(warmUpMs / 1000).toFixed(0)} s warm-up, fewer than ${JUDGED_SPAN_MS / 1000} s (a longer soak judges it)`,
        );
        continue;
      }
      // Peaks, not single samples: a collected heap's RSS is a sawtooth, and its peaks are what grows
      // when something leaks.
      const third = Math.max(1, Math.floor(after.length / 3));
      const baseline = Math.max(...after.slice(0, third).map((sample) => sample.rss));
      const end = Math.max(...after.slice(-third).map((sample) => sample.rss));
      const growth = end / baseline - 1;
      check(
        growth <= MAX_RSS_GROWTH,
        `${lifetime.name}: RSS peak ${mb(baseline)} after warm-up -> ${mb(end)} at the end: ${(growth * 100).toFixed(1)}% (bound ${MAX_RSS_GROWTH * 100}%)`,
      );
    }
    await checkNothingLeft(cluster, current, options.idleTimeoutSeconds, check);
    return { ok, lines, tally };
  } finally {
    await cluster.close();
  }
}

async function sampleLine(cluster: ReliabilityCluster, tally: TrafficTally, began: number): Promise<string> {
  const parts = [`fnlb ${mb(rssBytes(cluster.lb.pid))} ${openFds(cluster.lb.pid) ?? '-'}fd`];
  for (const node of cluster.nodes) {
    const fds = descriptorsOf(node.pid, node.port);
    parts.push(
      `${node.port} ${mb(rssBytes(node.pid))} ${fds?.own ?? '-'}+${fds?.accepted ?? '-'}fd ${descendants(node.pid).length}proc`,
    );
  }
  const elapsed = ((performance.now() - began) / 1000).toFixed(0);
  return `[soak] +${elapsed} s: ${tally.calls} calls, ${tally.unexpected.length} unexpected | ${parts.join(' | ')}`;
}

async function checkNothingLeft(
  cluster: ReliabilityCluster,
  current: Map<string, Lifetime>,
  idleTimeoutSeconds: number,
  check: (passed: boolean, line: string) => void,
): Promise<void> {
  const leftovers = () =>
    Promise.all(
      cluster.nodes.map(async (node) => {
        const stats = await new FnClient(node.url, { timeoutMs: 5000 }).stats();
        const containers = stats.containers.idle + stats.containers.busy + stats.containers.starting;
        return { node, stats, containers, processes: descendants(node.pid).length };
      }),
    );
  type Leftover = Awaited<ReturnType<typeof leftovers>>[number];
  const rests = (entry: Leftover) =>
    entry.containers === 0 &&
    entry.processes === 0 &&
    entry.stats.calls.queued === 0 &&
    entry.stats.calls.running === 0;
  let seen: Leftover[] = [];
  const allRest = async () => {
    seen = await leftovers();
    return seen.every(rests);
  };
  // Every instance retires after the idle timeout; a few seconds more for their exits to be seen.
  // What is still there then is what the checks below report.
  await tryWaitUntil('every node at rest', allRest, (idleTimeoutSeconds + 10) * 1000, 1000);
  cluster.nodes.forEach((node, index) => {
    const entry = seen[index];
    if (entry === undefined) return;
    const { calls } = entry.stats;
    check(
      rests(entry),
      `${node.address} at rest: ${entry.containers} instances in /stats, ${entry.processes} processes below the node, ${calls.queued} queued, ${calls.running} running (bound 0 each)`,
    );
    const lifetime = current.get(`node${index}`);
    const fds = descriptorsOf(node.pid, node.port);
    const atStart = lifetime?.fdsAtStart ?? 0;
    check(
      fds !== undefined && fds.own <= atStart + FD_SLACK,
      `${node.address} at rest: ${fds?.own ?? '-'} descriptors of its own, ${atStart} when it started (bound +${FD_SLACK}); ${fds?.accepted ?? '-'} connections the balancer keeps open to it`,
    );
  });
}
