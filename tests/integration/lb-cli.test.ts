// The fnlb binary itself: bad flags exit 2 naming the flag, -help prints usage, and SIGTERM drains:
// the listener closes at once, calls in flight finish (up to -shutdown-timeout), then it exits 0.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnvironment } from '../../helpers/child-env.js';
import { FAST_HEALTH_CHECKS, FNLB_ENTRY, FnlbProcess } from '../../helpers/fnlb-process.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { FnClient } from '../../src/common/fn-client.js';

function fnlb(...args: string[]) {
  return spawnSync(process.execPath, [FNLB_ENTRY, ...args], {
    env: childEnvironment(),
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe('fnlb command line', () => {
  it.each([
    [['-bogus', '1'], '-bogus'],
    [['--hc-interval=abc'], '-hc-interval'],
    [['-nodes', 'no-port'], '-nodes'],
    [['-min-api-version', 'x'], '-min-api-version'],
  ])('exits 2 on %j, naming %s', (args, flag) => {
    const run = fnlb(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(flag);
  });

  it('prints usage on -help and exits 0', () => {
    const run = fnlb('-help');
    expect(run.status).toBe(0);
    for (const flag of ['-nodes', '-listen', '-hc-path', '-min-api-version', '-c', '-floor', '-vnodes']) {
      expect(run.stdout).toContain(`  ${flag} `);
    }
  });
});

describe('fnlb SIGTERM drain', () => {
  let node: ScratchNode;

  beforeAll(async () => {
    node = await ScratchNode.start({ label: 'lb-cli' });
    const api = new FnClient(node.url, { timeoutMs: 10_000 });
    await api.createRoute('lbcli', {
      path: '/sleep',
      image: 'localhost/fnlb-guard/sleep',
      format: 'http',
      memory: 64,
    });
    expect((await api.call('lbcli', '/sleep', '?ms=1')).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await node?.close();
  });

  async function balancer(shutdownSeconds: string): Promise<{ lb: FnlbProcess; client: FnClient }> {
    const lb = await FnlbProcess.start({
      nodes: [node.address],
      flags: [...FAST_HEALTH_CHECKS, '-shutdown-timeout', shutdownSeconds],
    });
    await lb.waitNodes('node online', (view) => view[node.address] === 'online');
    return { lb, client: new FnClient(lb.url, { timeoutMs: 10_000 }) };
  }

  it('stops accepting at once, lets the call in flight finish, then exits 0', async () => {
    const { lb, client } = await balancer('10');
    const inFlight = client.call('lbcli', '/sleep', '?ms=700');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signalled = Date.now();
    const exit = lb.stop(15_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await expect(
      client.call('lbcli', '/sleep', '?ms=1'),
      'a new connection during the drain',
    ).rejects.toThrow();
    const result = await inFlight;
    expect([result.status, JSON.parse(result.body).sleptMs]).toEqual([200, 700]);
    expect(await exit).toBe(0);
    expect(Date.now() - signalled, 'exit waits for the call, not the whole shutdown timeout').toBeLessThan(
      5000,
    );
  });

  it('cuts calls still running when -shutdown-timeout runs out', async () => {
    const { lb, client } = await balancer('0.3');
    const inFlight = client.call('lbcli', '/sleep', '?ms=3000').then(
      (result) => result.status,
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signalled = Date.now();
    expect(await lb.stop(15_000)).toBe(0);
    const took = Date.now() - signalled;
    expect(await inFlight).toBe('cut');
    expect(took, 'exit after about the shutdown timeout').toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2500);
  });
});
