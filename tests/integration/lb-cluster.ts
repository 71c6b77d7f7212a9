// fnlb's integration fixture: N real fn-node processes (process driver) on one scratch Postgres
// database, a real fnlb process in front of them, and two featherweight function images so that
// thousands of calls cost milliseconds each: `cat` (echoes the body) and `nap` (sleeps NAP seconds
// from the route config, then echoes). Both use the `default` format, a fresh process per call, so
// a node holds no hot containers between tests and a killed node leaves nothing behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { inject } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../helpers/databases.js';
import { FnClient, type HttpResult } from '../../helpers/fn-client.js';
import { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FnlbProcess } from '../../helpers/fnlb-process.js';
import { FN_HEADERS } from '../../src/common/wire.js';

export const IMAGES = { cat: 'fnguard-lb/cat', nap: 'fnguard-lb/nap' } as const;

/** Health checks every 200 ms: a node that dies or joins is noticed within a fraction of a second. */
export const FAST_CHECKS = ['-hc-interval', '0.2', '-hc-timeout', '1'];

export interface LbCluster {
  nodes: FnNodeProcess[];
  lb: FnlbProcess;
  /** Fn API of the first node, for creating routes. */
  api: FnClient;
  /** Calls through the balancer over one keep-alive agent. */
  client: FnClient;
  /** Starts one more node on the same database; fnlb learns of it only if told. */
  startNode(port?: number): Promise<FnNodeProcess>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  lbFlags?: string[];
  token?: string;
}

export async function startLbCluster(options: ClusterOptions = {}): Promise<LbCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fnguard-lb-'));
  const registry = join(dir, 'images.json');
  writeFileSync(
    registry,
    JSON.stringify({
      images: {
        [IMAGES.cat]: { command: '/bin/cat' },
        [IMAGES.nap]: {
          command: '/bin/sh',
          args: ['-c', 'if [ -n "$NAP" ]; then sleep "$NAP"; fi; exec cat'],
        },
      },
    }),
  );
  let db: ScratchDatabase | undefined;
  const nodes: FnNodeProcess[] = [];
  let lb: FnlbProcess | undefined;
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  const startNode = async (port?: number) => {
    const node = await FnNodeProcess.start({
      dbUrl: (db as ScratchDatabase).url,
      cwd: dir,
      ...(port === undefined ? {} : { port }),
      env: { FN_DRIVER: 'process', FN_PROCESS_IMAGES: registry, FN_MEMORY_MB: '4096' },
    });
    nodes.push(node);
    return node;
  };
  const close = async () => {
    await lb?.stop();
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await agent.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    db = await createScratchDatabase(inject('pgUrl'), 'lb');
    // The first node applies the schema; the others start on a migrated database.
    await startNode();
    await Promise.all(Array.from({ length: (options.nodes ?? 5) - 1 }, () => startNode()));
    const addresses = nodes.map((node) => node.address);
    lb = await FnlbProcess.start({
      nodes: addresses,
      flags: [...FAST_CHECKS, ...(options.lbFlags ?? [])],
      ...(options.token === undefined ? {} : { token: options.token }),
    });
    await lb.waitNodes('every node online', (view) => addresses.every((node) => view[node] === 'online'));
    return {
      nodes,
      lb,
      api: new FnClient(nodes[0]?.url as string, { timeoutMs: 10_000 }),
      client: new FnClient(lb.url, { timeoutMs: 30_000, dispatcher: agent }),
      startNode,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The node that served a call through fnlb, checked against the node's own Fn-Node header. */
export function servedBy(result: HttpResult, nodes: readonly FnNodeProcess[]): string {
  const lbNode = result.headers[FN_HEADERS.lbNode];
  if (lbNode === undefined)
    throw new Error(`no ${FN_HEADERS.lbNode} header: ${result.status} ${result.body}`);
  const node = nodes.find((candidate) => candidate.address === lbNode);
  if (node !== undefined && result.status === 200 && result.headers[FN_HEADERS.node] !== node.nodeId) {
    throw new Error(`fnlb says ${lbNode} but the node says ${result.headers[FN_HEADERS.node]}`);
  }
  return lbNode;
}

/** Runs `work` over `items` with at most `concurrency` at once, in order of the items. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export function countBy<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
