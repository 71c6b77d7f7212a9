// The process driver on its own, with real child processes: a registry file's entries, readiness,
// the environment an instance gets, the memory watchdog, and stop semantics.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exists, functionProcesses } from '../../helpers/proc.js';
import { orAfter } from '../../src/common/deadline.js';
import { StartError, UnknownImageError } from '../../src/node/drivers/driver.js';
import { ProcessDriver } from '../../src/node/drivers/process-driver.js';
import { ImageRegistry } from '../../src/node/drivers/process-registry.js';

const dir = mkdtempSync(join(tmpdir(), 'fnguard-driver-'));
// Root runs functions as nobody, who must be able to read their code.
chmodSync(dir, 0o755);
writeFileSync(
  join(dir, 'hog.js'),
  // Signals readiness, then holds ever more memory outside the V8 heap (which the heap flag cannot stop).
  `require('fs').writeSync(Number(process.env.FN_READY_FD), 'ready\\n');
   const held = []; setInterval(() => held.push(Buffer.alloc(16 << 20, 1)), 20);`,
);
writeFileSync(
  join(dir, 'env.js'),
  `process.stdout.write(JSON.stringify(process.env)); process.stdin.resume();`,
);
writeFileSync(join(dir, 'mute.js'), 'setInterval(() => {}, 1000);');
writeFileSync(
  join(dir, 'images.json'),
  JSON.stringify({
    images: {
      'test/hog': { command: 'node', args: ['./hog.js'], ready: 'fd' },
      'test/env': { command: 'node', args: ['./env.js'] },
      'test/mute': { command: 'node', args: ['./mute.js'], ready: 'fd' },
    },
  }),
);

const driver = new ProcessDriver({
  registry: ImageRegistry.load(join(dir, 'images.json')),
  readyTimeoutMs: 1500,
  confinement: { nodeId: `driver-test-${process.pid}` },
});

afterAll(async () => {
  await driver.close();
  rmSync(dir, { recursive: true, force: true });
});

const spec = (image: string, memoryMb = 128) => {
  const id = `c${Math.random().toString(16).slice(2, 10)}`;
  return {
    id,
    image,
    env: { FN_FORMAT: 'http', HOSTNAME: 'node-x', FN_CONTAINER_ID: id },
    memoryMb,
    labels: {},
  };
};

describe('process driver', () => {
  it('gives an instance only its function environment and PATH', async () => {
    const instance = await driver.start(spec('test/env'));
    let text = '';
    for await (const chunk of instance.stdout) {
      text += chunk.toString();
      if (text.endsWith('}')) break;
    }
    await instance.stop();
    const env = JSON.parse(text) as Record<string, string>;
    expect(env).toMatchObject({ FN_FORMAT: 'http', HOSTNAME: 'node-x' });
    const expected = ['FN_CONTAINER_ID', 'FN_FORMAT', 'HOSTNAME', ...(process.env.PATH ? ['PATH'] : [])];
    expect(Object.keys(env).sort()).toEqual(expected);
  });

  it(`kills an instance whose memory passes its limit (${driver.memoryMode} mode)`, async () => {
    const instance = await driver.start(spec('test/hog', 96));
    const exit = await orAfter<unknown>(instance.exited, 10_000, 'still running after 10 s');
    expect(exit).toMatchObject({ reason: 'memory' });
    expect(exists(instance.pid as number), `the instance's process ${instance.pid} is gone`).toBe(false);
  });

  it('fails a start that never signals readiness, and leaves no process behind', async () => {
    const mute = spec('test/mute');
    const failure = await driver.start(mute).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartError);
    expect(String(failure)).toMatch(/did not signal readiness within 1500 ms/);
    expect(functionProcesses(process.pid).has(mute.id), 'no process of the start that failed is left').toBe(
      false,
    );
  });

  it('refuses an unknown image before spawning anything', async () => {
    await expect(driver.start(spec('test/none:1'))).rejects.toBeInstanceOf(UnknownImageError);
  });

  it('stops idempotently, killing at once when forced', async () => {
    const instance = await driver.start(spec('test/hog', 4096));
    const [first, second] = await Promise.all([instance.stop({ force: true }), instance.stop()]);
    expect(first).toEqual(second);
    expect(first).toMatchObject({ signal: 'SIGKILL', reason: 'stopped' });
    expect(exists(instance.pid as number), `the instance's process ${instance.pid} is gone`).toBe(false);
  });
});
