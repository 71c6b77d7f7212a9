// The `containers` backend (Testcontainers 11): one network, Postgres, N node containers (fn-node with
// the docker driver and the engine's socket mounted, so each node starts its functions as sibling
// containers, or the nodeImage setting's, configured by node-template.ts) and the balancer under
// test: balancerImage (default fnguard/fnlb) run with balancerArgs, an argument template with the
// placeholders of balancer-template.ts. Its default holds only flags the historic Go fnlb takes; for
// this project's image the upstream timeout is added. The balancer gets FNLB_MGMT_TOKEN (random per
// run; the suite sends it) because its management API is reached from outside its container.
//
// Nodes publish fixed host ports, so one killed and started again keeps its URL. Faults go through
// the engine: docker kill, docker stop (SIGTERM, then the drain), docker start, and one more node
// container on the network. The function containers get no network (FN_DOCKER_NETWORK unset): they
// speak only over stdin/stdout, start faster without an endpoint, and Docker 20.10 was seen to leave
// stale endpoints behind after hundreds of sibling starts on a user network. Every container waits
// on HTTP or a log line: the offline images have no shell for a port check. Teardown removes every
// container it started and, by label, every function container its nodes started, even after a
// failed test or a failed start.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { StartedTestContainer } from 'testcontainers';
import { freePort } from '../../helpers/ports.js';
import { demuxDockerLog, openRunLog } from '../../helpers/run-logs.js';
import { tryWaitUntil } from '../../helpers/wait.js';
import { hostnameFor, NODE_LABEL } from '../../src/common/docker.js';
import { EngineProxy } from '../measure/engine-proxy.js';
import type { GuardSettings } from '../settings/resolve.js';
import {
  argv,
  FNLB_ARGS,
  HC_INTERVAL_S,
  PROJECT_FNLB_ARGS,
  UPSTREAM_TIMEOUT_S,
  uses,
} from './balancer-template.js';
import { DownNodes } from './down-nodes.js';
import { type ImageSettings, type Images, prepareImages } from './images.js';
import {
  CLUSTER_ROLES,
  type LbPlacer,
  type NodeTemplate,
  nodeEnvironment,
  nodeTemplate,
  RUNNER_GRPC_PORT,
} from './node-template.js';
import {
  NO_DISCOVERY,
  OWN_NODE_FAULTS,
  probeCapabilities,
  waitForBalancer,
  waitUntilNodesOnline,
  waitUntilServing,
} from './probe.js';
import { ROUTE_MARKER } from './route-marker.js';
import { loadTestcontainers } from './testcontainers.js';
import type { AddedNode, BalancerInfo, Faults, Topology, TopologyInfo } from './types.js';

/** What the containers topology reads of the settings. */
export type ContainerSettings = Pick<
  GuardSettings,
  | 'dockerHost'
  | 'balancerArgs'
  | 'nodePreset'
  | 'nodeEnv'
  | 'nodeStart'
  | 'postgresAuth'
  | 'api'
  | 'lbPlacer'
  | keyof ImageSettings
>;

const NODES = 5;

const NODE_PORT = 8080;
const LB_PORT = 8081;
const MGMT_PORT = 8082;
const PG = { user: 'fnguard', password: 'fnguard', db: 'fnguard' } as const;
const STARTUP_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_S = 30;
const SWEEP_TIMEOUT_MS = 15_000;
/** Labels every container and the network of one topology carries: the sweep in close() uses it. */
const TOPOLOGY_LABEL = 'fnguard.topology';

interface NodeContainer {
  alias: string;
  nodeId: string;
  address: string;
  url: string;
  container: StartedTestContainer;
}

interface Context {
  docker: Docker;
  id: string;
  /**
   * The nodes' iofs directories ({iofs}): one per node below this, bind-mounted at the same path, so
   * a node hands the engine the same path for the sockets of its http-stream functions.
   */
  iofsRoot: string;
  images: Images;
  network: string;
  /** The engine's socket, for the suite's own calls. */
  socketPath: string;
  /**
   * What the nodes get as their engine: the recording proxy's socket (guard/measure/engine-proxy.ts),
   * which logs every container they create to its `logPath`.
   */
  engineProxy: EngineProxy;
  labels: Record<string, string>;
  template: NodeTemplate;
  /**
   * The fn-cluster preset with another node image (Fn's): the nodes are pure runners its LB node
   * reaches over gRPC, and that LB node, with this placer, is the balancer.
   */
  fnCluster?: { placer: LbPlacer };
}

