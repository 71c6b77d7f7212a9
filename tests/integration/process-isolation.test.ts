// What the process driver lets a function do (process-confinement.ts), tried from inside the function:
// as root the node runs it as nobody, who cannot read the node's environment or its files; its open
// files and tasks are bounded; memory is held for the whole process tree; and no instance outlives
// its node, SIGKILL of the node included. Checks that need something this machine lacks (root, a
// writable cgroup hierarchy) are skipped saying which.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childrenOf, exists, functionProcesses } from '../../helpers/proc.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { waitUntil } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';
import type { Instance } from '../../src/node/drivers/driver.js';
import { DEFAULT_OPEN_FILES, DEFAULT_PIDS } from '../../src/node/drivers/process-confinement.js';
import { ProcessDriver } from '../../src/node/drivers/process-driver.js';
import { ImageRegistry } from '../../src/node/drivers/process-registry.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'fnguard-isolation-'));
chmodSync(dir, 0o755);
const secret = join(dir, 'node-secret');
writeFileSync(secret, 'the node only', { mode: 0o600 });

const ready = "require('fs').writeSync(Number(process.env.FN_READY_FD), 'ready\\n');";
const scripts: Record<string, string> = {
  // What the function can see of the node: its identity, the node's environment and a node file.
  'probe.js': `${ready}
    const fs = require('fs');
    const tryRead = (path) => { try { fs.readFileSync(path); return 'read'; } catch (e) { return e.code; } };
    process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(),
      nodeEnviron: tryRead('/proc/' + process.ppid + '/environ'), nodeFile: tryRead(process.env.PROBE_FILE) }) + '\\n');
    process.stdin.resume();`,
  // Opens files until refused.
  'files.js': `${ready}
    const fs = require('fs'); let opened = 0;
    try { for (; opened < 5000; opened++) fs.openSync('/dev/null', 'r'); } catch {}
    process.stdout.write(JSON.stringify({ opened }) + '\\n'); process.stdin.resume();`,
  // Starts child processes until refused.
  'forker.js': `${ready}
    const { spawn } = require('child_process'); let started = 0; let failed = 0; const kids = [];
    const next = () => {
      if (started + failed >= 400 || failed > 0) { process.stdout.write(JSON.stringify({ started }) + '\\n'); return; }
      const kid = spawn('sleep', ['30'], { stdio: 'ignore' });
      kid.once('spawn', () => { started++; kids.push(kid); next(); });
      kid.once('error', () => { failed++; next(); });
    };
    next(); process.stdin.resume();`,
  // A child that holds ever more memory, outside its parent's heap.
  'tree-hog.js': `${ready}
    require('child_process').spawn(process.execPath, ['-e',
      'const held = []; setInterval(() => held.push(Buffer.alloc(8 << 20, 1)), 50)'], { stdio: 'ignore' });
    process.stdin.resume();`,
};
for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, name), text);
writeFileSync(
  join(dir, 'images.json'),
  JSON.stringify({
    images: Object.fromEntries(
      Object.keys(scripts).map((name) => [
        `test/${name.replace('.js', '')}`,
        { command: 'node', args: [`./${name}`], ready: 'fd' },
      ]),
    ),
  }),
);

const driver = new ProcessDriver({
  registry: ImageRegistry.load(join(dir, 'images.json')),
  confinement: { nodeId: `isolation-${process.pid}` },
});
const summary = driver.confinement.summary;
const pidsLimited = /cgroup v\d: [^;]*pids/.test(summary);

afterAll(async () => {
  await driver.close();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const start = (image: string, memoryMb = 128) => {
  const id = `iso${process.pid}x${counter++}`;
  return driver.start({
    id,
    image,
    env: { FN_CONTAINER_ID: id, PROBE_FILE: secret },
    memoryMb,
    cpus: 1,
    labels: {},
  });
};

async function firstLine(instance: Instance): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of instance.stdout) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown>;
}

describe(`process driver instances (${summary})`, () => {
  it.skipIf(!isRoot)(
    'run as nobody when the node is root, and cannot read the node’s environment or files',
    async () => {
      const instance = await start('test/probe');
      const seen = await firstLine(instance);
      await instance.stop();
      expect(seen).toMatchObject({ uid: 65534, gid: 65534, nodeEnviron: 'EACCES', nodeFile: 'EACCES' });
    },
  );

  it(`cannot open more than ${DEFAULT_OPEN_FILES} files`, async () => {
    const instance = await start('test/files');
    const { opened } = (await firstLine(instance)) as { opened: number };
    await instance.stop();
    expect(opened).toBeLessThan(DEFAULT_OPEN_FILES);
    expect(opened).toBeGreaterThan(DEFAULT_OPEN_FILES / 2);
  });

  it.skipIf(!pidsLimited)(`cannot start more than ${DEFAULT_PIDS} tasks`, async () => {
    const instance = await start('test/forker');
    const { started } = (await firstLine(instance)) as { started: number };
    await instance.stop({ force: true });
    expect(started).toBeLessThan(DEFAULT_PIDS);
    expect(started).toBeGreaterThan(10);
  });

  it(`holds its whole process tree to its memory (${driver.memoryMode})`, async () => {
    const instance = await start('test/tree-hog', 96);
    const pid = instance.pid as number;
    // The hog is a grandchild: the watchdog counts the whole tree and ends the instance with it; a
    // memory cgroup has the kernel kill the hog. Unchecked, it would grow until the machine gave out.
    await waitUntil('the hog to start', () => childrenOf(pid).length > 0, 5000);
    await waitUntil('the hog to be stopped', () => !exists(pid) || childrenOf(pid).length === 0, 15_000, 50);
    await instance.stop({ force: true });
  });
});

describe('a node killed with SIGKILL', () => {
  it('leaves no function process behind after 2 s', async () => {
    await using node = await ScratchNode.start({ label: 'orphans' });
    const api = new FnClient(node.url, { timeoutMs: 20_000 });
    const routes = ['/one', '/two', '/three'];
    for (const path of routes)
      await api.send('POST', '/v1/apps/orphans/routes', {
        route: { path, image: 'localhost/fnlb-guard/sleep', format: 'http' },
      });
    const calls = routes.map((path) => api.send('GET', `/r/orphans${path}?ms=10000`).catch(() => undefined));
    await waitUntil('three function processes', () => functionProcesses(node.pid).size === 3, 10_000);
    const pids = [...functionProcesses(node.pid).values()];
    await node.kill();
    await Promise.all(calls);
    await waitUntil(
      'every function process of the killed node to end',
      () => pids.every((pid) => !exists(pid)),
      2000,
    );
  });
});
