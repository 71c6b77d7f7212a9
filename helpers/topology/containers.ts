// The `containers` backend (Testcontainers 11): one network, Postgres, N fn-node containers with the
// docker driver (the engine's socket mounted, so each node starts its functions as sibling
// containers) and one fnlb container. The function containers get no network (FN_DOCKER_NETWORK
// unset): they speak only over stdin/stdout, start about 25% faster without an endpoint, and Docker
// 20.10 was seen to leave a stale endpoint behind after hundreds of sibling starts and stops on a
// user network, which then refused to be removed. Every container waits on HTTP or a log
// line: the offline images have no shell, so no default port check. Images:
//   FN_NODE_IMAGE (fnguard/fn-node), FNLB_IMAGE (fnguard/fnlb), FN_POSTGRES_IMAGE (the offline
//   fnguard/base-postgres:local when present, else postgres:16).
// The project's own images are brought up to date by docker/build-images.sh first (a second or two
// when nothing changed) unless FN_NODE_IMAGE or FNLB_IMAGE point at another build under test, or
// FN_BUILD_IMAGES=0. Teardown removes every container it started and, by label, every function
// container its nodes started, even after a failed test or a failed start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Docker from 'dockerode';
import { PACKAGE } from '../../src/common/package-root.js';
import { LB_PATHS } from '../../src/lb/wire.js';
import { NODE_LABEL } from '../../src/node/drivers/docker-driver.js';
import { dockerSocket } from '../../src/node/drivers/index.js';
import { waitUntilOnline } from '../lb-online.js';
import { FAST_HEALTH_CHECKS } from './processes.js';
import type { Topology, TopologyInfo } from './types.js';

export interface ContainerTopologyOptions {
  nodes?: number;
  env?: NodeJS.ProcessEnv;
  /** Environment for every node container (for example FN_MEMORY_MB). */
  nodeEnv?: Record<string, string>;
}

const NODE_PORT = 8080;
const LB_PORT = 8081;
const PG = { user: 'fnguard', password: 'fnguard', db: 'fnguard' } as const;
const STARTUP_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 300_000;
const ONLINE_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const SWEEP_TIMEOUT_MS = 15_000;
const LOCAL_POSTGRES = 'fnguard/base-postgres:local';
/** Labels every container and the network of one topology carries: the sweep in close() uses it. */
const TOPOLOGY_LABEL = 'fnguard.topology';

interface Started {
  stop(options?: { timeout?: number }): Promise<unknown>;
  getMappedPort(port: number): number;
  getName(): string;
}

function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: PACKAGE.root, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  return docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

