// The runner's test bed, for the runner-*.test.ts files: a real fn-node on its own SQLite database
// (one per test or one per file). The function processes it runs are found by helpers/proc.ts.
import { afterAll, beforeAll } from 'vitest';
import { ScratchNode } from '../../../helpers/scratch-node.js';
import { FnClient } from '../../../src/common/fn-client.js';
import type { NodeStats } from '../../../src/common/wire.js';

export interface RunnerNode {
  node: ScratchNode;
  api: FnClient;
  stats(): Promise<NodeStats>;
  close(): Promise<void>;
}

/** A node with the process driver (the fixture's default) on a throwaway SQLite file. */
export async function startRunnerNode(env: Record<string, string> = {}): Promise<RunnerNode> {
  const node = await ScratchNode.start({ label: 'runner', env });
  const api = new FnClient(node.url, { timeoutMs: 20_000 });
  return { node, api, stats: () => api.stats(), close: () => node.close() };
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

let counter = 0;
/** An app name unique in this run. */
export function uniqueApp(prefix: string): string {
  counter++;
  return `${prefix}${process.pid}x${counter}`.slice(0, 30);
}
