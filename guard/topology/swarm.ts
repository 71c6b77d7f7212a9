// The `swarm` backend: the system as a Docker Swarm stack on the local engine (deploy/swarm/stack.yml
// with publish-nodes.yml, through guard/topology/swarm-stack.ts): swarm mode turned on when the engine is not in a
// swarm, and left again at close; 5 fn-node replicas that fnlb finds through Swarm's own DNS
// (tasks.fn-node); every replica reached from here at a host port of its own, fnlb at one more, its
// management API behind a per-run token.
//
// Faults go through the engine and the orchestrator, as they happen on a real cluster. kill and stop
// end a task's container, and Swarm starts a new task in its slot, at a new address: the same node never
// comes back, so there is no start, and restore() waits for the replacements, names them in `info` (the
// next guard file reads it) and takes what the balancer still lists of the old addresses out of it. A
// task Swarm replaced on its own between files (a failed health check) is said and named the same way.
// Swarm waits 10 s before it replaces a task (the stack's restart delay), so a replacement never joins
// under a failover's load: that load measures a node leaving, not another joining. add() scales the
// service up by one and fnlb finds the new task by itself (discover); discard() stops that task and
// scales the service down while its slot is empty, so Swarm removes that slot and not a running one
// of its choosing.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { waitUntil } from '../../helpers/wait.js';
import { EngineProxy } from '../measure/engine-proxy.js';
import type { GuardSettings } from '../settings/resolve.js';
import { HC_INTERVAL_S, UPSTREAM_TIMEOUT_S } from './balancer-template.js';
import { DownNodes } from './down-nodes.js';
import { type ImageSettings, prepareImages } from './images.js';
import { LbManagement } from './lb-management.js';
import { probeCapabilities, waitForBalancer, waitUntilNodesOnline } from './probe.js';
import { type NodeEndpoint, SwarmStack } from './swarm-stack.js';
import type { AddedNode, Faults, Topology, TopologyInfo } from './types.js';

const REPLICAS = 5;
const DNS_INTERVAL_S = 2;
const RESTART_DELAY = '10s';
/** A stack's first start: Postgres initialises its volume while the nodes retry it. */
const DEPLOY_TIMEOUT_MS = 150_000;
/** A task Swarm starts in place of another, or one more after a scale: the delay, then its start. */
const TASK_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_S = 30;
const NODE_CALL_TIMEOUT_MS = 2000;
/** How often a wait looks at the tasks: also how late add() may see a new task become healthy. */
const POLL_MS = 200;

/** What the swarm topology reads of the settings. */
export type SwarmSettings = Pick<GuardSettings, 'dockerHost' | 'api' | keyof ImageSettings>;

