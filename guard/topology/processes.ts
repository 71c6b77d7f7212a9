// The `processes` backend: N fn-node processes (process driver) on free 127.0.0.1 ports sharing one
// database, and the balancer under test in front of them: a command line (the balancerCommand
// setting, with the placeholders of balancer-template.ts, run through /bin/sh in its own process group
// and stopped by that group's pid), or this project's fnlb. No Docker needed. The nodes get the
// nodeEnv template's pairs when one is set (placeholders of node-template.ts), on top of what
// fn-node needs here: its database, port, id, loopback and the process driver. Faults reach nodes by
// pid: SIGKILL, SIGTERM, SIGSTOP and SIGCONT, a new process on the same port and node id, one more node
// on the same database.
import { randomBytes } from 'node:crypto';
import { childEnvironment } from '../../helpers/child-env.js';
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FNLB_ENTRY } from '../../helpers/fnlb-process.js';
import { ManagedProcess } from '../../helpers/managed-process.js';
import { freePort } from '../../helpers/ports.js';
import { ScratchDir } from '../../helpers/scratch-node.js';
import { expand, HC_INTERVAL_S, PROJECT_FNLB_ARGS, UPSTREAM_TIMEOUT_S, uses } from './balancer-template.js';
import { DownNodes } from './down-nodes.js';
import type { FnApiChoice } from './fn-api.js';
import { nodeEnvironment } from './node-template.js';
import {
  NO_DISCOVERY,
  OWN_NODE_FAULTS,
  probeCapabilities,
  waitForBalancer,
  waitUntilNodesOnline,
} from './probe.js';
import type { AddedNode, Faults, Topology, TopologyInfo } from './types.js';

export interface ProcessTopologyOptions {
  nodes?: number;
  /** Shared database of the nodes; undefined means one SQLite file in a temporary directory. */
  dbUrl?: string;
  /** The nodes' environment template (node-template.ts); default fn-node's own. */
  nodeEnv?: string;
  /** The balancer command template; default this project's fnlb. */
  balancerCommand?: string;
  /** The Fn API the run speaks (default auto: v1, which fn-node offers beside v2). */
  api?: FnApiChoice;
}

const READY_TIMEOUT_MS = 30_000;

export class ProcessTopology implements Topology {
  private closed = false;
  readonly faults: Faults;
  private readonly down = new DownNodes();
  private readonly added: FnNodeProcess[] = [];

  private constructor(
    private readonly nodes: FnNodeProcess[],
    private readonly balancer: ManagedProcess,
    private readonly options: ProcessTopologyOptions & { dbUrl: string },
    /** Owns every node the topology starts, their restarts and added ones included. */
    private readonly scratch: ScratchDir,
    readonly info: TopologyInfo,
  ) {
    this.faults = this.down.track({
      kill: async (node) => {
        await this.node(node).kill();
      },
      stop: async (node) => {
        await this.node(node).stop(30_000);
      },
      start: (node) => this.startAgain(node),
      freeze: async (node) => this.node(node).freeze(),
      thaw: async (node) => this.node(node).thaw(),
      add: () => this.addNode(),
      discard: async (node) => {
        const index = this.added.findIndex((added) => added.address === node);
        if (index < 0) throw new Error(`${node} was not added by the topology`);
        await this.added[index]?.stop();
        this.added.splice(index, 1);
      },
    });
  }