const DB_URL = `postgres://${PG.user}:${PG.password}@postgres:5432/${PG.db}`;

/** A container of the node image under its alias, serving HTTP on NODE_PORT (GET /version). */
async function startServing(
  ctx: Context,
  role: { alias: string; nodeId: string; env: Record<string, string>; iofs?: string },
): Promise<{ container: StartedTestContainer; url: string }> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const hostPort = await freePort();
  const container = await new GenericContainer(ctx.images.node)
    .withNetworkMode(ctx.network)
    .withNetworkAliases(role.alias)
    // Node builds name their function containers after themselves (fn-node after its node id, Fn
    // after its own hostname): one name for both, unique to the run and kept across a restart.
    .withHostname(role.nodeId)
    .withLabels(ctx.labels)
    .withEnvironment(role.env)
    .withBindMounts([
      { source: ctx.engineProxy.socketPath, target: '/var/run/docker.sock' },
      ...(role.iofs === undefined ? [] : [{ source: role.iofs, target: role.iofs }]),
    ])
    .withExposedPorts({ container: NODE_PORT, host: hostPort })
    .withWaitStrategy(Wait.forHttp('/version', NODE_PORT).forStatusCode(200))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  return { container, url: `http://127.0.0.1:${hostPort}` };
}

async function startNodeContainer(ctx: Context, index: number): Promise<NodeContainer> {
  const alias = `node${index}`;
  const nodeId = `${ctx.id}-${alias}`;
  const iofs = join(ctx.iofsRoot, nodeId);
  // The node's alone (fn-node takes it as its own, 0700); its function containers each see only the
  // directory the node makes for them in here.
  mkdirSync(iofs, { recursive: true, mode: 0o700 });
  const env = nodeEnvironment(ctx.template.env, { dbUrl: DB_URL, port: NODE_PORT, nodeId, iofs });
  const { container, url } = await startServing(ctx, { alias, nodeId, env, iofs });
  // Fn's LB node names its pure runners by their gRPC address.
  const port = ctx.fnCluster ? RUNNER_GRPC_PORT : NODE_PORT;
  return { alias, nodeId, address: `${alias}:${port}`, url, container };
}

/** The fn-cluster preset's API node: fn-node, or the node image as Fn's API node. */
async function startApiNode(ctx: Context, started: Started): Promise<string> {
  const nodeId = `${ctx.id}-api`;
  const template = ctx.fnCluster ? CLUSTER_ROLES.fnApi : CLUSTER_ROLES.projectApi;
  const env = nodeEnvironment(template, { dbUrl: DB_URL, port: NODE_PORT, nodeId, iofs: '' });
  const { container, url } = await startServing(ctx, { alias: 'api', nodeId, env });
  started.containers.push(container);
  return url;
}

/** Fn's LB node over the runners, with the placer the run chose: the balancer under test. */
async function startFnLbNode(
  ctx: Context,
  runners: NodeContainer[],
  placer: LbPlacer,
  started: Started,
): Promise<{ endpoints: Endpoints; description: BalancerInfo }> {
  const nodeId = `${ctx.id}-lb`;
  const env = {
    ...nodeEnvironment(CLUSTER_ROLES.fnLb, { dbUrl: DB_URL, port: NODE_PORT, nodeId, iofs: '' }),
    FN_RUNNER_API_URL: `http://api:${NODE_PORT}`,
    FN_RUNNER_ADDRESSES: runners.map((runner) => runner.address).join(','),
    FN_PLACER: placer,
  };
  const { container, url } = await startServing(ctx, { alias: 'fnlb', nodeId, env });
  started.containers.push(container);
  return {
    endpoints: {
      lbUrl: url,
      nodes: runners.map((runner) => runner.address),
      nodeUrls: runners.map((runner) => runner.url),
      appPrefix: ctx.id,
    },
    description: {
      label: `image: ${ctx.images.node} as Fn's LB node (FN_PLACER=${placer})`,
      hcIntervalS: undefined,
      upstreamTimeoutS: undefined,
    },
  };
}

