// src/node/drivers: what runs function instances. The runner sees only the Driver interface
// (driver.ts); `docker` runs each instance as a container of the route's image (docker-driver.ts),
// `process` as a local child process from a JSON image registry (process-driver.ts).
import { dockerAnswers, dockerSocket } from '../../common/docker.js';
import { DockerDriver } from './docker-driver.js';
import type { Driver, DriverKind } from './driver.js';
import { ProcessDriver } from './process-driver.js';
import { ImageRegistry } from './process-registry.js';

export type { Driver, DriverKind, ExitInfo, Instance, InstanceSpec } from './driver.js';
export { StartError, UnknownImageError } from './driver.js';

export interface DriverChoiceResult {
  driver: Driver;
  /** One line for the log: what was chosen and why. */
  reason: string;
}

export interface DriverOptions {
  /** This node's id: names its containers' host and labels them, so its leftovers can be found. */
  nodeId: string;
  processImages?: string | undefined;
  /** FN_HOT_START_TIMEOUT_MSECS: how long a start may take to be ready (default 30 s), both drivers. */
  readyTimeoutMs?: number | undefined;
  /** FN_IOFS_PATH: the docker driver's folder of http-stream socket directories (node's view). */
  iofsPath?: string | undefined;
  /** FN_IOFS_DOCKER_PATH: the same folder as the engine sees it (default iofsPath). */
  iofsDockerPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds the driver FN_DRIVER names: `docker` needs an engine answering on DOCKER_HOST's socket (or
 * Docker's default), `process` needs nothing, `auto` is docker when an engine answers, else process.
 */
export async function createDriver(
  choice: DriverKind | 'auto',
  options: DriverOptions,
): Promise<DriverChoiceResult> {
  const env = options.env ?? process.env;
  const processDriver = () =>
    new ProcessDriver({
      registry: ImageRegistry.load(options.processImages),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      confinement: {
        nodeId: options.nodeId,
        ...(env.FN_PROCESS_USER ? { user: env.FN_PROCESS_USER } : {}),
      },
    });
  const described = (driver: ProcessDriver) => `process driver, instances ${driver.summary}`;
  if (choice === 'process') {
    const driver = processDriver();
    return { driver, reason: `FN_DRIVER=process: ${described(driver)}` };
  }
  const socketPath = dockerSocket(env.DOCKER_HOST);
  const answers = await dockerAnswers(socketPath);
  if (!answers) {
    if (choice === 'docker') throw new Error(`FN_DRIVER=docker: no Docker engine answers on ${socketPath}`);
    const driver = processDriver();
    return { driver, reason: `auto: no Docker engine answers on ${socketPath}: ${described(driver)}` };
  }
  const network = env.FN_DOCKER_NETWORK || undefined;
  const { driver, leftovers } = await DockerDriver.start({
    socketPath,
    nodeId: options.nodeId,
    network,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    ...(options.iofsPath === undefined ? {} : { iofsPath: options.iofsPath }),
    ...(options.iofsDockerPath === undefined ? {} : { iofsDockerPath: options.iofsDockerPath }),
  });
  const removed =
    leftovers > 0 ? `; removed ${leftovers} containers that an earlier node ${options.nodeId} left` : '';
  const why = choice === 'docker' ? 'FN_DRIVER=docker' : 'auto: a Docker engine answers';
  return {
    driver,
    reason: `${why}: docker driver on ${socketPath}, network ${network ?? 'none'}, socket directories in ${driver.iofsPath}${removed}`,
  };
}