/** Whether a node answers a call that needs its database (GET /v1/apps), not only /version. */
async function serves(endpoint: NodeEndpoint): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint.url}/v1/apps`, {
      signal: AbortSignal.timeout(NODE_CALL_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export class SwarmTopology implements Topology {
  readonly faults: Faults;
  readonly #down = new DownNodes();
  readonly #stack: SwarmStack;
  readonly #mgmt: LbManagement;
  readonly #engine: Docker;
  /** The engine as the nodes reach it: the recording proxy (guard/measure/engine-proxy.ts). */
  readonly #engineProxy: EngineProxy;
  #info: TopologyInfo;
  /** The running tasks as the suite knows them, `info.nodes` first, then those add() started. */
  #endpoints: NodeEndpoint[];
  #added: NodeEndpoint[] = [];
  #closing: Promise<void> | undefined;

  private constructor(
    stack: SwarmStack,
    info: TopologyInfo,
    endpoints: NodeEndpoint[],
    engine: Docker,
    engineProxy: EngineProxy,
  ) {
    this.#engine = engine;
    this.#engineProxy = engineProxy;
    this.#stack = stack;
    this.#info = info;
    this.#endpoints = endpoints;
    this.#mgmt = new LbManagement(info);
    process.once('exit', this.#removeOnExit);
    const container = (node: string) => this.#engine.getContainer(this.#endpoint(node).container);
    this.faults = this.#down.track({
      kill: async (node) => {
        await container(node).kill();
        await container(node).wait();
      },
      stop: async (node) => {
        await container(node).stop({ t: STOP_TIMEOUT_S });
      },
      add: () => this.#add(),
      discard: (node) => this.#discard(node),
    });
  }

  get info(): TopologyInfo {
    return this.#info;
  }

  static async start(settings: SwarmSettings): Promise<SwarmTopology> {
    const began = Date.now();
    const socketPath = settings.dockerHost;
    const engine = new Docker({ socketPath });
    const images = await prepareImages(engine, settings);
    const token = randomBytes(12).toString('hex');
    const engineProxy = await EngineProxy.inTempDir(socketPath, 'swarm');
    const stack = await SwarmStack.deploy({
      engineSocket: socketPath,
      replicas: REPLICAS,
      dnsIntervalS: DNS_INTERVAL_S,
      postgresImage: images.postgres,
      publishNodes: true,
      variables: {
        FN_NODE_IMAGE: images.node,
        FNLB_IMAGE: images.balancer,
        FNLB_MGMT_TOKEN: token,
        FN_HC_INTERVAL: String(HC_INTERVAL_S),
        FN_UPSTREAM_TIMEOUT: String(UPSTREAM_TIMEOUT_S),
        FN_NODE_RESTART_DELAY: RESTART_DELAY,
        // The stack runs on this host's engine, so its nodes can reach the proxy's socket here.
        FN_ENGINE_SOCKET: engineProxy.socketPath,
      },
    }).catch(async (error: Error) => {
      await engineProxy.close();
      throw error;
    });
    try {
      const endpoints = await waitForTasks(stack, REPLICAS, [], DEPLOY_TIMEOUT_MS);
      const partial = {
        lbUrl: stack.lbUrl,
        lbMgmtUrl: stack.lbUrl,
        mgmtToken: token,
        nodes: endpoints.map((endpoint) => endpoint.address),
        nodeUrls: endpoints.map((endpoint) => endpoint.url),
        appPrefix: stack.name,
        functionImages: settings.functionImages,
      };
      const api = await waitForBalancer(partial, DEPLOY_TIMEOUT_MS, settings.api);
      const probed = await probeCapabilities(partial, { socketPath });
      await waitUntilNodesOnline(partial, partial.nodes, DEPLOY_TIMEOUT_MS);
      console.log(`[swarm] stack ${stack.name} up, the balancer answers (${Date.now() - began} ms)`);
      const info: TopologyInfo = {
        kind: 'swarm',
        ...partial,
        ...api,
        database: `postgres (${images.postgres}, a service of the stack)`,
        balancer: {
          label: `${images.projectBalancer ? 'fnlb (this project' : `image: ${images.balancer} (`}, a Swarm service finding the nodes at tasks.fn-node)`,
          hcIntervalS: HC_INTERVAL_S,
          upstreamTimeoutS: UPSTREAM_TIMEOUT_S,
          dnsIntervalS: DNS_INTERVAL_S,
        },
        nodeBuild: `${images.projectNode ? 'fn-node (this project, docker driver)' : `image: ${images.node}`}, a Swarm service of ${REPLICAS} replicas`,
        capabilities: {
          ...probed.capabilities,
          kill: true,
          stop: true,
          start: false,
          add: true,
          freeze: false,
          restore: true,
          discover: true,
        },
        missing: {
          ...probed.missing,
          freeze:
            'swarm: a paused task fails its health check and Swarm replaces it, so a frozen node never thaws',
          start:
            'swarm: Swarm replaces a task that ended with a new one at another address, so the same node never comes back',
        },
        ...(probed.capabilities.engineEvents
          ? { engine: { socketPath, createLog: engineProxy.logPath } }
          : {}),
      };
      return new SwarmTopology(stack, info, endpoints, engine, engineProxy);
    } catch (error) {
      await stack.remove().catch((removal: Error) => console.warn(`[swarm] ${removal.message}`));
      await engineProxy.close();
      throw error;
    }
  }

  #endpoint(address: string): NodeEndpoint {
    const endpoint = [...this.#endpoints, ...this.#added].find((known) => known.address === address);
    if (endpoint === undefined) throw new Error(`${address} is not a node of this topology`);
    return endpoint;
  }

  async #add(): Promise<AddedNode> {
    const known = [...this.#endpoints, ...this.#added];
    await this.#stack.scale('fn-node', known.length + 1);
    const now = await waitForTasks(this.#stack, known.length + 1, [], TASK_TIMEOUT_MS);
    const fresh = now.find((endpoint) => !known.some((old) => old.container === endpoint.container));
    if (fresh === undefined) throw new Error('swarm: scaling up started no new task');
    this.#added.push(fresh);
    const findableAt = await this.#stack.healthySince(fresh.container);
    return { address: fresh.address, url: fresh.url, ...(findableAt ? { findableAt } : {}) };
  }

  async #discard(address: string): Promise<void> {
    const index = this.#added.findIndex((added) => added.address === address);
    if (index < 0) throw new Error(`${address} was not added by the topology`);
    const [gone] = this.#added.splice(index, 1) as [NodeEndpoint];
    await this.#engine.getContainer(gone.container).stop({ t: STOP_TIMEOUT_S });
    // Within the restart delay its slot holds no running task: scaling down removes that slot first.
    await this.#stack.scale('fn-node', this.#endpoints.length + this.#added.length);
    const now = await waitForTasks(
      this.#stack,
      this.#endpoints.length + this.#added.length,
      [],
      TASK_TIMEOUT_MS,
    );
    const kept = [...this.#endpoints, ...this.#added].filter(
      (endpoint) => !now.some((running) => running.container === endpoint.container),
    );
    if (kept.length > 0) {
      throw new Error(
        `swarm: scaling down removed ${kept.map((endpoint) => endpoint.address).join(', ')} instead of ${address}`,
      );
    }
  }

  /**
   * Waits for a task in place of every node a fault ended (Swarm starts them), names the running tasks
   * in `info`, takes old addresses the balancer still lists out of it, and scales back to 5.
   */
  async restore(): Promise<void> {
    const replaced = new Set<string>();
    await this.#down.restore(async (node) => void replaced.add(node));
    for (const added of [...this.#added]) await this.#discard(added.address);
    if (replaced.size > 0) await this.#takeReplacements(replaced, 'after the fault');
  }

  /**
   * Between files: a task Swarm replaced although no fault ended it (its health check failed, or it
   * crashed) is said loudly and its replacement named, so the next file judges the cluster as it is.
   */
  async refresh(): Promise<void> {
    if (this.#added.length > 0 || this.#down.pending()) return;
    // By `docker ps` alone: an inspect that fails on a busy engine must not read as a task gone.
    const running = new Set(await this.#stack.containers('fn-node'));
    const gone = this.#endpoints.filter((endpoint) => !running.has(endpoint.container));
    if (gone.length === 0) return;
    console.warn(
      `[swarm] ${gone.map((endpoint) => endpoint.address).join(', ')} ended without a fault (Swarm replaces a task whose health check fails, or that exits)`,
    );
    await this.#takeReplacements(new Set(gone.map((endpoint) => endpoint.address)), 'without a fault');
  }

  async #takeReplacements(replaced: ReadonlySet<string>, why: string): Promise<void> {
    const survivors = this.#endpoints.filter((endpoint) => !replaced.has(endpoint.address));
    const running = await waitForTasks(this.#stack, REPLICAS, survivors, TASK_TIMEOUT_MS);
    // Keep the survivors' order, then the replacements.
    this.#endpoints = [
      ...survivors,
      ...running.filter((endpoint) => !survivors.some((kept) => kept.container === endpoint.container)),
    ];
    const nodes = this.#endpoints.map((endpoint) => endpoint.address);
    for (const stale of Object.keys((await this.#mgmt.nodes()) ?? {})) {
      if (!nodes.includes(stale)) await this.#mgmt.remove(stale).catch(() => {});
    }
    this.#info = { ...this.#info, nodes, nodeUrls: this.#endpoints.map((endpoint) => endpoint.url) };
    console.log(`[swarm] ${[...replaced].join(', ')} replaced by Swarm ${why}: nodes now ${nodes.join(' ')}`);
  }

  /** Removes the stack with its services, network and containers, and leaves a swarm it joined. Idempotent. */
  readonly #removeOnExit = () => this.#stack.removeNow();

  close(): Promise<void> {
    process.removeListener('exit', this.#removeOnExit);
    this.#closing ??= this.#stack.remove().finally(() => this.#engineProxy.close());
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Waits until the service runs `count` tasks, each published, healthy (so Swarm's DNS lists it) and
 * serving its database, among them every one of `including` (still running: not the one a fault just
 * ended); answers them all.
 */
async function waitForTasks(
  stack: SwarmStack,
  count: number,
  including: readonly NodeEndpoint[],
  timeoutMs: number,
): Promise<NodeEndpoint[]> {
  let endpoints: NodeEndpoint[] = [];
  await waitUntil(
    `${count} fn-node tasks of stack ${stack.name} serving`,
    async () => {
      endpoints = await stack.nodeEndpoints();
      if (endpoints.length !== count) return false;
      if (!including.every((kept) => endpoints.some((endpoint) => endpoint.container === kept.container)))
        return false;
      if (!endpoints.every((endpoint) => endpoint.healthy)) return false;
      return (await Promise.all(endpoints.map(serves))).every(Boolean);
    },
    timeoutMs,
    POLL_MS,
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}: running ${JSON.stringify(endpoints.map((endpoint) => endpoint.address))}`,
    );
  });
  return endpoints;
}
