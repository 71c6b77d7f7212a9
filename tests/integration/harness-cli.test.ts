// The compiled fnlb-harness CLI against the run's shared topology (with the default processes backend:
// five fn-node processes with the process driver and the shipped localhost/fnlb-guard/primes function, one scratch
// Postgres database, a real fnlb), on its own uniquely named app. What the harness attributes to each
// node is checked against what each node counted itself (GET /stats), so a harness that misattributes
// calls fails here even when its own numbers look plausible.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { currentTopology } from '../../guard/topology/current.js';
import { waitUntilNodesOnline } from '../../guard/topology/probe.js';
import type { TopologyInfo } from '../../guard/topology/types.js';
import { FAST_HEALTH_CHECKS, FnlbProcess } from '../../helpers/fnlb-process.js';
import { freePort } from '../../helpers/ports.js';
import { FnApiError, FnClient } from '../../src/common/fn-client.js';
import type { HarnessReport } from '../../src/harness/report.js';
import { runHarnessCli } from './support/harness-cli.js';

const CLI_TIMEOUT_MS = 90_000;
const runCli = (args: string[]) => runHarnessCli(args, CLI_TIMEOUT_MS);

/** The historic block: `Results (executions per node):` then `  <host:port> <count>` lines. */
function resultsBlock(stdout: string): Map<string, number> {
  const lines = stdout.split('\n');
  const start = lines.indexOf('Results (executions per node):');
  expect(start).toBeGreaterThanOrEqual(0);
  const counts = new Map<string, number>();
  for (const line of lines.slice(start + 1)) {
    const match = /^ {2}(\S+) (\d+)$/.exec(line);
    if (!match) break;
    counts.set(match[1] as string, Number(match[2]));
  }
  return counts;
}

const provided = inject('topology');
const app = `${provided.appPrefix}harness`;
// Set in beforeAll from the topology as it is then (an earlier file's fault may have replaced nodes).
let topology: TopologyInfo;
/** host:port of the balancer and of each node, as the harness (a client like this test) reaches them. */
let lbAddress: string;
let nodes: string[];
let api: FnClient;
let dir: string;

/** Calls each node counted itself (GET /stats) for the given routes (`<app><path>` keys), by node. */
async function countedCalls(routeKeys: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const { routes } = await new FnClient(`http://${node}`, { timeoutMs: 5000 }).stats();
    counts.set(
      node,
      routeKeys.reduce((sum, key) => sum + (routes[key]?.calls ?? 0), 0),
    );
  }
  return counts;
}

/** The shared balancer may still be health-checking its nodes when the first file starts. */
async function waitForOnlineNodes(): Promise<void> {
  if (!topology.capabilities.mgmtApi) return;
  await waitUntilNodesOnline(topology, topology.nodes, 10_000);
}

beforeAll(async () => {
  topology = await currentTopology();
  lbAddress = new URL(topology.lbUrl).host;
  nodes = topology.nodeUrls.map((url) => new URL(url).host);
  api = new FnClient(topology.nodeUrls[0] as string, { timeoutMs: 10_000 });
  dir = mkdtempSync(join(tmpdir(), 'harness-it-'));
  await api.createApp(app);
  await api.createRoute(app, { path: '/primes', image: 'localhost/fnlb-guard/primes', format: 'http' });
  await waitForOnlineNodes();
});

afterAll(async () => {
  await api.deleteRoute(app, '/primes');
  await api.deleteApp(app);
  rmSync(dir, { recursive: true, force: true });
});