/** Where the balancer and the nodes answer, as the topology's info names them. */
type Endpoints = Pick<TopologyInfo, 'lbUrl' | 'lbMgmtUrl' | 'mgmtToken' | 'nodes' | 'nodeUrls' | 'appPrefix'>;

/** What a start has brought up so far: teardown removes it, even after a failed start. */
interface Started {
  containers: StartedTestContainer[];
  nodeIds: string[];
}

async function startPostgres(ctx: Context, started: Started): Promise<void> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const auth = ctx.template.postgresAuth;
  const container = await new GenericContainer(ctx.images.postgres)
    .withNetworkMode(ctx.network)
    .withNetworkAliases('postgres')
    .withLabels(ctx.labels)
    .withEnvironment({
      POSTGRES_USER: PG.user,
      POSTGRES_PASSWORD: PG.password,
      POSTGRES_DB: PG.db,
      POSTGRES_HOST_AUTH_METHOD: auth,
      // The official image hashes the password by password_encryption, SCRAM since PostgreSQL 14.
      ...(auth === 'md5' ? { POSTGRES_INITDB_ARGS: '--auth-host=md5 --set password_encryption=md5' } : {}),
    })
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  started.containers.push(container);
}

/**
 * Postgres and the nodes, which come back in index order. fn-node retries its database for 30 s, so
 * its nodes start alongside Postgres; other node builds may give up on a database that is not there
 * yet, so Postgres comes first, then their nodes at once or one by one as the template says.
 */
async function startDatabaseAndNodes(
  ctx: Context,
  count: number,
  started: Started,
): Promise<NodeContainer[]> {
  if (ctx.template.start === 'parallel' && ctx.template.preset === 'fn-node') {
    const nodes = startNodes(ctx, count, started);
    const settled = await Promise.allSettled([startPostgres(ctx, started), nodes]);
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    return nodes;
  }
  await startPostgres(ctx, started);
  return startNodes(ctx, count, started);
}

/** The nodes, in index order: at once or one by one, as the template says. */
async function startNodes(ctx: Context, count: number, started: Started): Promise<NodeContainer[]> {
  const startNode = async (index: number) => {
    const node = await startNodeContainer(ctx, index);
    started.containers.push(node.container);
    started.nodeIds.push(node.nodeId);
    return node;
  };
  const indexes = Array.from({ length: count }, (_, index) => index + 1);
  if (ctx.template.start === 'parallel') return Promise.all(indexes.map(startNode));
  const nodes: NodeContainer[] = [];
  for (const index of indexes) nodes.push(await startNode(index));
  return nodes;
}

/**
 * The balancer under test, run with the balancerArgs setting (`custom`) or the default template for
 * its image; its management API gets a token of this run since it is reached from outside its
 * container.
 */
async function startBalancer(
  ctx: Context,
  nodes: NodeContainer[],
  custom: string | undefined,
  started: Started,
): Promise<{ endpoints: Endpoints; description: BalancerInfo }> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const template = custom ?? (ctx.images.projectBalancer ? PROJECT_FNLB_ARGS : FNLB_ARGS);
  const ownMgmt = uses(template, 'mgmt');
  const token = randomBytes(12).toString('hex');
  const lb = await new GenericContainer(ctx.images.balancer)
    .withNetworkMode(ctx.network)
    .withNetworkAliases('fnlb')
    .withLabels(ctx.labels)
    .withEnvironment({ FNLB_MGMT_TOKEN: token })
    .withCommand(
      argv(
        template,
        {
          listen: `:${LB_PORT}`,
          mgmt: `:${ownMgmt ? MGMT_PORT : LB_PORT}`,
          nodes: nodes.map((node) => node.address),
          hcIntervalS: HC_INTERVAL_S,
          upstreamTimeoutS: UPSTREAM_TIMEOUT_S,
        },
        custom === undefined ? 'the default balancer arguments' : 'the balancer arguments',
      ),
    )
    .withExposedPorts(...(ownMgmt ? [LB_PORT, MGMT_PORT] : [LB_PORT]))
    .withWaitStrategy(Wait.forHttp('/', LB_PORT).forStatusCodeMatching(() => true))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  started.containers.push(lb);
  const lbUrl = `http://127.0.0.1:${lb.getMappedPort(LB_PORT)}`;
  return {
    endpoints: {
      lbUrl,
      lbMgmtUrl: ownMgmt ? `http://127.0.0.1:${lb.getMappedPort(MGMT_PORT)}` : lbUrl,
      mgmtToken: token,
      nodes: nodes.map((node) => node.address),
      nodeUrls: nodes.map((node) => node.url),
      appPrefix: ctx.id,
    },
    description: {
      label: ctx.images.projectBalancer
        ? 'fnlb (this project, image fnguard/fnlb)'
        : `image: ${ctx.images.balancer}${custom ? ` with arguments ${custom}` : ''}`,
      hcIntervalS: uses(template, 'hc_interval') ? HC_INTERVAL_S : undefined,
      upstreamTimeoutS: uses(template, 'upstream_timeout') ? UPSTREAM_TIMEOUT_S : undefined,
    },
  };
}