  static async start(options: ProcessTopologyOptions = {}): Promise<ProcessTopology> {
    const scratch = ScratchDir.create('topology');
    const dbUrl = options.dbUrl ?? scratch.sqliteUrl();
    let balancer: ManagedProcess | undefined;
    try {
      const nodes = await Promise.all(
        Array.from({ length: options.nodes ?? 5 }, () => startTopologyNode(scratch, dbUrl, options.nodeEnv)),
      );
      const custom = options.balancerCommand;
      const template = custom ?? `"${process.execPath}" "${FNLB_ENTRY}" ${PROJECT_FNLB_ARGS}`;
      const source = custom === undefined ? 'the default fnlb command' : 'the balancer command';
      const listen = `127.0.0.1:${await freePort()}`;
      const mgmt = uses(template, 'mgmt') ? `127.0.0.1:${await freePort()}` : listen;
      const command = expand(
        template,
        {
          listen,
          mgmt,
          nodes: nodes.map((node) => node.address),
          hcIntervalS: HC_INTERVAL_S,
          upstreamTimeoutS: UPSTREAM_TIMEOUT_S,
        },
        source,
      );
      balancer = await ManagedProcess.spawn({
        label: `balancer (${command})`,
        shell: command,
        env: balancerEnvironment(custom !== undefined),
        readyUrl: `http://${listen}/`,
        readyOn: 'any-answer',
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
      const partial = {
        lbUrl: `http://${listen}`,
        lbMgmtUrl: `http://${mgmt}`,
        nodes: nodes.map((node) => node.address),
        nodeUrls: nodes.map((node) => node.url),
        appPrefix: `fng${randomBytes(3).toString('hex')}`,
      };
      const api = await waitForBalancer(partial, READY_TIMEOUT_MS, options.api ?? 'auto');
      const probed = await probeCapabilities(partial, {
        missing: 'processes: the nodes run their functions as processes, not containers',
      });
      // fnlb gives a node no traffic until its first health check passes: hand out a ready cluster.
      if (probed.capabilities.mgmtApi) await waitUntilNodesOnline(partial, partial.nodes, READY_TIMEOUT_MS);
      const info: TopologyInfo = {
        kind: 'processes',
        ...partial,
        ...api,
        database: dbUrl.startsWith('sqlite') ? 'sqlite (one file shared by the nodes)' : 'postgres',
        balancer: {
          label: custom === undefined ? 'fnlb (this project)' : `command: ${custom}`,
          hcIntervalS: uses(template, 'hc_interval') ? HC_INTERVAL_S : undefined,
          upstreamTimeoutS: uses(template, 'upstream_timeout') ? UPSTREAM_TIMEOUT_S : undefined,
        },
        nodeBuild: 'fn-node (this project, process driver)',
        capabilities: { ...probed.capabilities, ...OWN_NODE_FAULTS },
        missing: { ...probed.missing, discover: NO_DISCOVERY },
      };
      return new ProcessTopology(nodes, balancer, { ...options, dbUrl }, scratch, info);
    } catch (error) {
      await balancer?.stop();
      await scratch.close();
      throw error;
    }
  }

  private node(address: string): FnNodeProcess {
    const node = [...this.nodes, ...this.added].find((candidate) => candidate.address === address);
    if (node === undefined) throw new Error(`${address} is not a node of this topology`);
    return node;
  }

  private async startAgain(address: string): Promise<void> {
    const index = this.nodes.findIndex((node) => node.address === address);
    const old = this.nodes[index];
    if (old === undefined) throw new Error(`${address} is not a node of this topology`);
    this.nodes[index] = await this.scratch.startAgain(old);
  }

  private async addNode(): Promise<AddedNode> {
    const node = await startTopologyNode(this.scratch, this.options.dbUrl, this.options.nodeEnv);
    this.added.push(node);
    return { address: node.address, url: node.url };
  }

  async restore(): Promise<void> {
    await this.down.restore(async (address) => {
      if (!this.node(address).running) await this.startAgain(address);
    });
    await Promise.allSettled(this.added.splice(0).map((node) => node.stop()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.balancer.stop();
    await this.scratch.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A node of the topology, with the nodeEnv template's pairs filled in for it when there is one; the
 * fixture gives it its database, port, id, loopback and the process driver whatever they say.
 */
async function startTopologyNode(
  scratch: ScratchDir,
  dbUrl: string,
  template: string | undefined,
): Promise<FnNodeProcess> {
  const port = await freePort();
  const nodeId = `node-${port}`;
  const env = template === undefined ? {} : nodeEnvironment(template, { dbUrl, port, nodeId, iofs: '' });
  return scratch.startNode({ dbUrl, env, port, nodeId });
}

/**
 * A command of the user's gets the user's environment, as a shell would give it (without a token:
 * on loopback the guard writes to fnlb's management API unauthenticated); this project's fnlb gets
 * what any child of this project gets.
 */
function balancerEnvironment(usersCommand: boolean): Record<string, string> {
  if (!usersCommand) return childEnvironment({ FNLB_LOG_LEVEL: 'warn' });
  const env: Record<string, string> = { ...(process.env as Record<string, string>), FNLB_LOG_LEVEL: 'warn' };
  delete env.FNLB_MGMT_TOKEN;
  return env;
}