describe('fnlb-harness on fn-nodes behind fnlb', () => {
  it('100 sequential calls: the historic block matches what every node counted, all on one node', async () => {
    const missing = `127.0.0.1:${await freePort()}`;
    const before = await countedCalls([`${app}/primes`]);
    const json = join(dir, 'sticky.json');
    const result = await runCli([
      '-lb',
      lbAddress,
      '-nodes',
      [...nodes, missing].join(','),
      '-route',
      `/r/${app}/primes`,
      '-calls',
      '100',
      '-max',
      '1000',
      '-timeout',
      '10s',
      '-json',
      json,
      '-max-nodes-per-route',
      '1',
      '-min-home-share',
      '1',
    ]);
    expect(result.code, result.stderr).toBe(0);
    // The node that cannot be discovered is said, kept in the block with 0, and does not stop the run.
    expect(result.stdout).toContain(`  Ignoring host ${missing} which returned error:`);
    for (const node of nodes)
      expect(result.stdout).toMatch(new RegExp(`^ {2}${node.replaceAll('.', '\\.')} \\S+$`, 'm'));

    const counts = resultsBlock(result.stdout);
    expect([...counts.keys()]).toEqual([...nodes, missing]);
    const served = [...counts.entries()].filter(([, count]) => count > 0);
    expect(served).toHaveLength(1);
    expect(served[0]?.[1]).toBe(100);

    // Each node counted discovery's one call plus what the harness attributed to it.
    const after = await countedCalls([`${app}/primes`]);
    for (const node of nodes) {
      expect((after.get(node) ?? 0) - (before.get(node) ?? 0), node).toBe(1 + (counts.get(node) ?? 0));
    }

    const report = JSON.parse(readFileSync(json, 'utf8')) as HarnessReport;
    expect(report.totals).toMatchObject({ planned: 100, made: 100, succeeded: 100, failed: 0 });
    // Discovery already started the home node's container, so no call through fnlb waited for one.
    expect(report.totals.cold).toBe(0);
    expect(report.homeShare?.min).toBe(1);
    expect(report.latencySeconds?.p99).toBeGreaterThan(0);
    expect(report.latencySeconds?.p99).toBeLessThan(10);
    expect(report.thresholds.map((t) => [t.flag, t.passed])).toEqual([
      ['max-nodes-per-route', true],
      ['min-home-share', true],
    ]);
  });

  it('-routes 20: clones the route, keeps each clone on one node, spreads homes, deletes the clones', async () => {
    const json = join(dir, 'routes.json');
    const svg = join(dir, 'routes.svg');
    const result = await runCli([
      '-lb',
      lbAddress,
      '-nodes',
      nodes.join(','),
      '-route',
      `/r/${app}/primes`,
      '-routes',
      '20',
      '-calls',
      '60',
      '-concurrency',
      '4',
      '-max',
      '1000',
      '-timeout',
      '10s',
      '-json',
      json,
      '-svg',
      svg,
      '-max-nodes-per-route',
      '1',
      '-max-failures',
      '0',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `Created 20 routes ${app}/primes-0001 .. ${app}/primes-0020 from ${app}/primes`,
    );
    expect(result.stdout).toContain('Deleted 20 routes created by this run');

    const report = JSON.parse(readFileSync(json, 'utf8')) as HarnessReport;
    expect(report.routes).toHaveLength(20);
    expect(report.routes.filter((route) => route.calls !== 3 || route.nodeCount !== 1)).toEqual([]);
    expect(report.nodesPerRoute.max).toBe(1);
    // 20 homes on a 5-node ring land on more than one node (a balancer pinning everything fails).
    expect(report.nodes.filter((node) => node.executions > 0).length).toBeGreaterThanOrEqual(2);
    // One cold start per clone at most: each clone's home starts one container and reuses it.
    expect(report.totals.cold).toBeGreaterThanOrEqual(1);
    expect(report.totals.cold).toBeLessThanOrEqual(20);
    expect(readFileSync(svg, 'utf8')).toContain('</svg>');
    // With homes on several nodes, the per-node attribution is checked against the nodes' own counts
    // (the clones are new routes: everything they counted came from this run).
    const counted = await countedCalls(report.routes.map((route) => route.route.slice('/r/'.length)));
    for (const node of report.nodes) expect(counted.get(node.node), node.node).toBe(node.executions);

    for (const path of ['/primes-0001', '/primes-0020']) {
      const gone = await api.getRoute(app, path).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(gone).toBeInstanceOf(FnApiError);
      expect((gone as FnApiError).status).toBe(404);
    }
    // The base route is untouched.
    expect((await api.getRoute(app, '/primes')).image).toBe('localhost/fnlb-guard/primes');
  });

  // A second, local fnlb in front of the same nodes (as this test reaches them): not on an external deployment.
  it.runIf(provided.kind !== 'external')(
    'a balancer that spills under load fails -max-nodes-per-route 1 with exit 1, naming the route',
    async () => {
      // Same nodes, a second fnlb with the lowest bound (-floor 1): 8 callers on one route must spill.
      const spilling = await FnlbProcess.start({ nodes, flags: [...FAST_HEALTH_CHECKS, '-floor', '1'] });
      try {
        await spilling.waitNodes('every node online', (view) =>
          nodes.every((node) => view[node] === 'online'),
        );
        const json = join(dir, 'spill.json');
        const result = await runCli([
          '-lb',
          spilling.address,
          '-nodes',
          nodes.join(','),
          '-route',
          `/r/${app}/primes`,
          '-calls',
          '32',
          '-concurrency',
          '8',
          '-max',
          '1000000',
          '-loops',
          '2',
          '-timeout',
          '30s',
          '-json',
          json,
          '-max-nodes-per-route',
          '1',
        ]);
        expect(result.code, result.stdout).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(
            `threshold failed: -max-nodes-per-route: measured [2-5] nodes on route /r/${app}/primes \\(`,
          ),
        );
        expect(result.stderr).toContain('bound <= 1');
        const report = JSON.parse(readFileSync(json, 'utf8')) as HarnessReport;
        expect(report.totals.succeeded).toBe(32);
        expect(report.nodesPerRoute.max).toBeGreaterThanOrEqual(2);
        expect(report.homeShare?.min).toBeLessThan(1);
        expect(report.exitCode).toBe(1);
      } finally {
        await spilling.stop();
      }
    },
  );
});
