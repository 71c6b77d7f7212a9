// The helpers' scratch fn-nodes and the environment of what they start, with real processes: a
// scratch directory is the nodes' working directory and SQLite file and is gone once closed (a failed
// start included), a node starts again at its address, and a variable of the test process reaches a
// node or a balancer only when passed to it.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FnlbProcess } from '../../helpers/fnlb-process.js';
import { exists } from '../../helpers/proc.js';
import { ScratchDir, ScratchNode } from '../../helpers/scratch-node.js';
import { FnClient } from '../../src/common/fn-client.js';

/** The variables a process was started with. */
function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(
    entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** Sets `variables` in the test process for the duration of `work`. */
async function withTestEnvironment<T>(variables: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Directories in the OS's temporary directory whose names start fnguard-<label>-. */
const scratchDirs = (label: string) =>
  readdirSync(tmpdir()).filter((name) => name.startsWith(`fnguard-${label}-`));

describe('a scratch node', () => {
  it('runs in its own directory, on a SQLite file there, and removes the directory when closed', async () => {
    const node = await ScratchNode.start({ label: 'scratch-own' });
    const dir = node.dir.path;
    expect(readlinkSync(`/proc/${node.pid}/cwd`)).toBe(dir);
    expect(environOf(node.pid)).toMatchObject({ DB_URL: `sqlite://${dir}/fn.db`, FN_DRIVER: 'process' });
    expect(existsSync(`${dir}/fn.db`)).toBe(true);
    expect(await node.stop()).toBe(0);
    expect(existsSync(dir), 'the directory after stop').toBe(false);
    await node.close();
    expect(node.running).toBe(false);
  });

  it('is removed with its directory at the end of an `await using` scope', async () => {
    let dir = '';
    let pid = 0;
    {
      await using node = await ScratchNode.start({ label: 'scratch-using' });
      dir = node.dir.path;
      pid = node.pid;
    }
    expect(existsSync(dir)).toBe(false);
    expect(exists(pid)).toBe(false);
  });

  it('leaves no directory behind when the node fails to start', async () => {
    const label = `scratch-fails-${process.pid}`;
    await expect(ScratchNode.start({ label, env: { FN_MAX_STARTS: 'many' } })).rejects.toThrow(
      /exited before it was ready[\s\S]*FN_MAX_STARTS/,
    );
    expect(scratchDirs(label)).toEqual([]);
  });
});

describe('a scratch directory', () => {
  it('gives its nodes one database, starts one again at its address, and stops them all when closed', async () => {
    const scratch = ScratchDir.create('scratch-shared');
    const [first, second] = await scratch.startNodes(2);
    if (first === undefined || second === undefined) throw new Error('two nodes expected');
    await new FnClient(first.url, { timeoutMs: 10_000 }).createApp('shared');
    expect(
      (await new FnClient(second.url, { timeoutMs: 10_000 }).send('GET', '/v1/apps/shared')).status,
    ).toBe(200);

    await expect(scratch.startAgain(second), 'a node still running').rejects.toThrow(/is running/);
    await second.stop();
    const again = await scratch.startAgain(second);
    expect([again.port, again.nodeId, again.pid === second.pid]).toEqual([second.port, second.nodeId, false]);
    expect((await new FnClient(again.url, { timeoutMs: 10_000 }).send('GET', '/v1/apps/shared')).status).toBe(
      200,
    );

    await scratch.close();
    expect(existsSync(scratch.path)).toBe(false);
    expect([first.running, again.running]).toEqual([false, false]);
    await scratch.close();
    await expect(scratch.startNode()).rejects.toThrow(/is closed/);
  });
});

describe("a started program's environment", () => {
  it("holds what any program needs and what it was given, never the test process's own variables", async () => {
    await withTestEnvironment(
      { FN_TEST_OPAQUE: '1', FNG_PROBE: 'leaked', FNLB_MGMT_TOKEN: 'leaked', NODE_OPTIONS: '--no-warnings' },
      async () => {
        await using node = await ScratchNode.start({ label: 'scratch-env', env: { FN_MAX_QUEUE: '7' } });
        const seen = environOf(node.pid);
        expect(seen).toMatchObject({ FN_MAX_QUEUE: '7', PATH: process.env.PATH });
        for (const name of ['FN_TEST_OPAQUE', 'FNG_PROBE', 'FNLB_MGMT_TOKEN', 'NODE_OPTIONS'])
          expect(seen[name], name).toBeUndefined();
        // Not opaque, whatever the test process says: it serves /stats and names itself.
        const stats = await new FnClient(node.url, { timeoutMs: 10_000 }).send('GET', '/stats');
        expect(stats.status).toBe(200);

        await using lb = await FnlbProcess.start({ nodes: [node.address] });
        expect(environOf(lb.pid).FNG_PROBE).toBeUndefined();
        // No token of the test process's: the management API answers without one.
        expect((await lb.manage('GET', '/1/lb/nodes', undefined, null)).status).toBe(200);
      },
    );
  });
});
