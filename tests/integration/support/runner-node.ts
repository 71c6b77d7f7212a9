// Shared by the runner-*.test.ts files: a real fn-node on its own SQLite database (one per test or one
// per file), and the function processes it runs, found by pid through /proc (their parent pid and
// FN_CONTAINER_ID).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FnClient } from '../../../helpers/fn-client.js';
import { FnNodeProcess } from '../../../helpers/fn-node-process.js';
import type { NodeStats } from '../../../src/common/wire.js';

export interface RunnerNode {
  node: FnNodeProcess;
  api: FnClient;
  stats(): Promise<NodeStats>;
  close(): Promise<void>;
}

/** A node with the process driver on a throwaway SQLite file. */
export async function startRunnerNode(env: Record<string, string> = {}): Promise<RunnerNode> {
  const dir = mkdtempSync(join(tmpdir(), 'fnguard-runner-'));
  // Explicitly: with a Docker engine on the machine, fn-node's `auto` would pick the docker driver.
  const node = await FnNodeProcess.start({
    dbUrl: `sqlite://${join(dir, 'fn.db')}`,
    cwd: dir,
    env: { FN_DRIVER: 'process', ...env },
  });
  const api = new FnClient(node.url, { timeoutMs: 20_000 });
  return {
    node,
    api,
    stats: () => api.stats(),
    async close() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One node for the whole test file: started before its tests, stopped after them. The handle reaches
 * the node from inside tests and later hooks.
 */
export function runnerNodeForFile(env: Record<string, string> = {}): Omit<RunnerNode, 'close'> {
  let started: RunnerNode | undefined;
  beforeAll(async () => {
    started = await startRunnerNode(env);
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (): RunnerNode => {
    if (started === undefined) throw new Error('runner node used before the file started it');
    return started;
  };
  return {
    get node() {
      return current().node;
    },
    get api() {
      return current().api;
    },
    stats: () => current().stats(),
  };
}

/** Live child processes of `parentPid` that are function instances, by container id. */
export function functionProcesses(parentPid: number): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start after the last ')': state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const id = env.find((line) => line.startsWith('FN_CONTAINER_ID='))?.slice('FN_CONTAINER_ID='.length);
      if (id) found.set(id, Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let counter = 0;
/** An app name unique in this run. */
export function uniqueApp(prefix: string): string {
  counter++;
  return `${prefix}${process.pid}x${counter}`.slice(0, 30);
}
