// A cluster of this project's own builds for the reliability suite and the soak: one throwaway
// Postgres, N fn-node processes (process driver) on it, and fnlb in front with fast health checks.
// Unlike the shared topology of the integration project it is owned by one file, so its faults may
// reach everything: the database restarted, a node stopped with SIGTERM and started again on the
// same port and id, the balancer restarted on the same port. Each restart waits until the balancer
// takes the node back, and checks that the stopped node left no function instance behind.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FnNodeProcess } from '../../../helpers/fn-node-process.js';
import { FAST_HEALTH_CHECKS, FnlbProcess } from '../../../helpers/fnlb-process.js';
import { type LocalPostgres, startPostgres } from '../../../helpers/postgres.js';
import { alive, descendants } from '../../../helpers/proc.js';
import { ScratchDir } from '../../../helpers/scratch-node.js';
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
    /** The nodes' working directory: it starts them again, and closing it stops them. */
    private readonly scratch: ScratchDir,
    private readonly token: string,
  ) {
    this.lbClient = new FnClient(lb.url, { timeoutMs: 30_000 });
  }

  static async start(options: ClusterOptions = {}): Promise<ReliabilityCluster> {
    const scratch = ScratchDir.create('reliability');
    let postgres: LocalPostgres | undefined;
    let lb: FnlbProcess | undefined;
    try {
      postgres = await startPostgres();
      const nodes = await scratch.startNodes(options.nodes ?? 3, {
        dbUrl: postgres.url,
        env: options.nodeEnv ?? {},
      });
      const token = randomBytes(12).toString('hex');
      lb = await startBalancer(nodes, token);
      const cluster = new ReliabilityCluster(postgres, nodes, lb, scratch, token);
      await cluster.waitAllOnline();
      return cluster;
    } catch (error) {
      await lb?.stop().catch(() => {});
      await scratch.close();
      await postgres?.close();
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
    this.nodes[index] = await this.scratch.startAgain(old);
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
    await this.scratch.close();
    await this.postgres.close();
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
