// src/node/drivers: what runs function instances. The runner sees only the Driver interface
// (driver.ts); `docker` runs each instance as a container of the route's image (docker-driver.ts),
// `process` as a local child process from a JSON image registry (process-driver.ts).
import { request } from 'node:http';
import { DockerDriver } from './docker-driver.js';
import type { Driver, DriverKind } from './driver.js';
import { ProcessDriver } from './process-driver.js';
import { ImageRegistry } from './process-registry.js';

export type { Driver, DriverKind, ExitInfo, Instance, InstanceSpec } from './driver.js';
export { StartError, UnknownImageError } from './driver.js';

/** True when a Docker engine answers `GET /_ping` on its socket within `timeoutMs`. */
export function dockerAnswers(socketPath = '/var/run/docker.sock', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface DriverChoiceResult {
  driver: Driver;
  /** One line for the log: what was chosen and why. */
  reason: string;
}

/** The socket of DOCKER_HOST when it is a unix socket, else Docker's default. */
export function dockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

export interface DriverOptions {
  /** This node's id: names its containers' host and labels them, so its leftovers can be found. */
  nodeId: string;
  processImages?: string;
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
      confinement: {
        nodeId: options.nodeId,
        ...(env.FN_PROCESS_USER ? { user: env.FN_PROCESS_USER } : {}),
      },
    });
  const described = (driver: ProcessDriver) => `process driver, instances ${driver.confinement.summary}`;
  if (choice === 'process') {
    const driver = processDriver();
    return { driver, reason: `FN_DRIVER=process: ${described(driver)}` };
  }
  const socketPath = dockerSocket(env);
  const answers = await dockerAnswers(socketPath);
  if (!answers) {
    if (choice === 'docker') throw new Error(`FN_DRIVER=docker: no Docker engine answers on ${socketPath}`);
    const driver = processDriver();
    return { driver, reason: `auto: no Docker engine answers on ${socketPath}: ${described(driver)}` };
  }
  const network = env.FN_DOCKER_NETWORK || undefined;
  const { driver, leftovers } = await DockerDriver.start({ socketPath, nodeId: options.nodeId, network });
  const removed =
    leftovers > 0 ? `; removed ${leftovers} containers that an earlier node ${options.nodeId} left` : '';
  const why = choice === 'docker' ? 'FN_DRIVER=docker' : 'auto: a Docker engine answers';
  return { driver, reason: `${why}: docker driver on ${socketPath}, network ${network ?? 'none'}${removed}` };
}