export class ContainerTopology implements Topology {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly docker: Docker,
    private readonly id: string,
    private readonly nodeIds: string[],
    private readonly started: Started[],
    readonly info: TopologyInfo,
  ) {}

  static async start(options: ContainerTopologyOptions = {}): Promise<ContainerTopology> {
    const env = options.env ?? process.env;
    // Offline there is no reaper image to pull (the teardown below removes everything itself), and
    // mapped ports are reached on this machine.
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
    const { GenericContainer, Wait } = await import('testcontainers');
    const socketPath = dockerSocket(env);
    const docker = new Docker({ socketPath });

    const nodeImage = env.FN_NODE_IMAGE || 'fnguard/fn-node';
    const lbImage = env.FNLB_IMAGE || 'fnguard/fnlb';
    const postgresImage =
      env.FN_POSTGRES_IMAGE ||
      ((await imagePresent(docker, LOCAL_POSTGRES)) ? LOCAL_POSTGRES : 'postgres:16');
    if (!env.FN_NODE_IMAGE && !env.FNLB_IMAGE && env.FN_BUILD_IMAGES !== '0') {
      const building = Date.now();
      await run(join(PACKAGE.root, 'docker/build-images.sh'), [], BUILD_TIMEOUT_MS);
      console.log(`[containers] project images up to date (${Date.now() - building} ms)`);
    }
    for (const image of [nodeImage, lbImage]) {
      if (!(await imagePresent(docker, image))) {
        throw new Error(
          `image ${image} is not on the Docker engine: run docker/offline/bootstrap.sh (offline) or docker/build-images.sh`,
        );
      }
    }

    const starting = Date.now();
    const id = `fng${randomBytes(3).toString('hex')}`;
    const labels = { fnguard: '1', [TOPOLOGY_LABEL]: id };
    const network = `fnguard-${id}`;
    await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: labels });
    const count = options.nodes ?? 5;
    const nodeIds = Array.from({ length: count }, (_, index) => `${id}-node${index + 1}`);
    const aliases = nodeIds.map((_, index) => `node${index + 1}`);
    const nodes = aliases.map((alias) => `${alias}:${NODE_PORT}`);
    const started: Started[] = [];
    const keep = <T extends Started>(container: T) => {
      started.push(container);
      return container;
    };

    try {
      const postgres = new GenericContainer(postgresImage)
        .withNetworkMode(network)
        .withNetworkAliases('postgres')
        .withLabels(labels)
        .withEnvironment({ POSTGRES_USER: PG.user, POSTGRES_PASSWORD: PG.password, POSTGRES_DB: PG.db })
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/))
        .withStartupTimeout(STARTUP_TIMEOUT_MS)
        .start()
        .then(keep);
      // Nodes retry their database for 30 s, so they start alongside Postgres.
      const nodeContainers = nodeIds.map((nodeId, index) =>
        new GenericContainer(nodeImage)
          .withNetworkMode(network)
          .withNetworkAliases(aliases[index] as string)
          .withLabels(labels)
          .withEnvironment({
            DB_URL: `postgres://${PG.user}:${PG.password}@postgres:5432/${PG.db}`,
            FN_NODE_ID: nodeId,
            FN_DRIVER: 'docker',
            PORT: String(NODE_PORT),
            ...options.nodeEnv,
          })
          .withBindMounts([{ source: socketPath, target: '/var/run/docker.sock' }])
          .withExposedPorts(NODE_PORT)
          .withWaitStrategy(Wait.forHttp('/version', NODE_PORT).forStatusCode(200))
          .withStartupTimeout(STARTUP_TIMEOUT_MS)
          .start()
          .then(keep),
      );
      const lb = new GenericContainer(lbImage)
        .withNetworkMode(network)
        .withNetworkAliases('fnlb')
        .withLabels(labels)
        .withCommand(['-nodes', nodes.join(','), '-listen', `:${LB_PORT}`, ...FAST_HEALTH_CHECKS])
        .withExposedPorts(LB_PORT)
        .withWaitStrategy(Wait.forHttp(LB_PATHS.nodes, LB_PORT).forStatusCode(200))
        .withStartupTimeout(STARTUP_TIMEOUT_MS)
        .start()
        .then(keep);
      const settled = await Promise.allSettled([postgres, lb, ...nodeContainers]);
      const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      const lbContainer = await lb;
      const nodeUrls = await Promise.all(
        nodeContainers.map(async (node) => `http://127.0.0.1:${(await node).getMappedPort(NODE_PORT)}`),
      );
      const lbUrl = `http://127.0.0.1:${lbContainer.getMappedPort(LB_PORT)}`;
      // fnlb gives a node no traffic until its first health check passes: hand out a ready cluster.
      await waitUntilOnline(lbUrl, nodes, { timeoutMs: ONLINE_TIMEOUT_MS });
      console.log(`[containers] topology ${id} up, every node online at fnlb (${Date.now() - starting} ms)`);
      return new ContainerTopology(docker, id, nodeIds, started, {
        kind: 'containers',
        lbUrl,
        lbMgmtUrl: lbUrl,
        nodes,
        nodeUrls,
        appPrefix: id,
        database: `postgres (${postgresImage} container)`,
      });
    } catch (error) {
      await teardown(docker, id, nodeIds, started);
      throw error;
    }
  }

  /** Stops every container, then removes whatever is left by label. Idempotent. */
  close(): Promise<void> {
    this.closing ??= teardown(this.docker, this.id, this.nodeIds, this.started);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Stops the containers (nodes drain: they stop their function containers), then removes every
 * container of the topology and every function container of its nodes by label, then the network.
 */
async function teardown(docker: Docker, id: string, nodeIds: string[], started: Started[]): Promise<void> {
  // Endpoints are named after their containers: kept to drop stale ones below.
  const names = started.map((container) => container.getName().replace(/^\//, ''));
  await Promise.allSettled(started.map((container) => container.stop({ timeout: STOP_TIMEOUT_MS })));
  const filters = [`${TOPOLOGY_LABEL}=${id}`, ...nodeIds.map((nodeId) => `${NODE_LABEL}=${nodeId}`)];
  // A container that a node was still removing answers 409 and keeps its endpoint for a moment:
  // sweep again until nothing is left.
  const deadline = Date.now() + SWEEP_TIMEOUT_MS;
  for (;;) {
    const lists = await Promise.all(
      filters.map((label) => docker.listContainers({ all: true, filters: { label: [label] } })),
    );
    await Promise.allSettled(
      lists.flat().map((info) => docker.getContainer(info.Id).remove({ force: true })),
    );
    const networks = await docker.listNetworks({ filters: { label: [`${TOPOLOGY_LABEL}=${id}`] } });
    const removed = await Promise.allSettled(
      networks.map((network) => docker.getNetwork(network.Id).remove()),
    );
    const failed = removed.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (!failed && lists.every((list) => list.length === 0)) return;
    if (failed && /active endpoints/.test((failed.reason as Error).message)) {
      // Docker 20.10 sometimes keeps the endpoint of a container whose shim died after removal, and
      // then refuses to remove the network; a forced disconnect by the container's name drops it.
      await Promise.allSettled(
        networks.flatMap((network) =>
          names.map((name) => docker.getNetwork(network.Id).disconnect({ Container: name, Force: true })),
        ),
      );
    }
    if (Date.now() > deadline) {
      if (lists.some((list) => list.length > 0))
        throw new Error(`containers topology ${id}: teardown left containers`);
      // Only the network is left, held by an endpoint the engine lost track of: it holds no process and
      // no port, so say so rather than fail a run whose tests passed.
      console.warn(
        `[containers] topology ${id}: could not remove network fnguard-${id}: ${String((failed?.reason as Error | undefined)?.message)}`,
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
