// src/node/drivers: what runs function instances. The runner sees only the Driver interface
// (driver.ts); `process` runs each instance as a local child process from a JSON image registry.
// `docker` (one container per instance via dockerode) is a later issue behind the same interface.
import { request } from 'node:http';
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
function dockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/**
 * Builds the driver FN_DRIVER names. `auto` picks docker when an engine answers, else process; until
 * the docker driver exists, `auto` says so and uses process, and an explicit `docker` is refused.
 */
export async function createDriver(
  choice: DriverKind | 'auto',
  options: { processImages?: string; env?: NodeJS.ProcessEnv },
): Promise<DriverChoiceResult> {
  if (choice === 'docker') {
    throw new Error('FN_DRIVER=docker: the docker driver is not built yet; use FN_DRIVER=process');
  }
  const processDriver = () => new ProcessDriver({ registry: ImageRegistry.load(options.processImages) });
  if (choice === 'process') return { driver: processDriver(), reason: 'FN_DRIVER=process' };
  const docker = await dockerAnswers(dockerSocket(options.env ?? process.env));
  return {
    driver: processDriver(),
    reason: docker
      ? 'a Docker engine answers but the docker driver is not built yet: using the process driver'
      : 'no Docker engine answers: using the process driver',
  };
}
