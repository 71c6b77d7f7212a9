// fnlb's integration fixture: the processes topology (N real fn-node processes with the process
// driver, a real fnlb in front) on one scratch Postgres database, and two featherweight function images so that
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
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import type { FnlbProcess } from '../../helpers/fnlb-process.js';
import { FAST_HEALTH_CHECKS, ProcessTopology } from '../../helpers/topology/processes.js';
import { FN_HEADERS } from '../../src/common/wire.js';

export const IMAGES = { cat: 'fnguard-lb/cat', nap: 'fnguard-lb/nap' } as const;

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

/** The processes topology on a scratch Postgres database, with the featherweight images registered. */
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
  try {
    db = await createScratchDatabase(inject('pgUrl'), 'lb');
    const topology = await ProcessTopology.start({
      nodes: options.nodes ?? 5,
      dbUrl: db.url,
      nodeEnv: { FN_PROCESS_IMAGES: registry, FN_MEMORY_MB: '4096' },
      lbArgs: [...FAST_HEALTH_CHECKS, ...(options.lbFlags ?? [])],
      ...(options.token === undefined ? {} : { token: options.token }),
    });
    const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
    const database = db;
    return {
      nodes: topology.nodes,
      lb: topology.lb,
      api: new FnClient(topology.nodes[0]?.url as string, { timeoutMs: 10_000 }),
      client: new FnClient(topology.lb.url, { timeoutMs: 30_000, dispatcher: agent }),
      startNode: (port) => topology.startNode(port),
      close: async () => {
        await topology.close();
        await agent.close();
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
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

export function countBy<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
