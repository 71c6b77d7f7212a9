// The compiled CLI as a process: exit statuses, stderr messages, and the report files, against a
// stand-in deployment whose "balancer" alternates between two node ids (the spreading fnlb bug).
// The real topology (fn-node processes and fnlb) is in harness-cli.test.ts.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/ports.js';
import type { HarnessReport } from '../../src/harness/report.js';
import { runHarnessCli } from './support/harness-cli.js';

const runCli = (args: string[]) => runHarnessCli(args, 20_000);

let nodeA: Server;
let nodeB: Server;
let balancer: Server;
const address = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;
let dir: string;

function standIn(answer: () => string): Server {
  const server = createServer((request, response) => {
    if (!(request.url ?? '').startsWith('/r/primesapp/primes?')) {
      response.writeHead(404).end('{"error":{"message":"Route not found"}}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ durationSeconds: 0.001, hostname: answer(), max: 100, loops: 1, count: 25 }),
    );
  });
  server.listen(0, '127.0.0.1');
  return server;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'harness-cli-'));
  let calls = 0;
  nodeA = standIn(() => 'node-a');
  nodeB = standIn(() => 'node-b');
  balancer = standIn(() => (calls++ % 2 === 0 ? 'node-a' : 'node-b'));
  await Promise.all([once(nodeA, 'listening'), once(nodeB, 'listening'), once(balancer, 'listening')]);
});

afterAll(() => {
  for (const server of [nodeA, nodeB, balancer]) server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fnlb-harness process', () => {
  it('exits 2 naming the wrong flag', async () => {
    const result = await runCli(['-calls', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('invalid value "many" for flag -calls: expected an integer');
    expect(result.stdout).toBe('');
  });

  it('exits 0 with the usage on -help', async () => {
    const result = await runCli(['-help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage of fnlb-harness:');
  });

  it('exits 3 when no node can be reached, saying so', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const result = await runCli([
      '-nodes',
      `127.0.0.1:${a},127.0.0.1:${b}`,
      '-lb',
      `127.0.0.1:${a}`,
      '-timeout',
      '2s',
    ]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`  Ignoring host 127.0.0.1:${a} which returned error:`);
    expect(result.stderr).toContain('cannot reach the deployment');
  });

  it('exits 3 when the nodes answer but the balancer does not', async () => {
    const lb = await freePort();
    const result = await runCli([
      '-nodes',
      address(nodeA),
      '-lb',
      `127.0.0.1:${lb}`,
      '-calls',
      '3',
      '-timeout',
      '2s',
    ]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('Results (executions per node):');
    expect(result.stderr).toContain(`cannot reach the balancer at 127.0.0.1:${lb}`);
  });

  it('prints the historic block and writes the reports; a spreading balancer fails the thresholds (exit 1)', async () => {
    const json = join(dir, 'report.json');
    const svg = join(dir, 'report.svg');
    const nodes = [address(nodeA), address(nodeB)];
    const result = await runCli([
      '-nodes',
      nodes.join(','),
      '-lb',
      address(balancer),
      '-calls',
      '10',
      '-max',
      '100',
      '-v',
      '-json',
      json,
      '-svg',
      svg,
      '-max-nodes-per-route',
      '1',
    ]);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`  ${nodes[0]} node-a`);
    expect(
      lines.filter((line) => / in-function duration: 0\.001000sec, response time: \d+\.\d{6}sec$/.test(line)),
    ).toHaveLength(10);
    const results = lines.indexOf('Results (executions per node):');
    expect(lines.slice(results, results + 3)).toEqual([
      'Results (executions per node):',
      `  ${nodes[0]} 5`,
      `  ${nodes[1]} 5`,
    ]);
    expect(result.stderr).toContain(
      'threshold failed: -max-nodes-per-route: measured 2 nodes on route /r/primesapp/primes',
    );
    expect(result.stderr).toContain('bound <= 1');

    const report = JSON.parse(readFileSync(json, 'utf8')) as HarnessReport;
    expect(report).toMatchObject({
      tool: 'fnlb-harness',
      reportVersion: 1,
      exitCode: 1,
      stop: 'completed',
      totals: { planned: 10, made: 10, succeeded: 10, failed: 0 },
      nodesPerRoute: { max: 2 },
    });
    expect(report.nodes.map((n) => [n.node, n.id, n.executions])).toEqual([
      [nodes[0], 'node-a', 5],
      [nodes[1], 'node-b', 5],
    ]);
    expect(report.calls).toHaveLength(10);
    expect(readFileSync(svg, 'utf8')).toMatch(
      /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/,
    );
  });

  it('exits 0 when the same run meets its bounds, and 4 when a report file cannot be written', async () => {
    const args = ['-nodes', address(nodeA), '-lb', address(nodeA), '-calls', '5', '-max', '100'];
    const ok = await runCli([...args, '-max-nodes-per-route', '1', '-min-home-share', '1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('  ok   -min-home-share: measured 1.000');
    const unwritable = await runCli([...args, '-json', join(dir, 'missing', 'report.json')]);
    expect(unwritable.code).toBe(4);
    expect(unwritable.stderr).toContain('cannot write the JSON report');
  });
});
