// A cluster of this project's own builds for the reliability suite and the soak: one throwaway
// Postgres, N fn-node processes (process driver) on it, and fnlb in front with fast health checks.
// Unlike the shared topology of the integration project it is owned by one file, so its faults may
// reach everything: the database restarted, a node stopped with SIGTERM and started again on the
// same port and id, the balancer restarted on the same port. Each restart waits until the balancer
// takes the node back, and checks that the stopped node left no function instance behind.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNode } from '../../../guard/topology/processes.js';
import type { FnNodeProcess } from '../../../helpers/fn-node-process.js';
import { FAST_HEALTH_CHECKS, FnlbProcess } from '../../../helpers/fnlb-process.js';
import { type LocalPostgres, startPostgres } from '../../../helpers/postgres.js';
import { alive, descendants } from '../../../helpers/proc.js';
import { FnClient } from '../../../src/common/fn-client.js';

export interface ClusterOptions {
  nodes?: number;
  /** Environment of every node (FN_MEMORY_MB, FN_SHUTDOWN_TIMEOUT, ...). */
  nodeEnv?: Record<string, string>;
}

/** A stopped node's function instances must be gone this soon after it exited. */
const ORPHAN_DEADLINE_MS = 2000;
const NODE_STOP_GRACE_MS = 40_000;
const ONLINE_TIMEOUT_MS = 15_000;

export class ReliabilityCluster {
  readonly lbClient: FnClient;
  /** Restarts so far, by what was restarted: the soak prints them. */
  readonly restarts = { nodes: 0, balancer: 0, database: 0 };

  private constructor(
    readonly postgres: LocalPostgres,
    readonly nodes: FnNodeProcess[],
    public lb: FnlbProcess,
    private readonly nodeEnv: Record<string, string>,
    private readonly scratchDir: string,
    private readonly token: string,
  ) {
    this.lbClient = new FnClient(lb.url, { timeoutMs: 30_000 });
  }

  static async start(options: ClusterOptions = {}): Promise<ReliabilityCluster> {
    const scratchDir = mkdtempSync(join(tmpdir(), 'fnguard-reliability-'));
    const nodeEnv = options.nodeEnv ?? {};
    const nodes: FnNodeProcess[] = [];
    let postgres: LocalPostgres | undefined;
    let lb: FnlbProcess | undefined;
    try {
      postgres = await startPostgres();
      const dbUrl = postgres.url;
      const started = await Promise.allSettled(
        Array.from({ length: options.nodes ?? 3 }, () => startNode(dbUrl, scratchDir, nodeEnv)),
      );
      for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      const token = randomBytes(12).toString('hex');
      lb = await startBalancer(nodes, token);
      const cluster = new ReliabilityCluster(postgres, nodes, lb, nodeEnv, scratchDir, token);
      await cluster.waitAllOnline();
      return cluster;
    } catch (error) {
      await lb?.stop().catch(() => {});
      await Promise.allSettled(nodes.map((node) => node.stop()));
      await postgres?.close();
      rmSync(scratchDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Until the balancer reports every node online. */
  async waitAllOnline(): Promise<void> {
    const wanted = new Set(this.nodes.map((node) => node.address));
    await this.lb.waitNodes(
      'every node online',
      (status) => [...wanted].every((address) => status[address] === 'online'),
      ONLINE_TIMEOUT_MS,
    );
  }

  /**
   * SIGTERM (the node drains, the balancer sends its calls elsewhere), then the same port and id
   * again, back once the balancer has it online (`started` is told of the new process first). Throws when the node did not exit 0 or one of its
   * function instances outlived it.
   */
  async restartNode(index: number, started?: (node: FnNodeProcess) => void): Promise<void> {
    const old = this.nodes[index];
    if (old === undefined) throw new Error(`no node ${index}`);
    const instances = descendants(old.pid);
    const code = await old.stop(NODE_STOP_GRACE_MS);
    if (code !== 0) throw new Error(`${old.address} exited ${code} after SIGTERM:\n${old.recentOutput()}`);
    await sleep(ORPHAN_DEADLINE_MS);
    const orphans = instances.filter(alive);
    if (orphans.length > 0) {
      throw new Error(`${old.address}: ${orphans.length} instance(s) outlived the node: pids ${orphans}`);
    }
    this.nodes[index] = await startNode(
      this.postgres.url,
      this.scratchDir,
      this.nodeEnv,
      old.port,
      old.nodeId,
    );
    this.restarts.nodes++;
    // Before the balancer sends it anything (what the soak measures its descriptors against).
    started?.(this.nodes[index] as FnNodeProcess);
    await this.waitAllOnline();
  }

  /** SIGTERM (fnlb drains its calls in flight), then the same port again. */
  async restartBalancer(): Promise<void> {
    const code = await this.lb.stop(NODE_STOP_GRACE_MS);
    if (code !== 0) throw new Error(`fnlb exited ${code} after SIGTERM:\n${this.lb.recentOutput()}`);
    this.lb = await startBalancer(this.nodes, this.token, this.lb.port);
    this.restarts.balancer++;
    await this.waitAllOnline();
  }

  /** Stops Postgres (fast shutdown: the nodes' sessions are cut), waits `downMs`, starts it again. */
  async restartDatabase(downMs: number): Promise<void> {
    await this.postgres.stop();
    await sleep(downMs);
    await this.postgres.start();
    this.restarts.database++;
  }

  async close(): Promise<void> {
    await this.lb.stop().catch(() => {});
    await Promise.allSettled(this.nodes.map((node) => node.stop(NODE_STOP_GRACE_MS)));
    await this.postgres.close();
    rmSync(this.scratchDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function startBalancer(nodes: FnNodeProcess[], token: string, port?: number): Promise<FnlbProcess> {
  return FnlbProcess.start({
    nodes: nodes.map((node) => node.address),
    token,
    flags: [...FAST_HEALTH_CHECKS, '-upstream-timeout', '20'],
    ...(port === undefined ? {} : { port }),
  });
}
