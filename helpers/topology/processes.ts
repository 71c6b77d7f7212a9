// The `processes` backend: N fn-node processes (process driver) on free 127.0.0.1 ports sharing one
// database, and one fnlb in front of them. No Docker needed. The handles let failover and
// membership tests kill, add and remove nodes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FnNodeProcess } from '../fn-node-process.js';
import { FnlbProcess } from '../fnlb-process.js';
import type { Topology, TopologyInfo } from './types.js';

export interface ProcessTopologyOptions {
  nodes?: number;
  /** Shared database of the nodes; undefined means one SQLite file in a temporary directory. */
  dbUrl?: string;
  /** Environment for every node (for example FN_MEMORY_MB). */
  nodeEnv?: Record<string, string>;
  /** fnlb flags; default FAST_HEALTH_CHECKS. */
  lbArgs?: string[];
  /** FNLB_MGMT_TOKEN for the balancer; its management helpers send it. */
  token?: string;
}

/** Health checks every 200 ms so a killed or added node is noticed within a fraction of a second. */
export const FAST_HEALTH_CHECKS = ['-hc-interval', '0.2', '-hc-timeout', '1'];

export class ProcessTopology implements Topology {
  private closed = false;

  private constructor(
    readonly nodes: FnNodeProcess[],
    readonly lb: FnlbProcess,
    private readonly options: ProcessTopologyOptions & { dbUrl: string },
    private readonly scratchDir: string,
    readonly info: TopologyInfo,
  ) {}

  static async start(options: ProcessTopologyOptions = {}): Promise<ProcessTopology> {
    const scratchDir = mkdtempSync(join(tmpdir(), 'fnguard-topology-'));
    const dbUrl = options.dbUrl ?? `sqlite://${join(scratchDir, 'fn.db')}`;
    const settled = await Promise.allSettled(
      Array.from({ length: options.nodes ?? 5 }, () => startNode(dbUrl, scratchDir, options.nodeEnv)),
    );
    const nodes = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    let lb: FnlbProcess | undefined;
    try {
      if (failed) throw failed.reason;
      lb = await FnlbProcess.start({
        nodes: nodes.map((node) => node.address),
        flags: options.lbArgs ?? FAST_HEALTH_CHECKS,
        ...(options.token === undefined ? {} : { token: options.token }),
      });
      // New nodes get no traffic until their first health check passes: hand out a ready cluster.
      const addresses = nodes.map((node) => node.address);
      await lb.waitNodes('every node online', (view) => addresses.every((node) => view[node] === 'online'));
      const info: TopologyInfo = {
        kind: 'processes',
        lbUrl: lb.url,
        lbMgmtUrl: lb.url,
        nodes: nodes.map((node) => node.address),
        nodeUrls: nodes.map((node) => node.url),
        appPrefix: `fng${randomBytes(3).toString('hex')}`,
        database: dbUrl.startsWith('sqlite') ? 'sqlite (one file shared by the nodes)' : 'postgres',
      };
      return new ProcessTopology(nodes, lb, { ...options, dbUrl }, scratchDir, info);
    } catch (error) {
      await Promise.allSettled([...nodes.map((node) => node.stop()), lb?.stop()]);
      rmSync(scratchDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Starts one more node on the same database; the balancer learns of it only if told. */
  async startNode(port?: number): Promise<FnNodeProcess> {
    const node = await startNode(this.options.dbUrl, this.scratchDir, this.options.nodeEnv, port);
    this.nodes.push(node);
    return node;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lb.stop();
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    rmSync(this.scratchDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function startNode(
  dbUrl: string,
  cwd: string,
  env: Record<string, string> = {},
  port?: number,
): Promise<FnNodeProcess> {
  return FnNodeProcess.start({
    dbUrl,
    cwd,
    env: { FN_DRIVER: 'process', ...env },
    ...(port === undefined ? {} : { port }),
  });
}