export class ContainerTopology implements Topology {
  private closing: Promise<void> | undefined;
  readonly faults: Faults;
  private readonly down = new DownNodes();
  private readonly added: NodeContainer[] = [];

  private constructor(
    private readonly ctx: Context,
    private readonly nodes: NodeContainer[],
    private readonly started: StartedTestContainer[],
    readonly info: TopologyInfo,
  ) {
    process.once('exit', this.removeOnExit);
    const engine = (node: string) => ctx.docker.getContainer(this.node(node).container.getId());
    this.faults = this.down.track({
      kill: async (node) => {
        await engine(node).kill();
        await engine(node).wait();
      },
      stop: async (node) => {
        await engine(node).stop({ t: STOP_TIMEOUT_S });
      },
      start: async (node) => {
        await engine(node).start();
        await this.waitServing(this.node(node));
      },
      // The node's container only: its functions run in containers of their own, as on any node.
      freeze: async (node) => {
        await engine(node).pause();
      },
      thaw: async (node) => {
        await engine(node).unpause();
      },
      add: async (): Promise<AddedNode> => {
        const node = await startNodeContainer(ctx, this.nodes.length + this.added.length + 1);
        this.added.push(node);
        return { address: node.address, url: node.url };
      },
      discard: async (node) => {
        const index = this.added.findIndex((added) => added.address === node);
        if (index < 0) throw new Error(`${node} was not added by the topology`);
        const [gone] = this.added.splice(index, 1);
        await gone?.container.stop({ timeout: STOP_TIMEOUT_S * 1000 });
      },
    });
  }

