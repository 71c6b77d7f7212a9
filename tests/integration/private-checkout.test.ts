// A checkout only root may enter (root's home, any `mktemp -d`: 0700) is where CI machines and root
// users put the project. A root node there runs functions as nobody, who cannot read the build: it
// must still run the shipped functions, from a copy nobody can read, and remove that copy when it stops.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FnClient } from '../../src/common/fn-client.js';
import { distPath, PACKAGE } from '../../src/common/package-root.js';

const isRoot = process.getuid?.() === 0;
const stages = () => readdirSync(tmpdir()).filter((entry) => entry.startsWith('fn-node-functions-'));

describe.skipIf(!isRoot)('a root node in a checkout only root may enter (needs root)', () => {
  const checkout = mkdtempSync(join(tmpdir(), 'fnguard-private-'));

  afterAll(() => rmSync(checkout, { recursive: true, force: true }));

  it('runs the shipped functions as nobody from a copy it removes when it stops', async () => {
    expect(statSync(checkout).mode & 0o777, 'mkdtemp makes a folder only its owner may enter').toBe(0o700);
    cpSync(distPath(''), join(checkout, 'dist'), { recursive: true });
    cpSync(join(PACKAGE.root, 'package.json'), join(checkout, 'package.json'));
    symlinkSync(join(PACKAGE.root, 'node_modules'), join(checkout, 'node_modules'));
    const before = stages();
    const node = await FnNodeProcess.start({
      entry: join(checkout, 'dist/src/node/main.js'),
      cwd: checkout,
      env: { FN_DRIVER: 'process', LOG_LEVEL: 'info' },
    });
    try {
      const made = stages().filter((entry) => !before.includes(entry));
      expect(made, 'the copy of the functions the node made').toHaveLength(1);
      expect(node.recentOutput()).toContain(`${join(tmpdir(), made[0] as string)}, a copy nobody can read`);
      const api = new FnClient(node.url, { timeoutMs: 30_000 });
      await api.createRoute('private', {
        path: '/primes',
        image: 'localhost/fnlb-guard/primes',
        format: 'http',
        memory: 128,
      });
      const answer = await api.send('GET', '/r/private/primes?max=1000');
      expect(answer.status, answer.body).toBe(200);
      expect((JSON.parse(answer.body) as { count: number }).count, 'primes up to 1000').toBe(168);
      expect((await node.stop()) ?? 0).toBe(0);
      expect(existsSync(join(tmpdir(), made[0] as string)), 'the copy after the node stopped').toBe(false);
    } finally {
      await node.stop();
    }
  }, 60_000);
});