  static async start(settings: ContainerSettings): Promise<ContainerTopology> {
    const socketPath = settings.dockerHost;
    const docker = new Docker({ socketPath });
    const images = await prepareImages(docker, settings);
    const cluster = settings.nodePreset === 'fn-cluster';
    const starting = Date.now();
    const id = `fng${randomBytes(3).toString('hex')}`;
    const labels = { 'fnlb-guard': '1', [TOPOLOGY_LABEL]: id };
    const network = `fnguard-${id}`;
    const engineProxy = await EngineProxy.inTempDir(socketPath, id);
    try {
      await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: labels });
    } catch (error) {
      await engineProxy.close();
      throw error;
    }
    const ctx: Context = {
      engineProxy,
      docker,
      id,
      images,
      network,
      socketPath,
      labels,
      template: nodeTemplate(settings, images.projectNode),
      iofsRoot: join(tmpdir(), `fnguard-iofs-${id}`),
      ...(cluster && !images.projectNode ? { fnCluster: { placer: settings.lbPlacer } } : {}),
    };
    const started: Started = { containers: [], nodeIds: [] };
    try {
      let apiUrl: string | undefined;
      let nodes: NodeContainer[];
      if (cluster) {
        await startPostgres(ctx, started);
        apiUrl = await startApiNode(ctx, started);
        nodes = await startNodes(ctx, NODES, started);
      } else {
        nodes = await startDatabaseAndNodes(ctx, NODES, started);
      }
      const balancer = ctx.fnCluster
        ? await startFnLbNode(ctx, nodes, ctx.fnCluster.placer, started)
        : await startBalancer(ctx, nodes, settings.balancerArgs, started);
      const endpoints = {
        ...balancer.endpoints,
        functionImages: settings.functionImages,
        ...(apiUrl === undefined ? {} : { apiUrl }),
        // Functions report the hostname of the node that ran them, which the topology gave it: on
        // Fn's pure runners, which take no HTTP calls, nothing else could tell the suite.
        ...(cluster ? { nodeIds: nodes.map((node) => node.nodeId) } : {}),
      };
      const api = await waitForBalancer(endpoints, READY_TIMEOUT_MS, settings.api);
      // Every node starts its functions on this engine, through the recording proxy.
      const probed = await probeCapabilities(endpoints, { socketPath });
      if (probed.capabilities.mgmtApi)
        await waitUntilNodesOnline(endpoints, endpoints.nodes, READY_TIMEOUT_MS);
      console.log(`[containers] topology ${id} up, the balancer answers (${Date.now() - starting} ms)`);
      const info: TopologyInfo = {
        kind: 'containers',
        ...endpoints,
        ...api,
        database: `postgres (${images.postgres} container)`,
        balancer: balancer.description,
        nodeBuild: `${images.projectNode ? 'fn-node (this project, docker driver)' : `image: ${images.node}`}${describeSetup(ctx.template)}`,
        capabilities: { ...probed.capabilities, ...OWN_NODE_FAULTS },
        missing: { ...probed.missing, discover: NO_DISCOVERY },
        ...(probed.capabilities.engineEvents
          ? { engine: { socketPath, createLog: ctx.engineProxy.logPath } }
          : {}),
      };
      return new ContainerTopology(ctx, nodes, started.containers, info);
    } catch (error) {
      await teardown(ctx, started.nodeIds, started.containers);
      throw error;
    }
  }

  /**
   * The test process exits without close() (Ctrl-C, a timeout's SIGTERM: Vitest exits at once): only
   * synchronous work runs then, so the docker CLI, when there is one, removes the run's containers.
   */
  private readonly removeOnExit = () => {
    const labels = [
      `${TOPOLOGY_LABEL}=${this.ctx.id}`,
      ...[...this.nodes, ...this.added].map((node) => `${NODE_LABEL}=${node.nodeId}`),
    ];
    const ids = labels.flatMap((label) => {
      const listed = spawnSync('docker', ['ps', '-aq', '--filter', `label=${label}`], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      return (listed.stdout ?? '').split('\n').filter(Boolean);
    });
    if (ids.length > 0) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore', timeout: 30_000 });
  };

  private node(address: string): NodeContainer {
    const node = [...this.nodes, ...this.added].find((candidate) => candidate.address === address);
    if (node === undefined) throw new Error(`${address} is not a node of this topology`);
    return node;
  }

  private waitServing(node: NodeContainer): Promise<void> {
    return waitUntilServing(node.address, node.url, STARTUP_TIMEOUT_MS);
  }

  async restore(): Promise<void> {
    await this.down.restore(async (address) => {
      const container = this.ctx.docker.getContainer(this.node(address).container.getId());
      const state = await container.inspect();
      if (!state.State.Running) await container.start();
      await this.waitServing(this.node(address));
    });
    await Promise.allSettled(
      this.added.splice(0).map((node) => node.container.stop({ timeout: STOP_TIMEOUT_S * 1000 })),
    );
  }

  /** Stops every container, then removes whatever is left by label. Idempotent. */
  close(): Promise<void> {
    process.removeListener('exit', this.removeOnExit);
    this.closing ??= teardown(
      this.ctx,
      [...this.nodes, ...this.added].map((node) => node.nodeId),
      [...this.started, ...this.added.map((node) => node.container)],
    );
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function describeSetup(setup: NodeTemplate): string {
  if (setup.preset === 'fn-node' && !setup.customEnv) return '';
  const env = setup.customEnv ? `, environment ${setup.env}` : '';
  return ` (preset ${setup.preset}${env}; nodes start ${setup.start}, Postgres auth ${setup.postgresAuth})`;
}

/**
 * Function containers another node build left (they carry only their image's labels, fnlb-guard=1 for
 * the project's function images): those of a route of this run (the FNG_ROUTE variable every guard
 * route has starts with the run's app prefix) or running under one of the topology's node names.
 */
async function functionContainersOf(
  docker: Docker,
  id: string,
  nodeIds: readonly string[],
): Promise<Docker.ContainerInfo[]> {
  const names = new Set(nodeIds.map(hostnameFor));
  const ofThisRun = `${ROUTE_MARKER}=${id}-`;
  const candidates = await docker.listContainers({ all: true, filters: { label: ['fnlb-guard=1'] } });
  const inspected = await Promise.all(
    candidates.map((info) =>
      docker
        .getContainer(info.Id)
        .inspect()
        .then((details) =>
          names.has(details.Config.Hostname) ||
          (details.Config.Env ?? []).some((entry) => entry.startsWith(ofThisRun))
            ? info
            : undefined,
        )
        .catch(() => undefined),
    ),
  );
  return inspected.filter((info): info is Docker.ContainerInfo => info !== undefined);
}

/** A stopped container's output, to the run's logs (the engine forgets it when the container is removed). */
async function keepLog(docker: Docker, container: StartedTestContainer): Promise<void> {
  const log = openRunLog(`container-${container.getHostname()}-${container.getName().replace(/^\//, '')}`);
  try {
    const output = (await docker
      .getContainer(container.getId())
      .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    log.write(demuxDockerLog(output));
  } finally {
    log.close();
  }
}

/**
 * Stops the containers (nodes drain: they stop their function containers), then removes every
 * container of the topology and every function container of its nodes by label, then the network.
 */
async function teardown(ctx: Context, nodeIds: string[], started: StartedTestContainer[]): Promise<void> {
  const { docker, id } = ctx;
  // Endpoints are named after their containers: kept to drop stale ones below.
  const names = started.map((container) => container.getName().replace(/^\//, ''));
  await Promise.allSettled(
    started.map((container) => container.stop({ timeout: STOP_TIMEOUT_S * 1000, remove: false })),
  );
  await Promise.allSettled(started.map((container) => keepLog(docker, container)));
  const filters = [`${TOPOLOGY_LABEL}=${id}`, ...nodeIds.map((nodeId) => `${NODE_LABEL}=${nodeId}`)];
  // A container that a node was still removing answers 409 and keeps its endpoint for a moment:
  // sweep again until nothing is left.
  let containersLeft = 0;
  let networkError: Error | undefined;
  const sweep = async (): Promise<boolean> => {
    const leftovers = (
      await Promise.all([
        ...filters.map((label) => docker.listContainers({ all: true, filters: { label: [label] } })),
        functionContainersOf(docker, id, nodeIds),
      ])
    ).flat();
    containersLeft = leftovers.length;
    await Promise.allSettled(leftovers.map((info) => docker.getContainer(info.Id).remove({ force: true })));
    const networks = await docker.listNetworks({ filters: { label: [`${TOPOLOGY_LABEL}=${id}`] } });
    const removed = await Promise.allSettled(
      networks.map((network) => docker.getNetwork(network.Id).remove()),
    );
    const failed = removed.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    networkError = failed?.reason as Error | undefined;
    if (networkError && /active endpoints/.test(networkError.message)) {
      // Docker 20.10 sometimes keeps the endpoint of a container whose shim died after removal, and
      // then refuses to remove the network; a forced disconnect by the container's name drops it.
      await Promise.allSettled(
        networks.flatMap((network) =>
          names.map((name) => docker.getNetwork(network.Id).disconnect({ Container: name, Force: true })),
        ),
      );
    }
    return networkError === undefined && containersLeft === 0;
  };
  const sweptInMs = await tryWaitUntil(
    `the teardown of containers topology ${id}`,
    sweep,
    SWEEP_TIMEOUT_MS,
    200,
  );
  // What a node left there belongs to containers that are gone; a file a node's root made that this
  // user may not remove stays in the temporary directory, harmless.
  await ctx.engineProxy.close();
  try {
    rmSync(ctx.iofsRoot, { recursive: true, force: true });
  } catch {}
  if (sweptInMs !== undefined) return;
  if (containersLeft > 0) throw new Error(`containers topology ${id}: teardown left containers`);
  // Only the network is left, held by an endpoint the engine lost track of: it holds no process and
  // no port, so say so rather than fail a run whose tests passed.
  console.warn(
    `[containers] topology ${id}: could not remove network fnguard-${id}: ${String(networkError?.message)}`,
  );
}
