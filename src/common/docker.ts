// The contract between fn-node's docker driver and whoever watches the engine it runs functions on
// (the guard's containers and swarm topologies, the engine-side counters): where the engine answers,
// the labels every project container carries, and the host name a node gives its function
// containers. Both sides import it from here, so neither reads the other's internals.
import { request } from 'node:http';

/** Every container this project creates carries it, so cleanup can never touch anything else. */
export const PROJECT_LABEL = 'fnlb-guard';
/** The id of the node that started a function container. */
export const NODE_LABEL = 'fnlb-guard.node';

/** The socket of a DOCKER_HOST value when it is a unix socket, else Docker's default. */
export function dockerSocket(dockerHost: string | undefined): string {
  return dockerHost?.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock';
}

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

/**
 * A node id as a valid host name (letters, digits, dots, dashes; at most 63 characters): the host
 * name of the node's function containers, which is also what the functions report.
 */
export function hostnameFor(nodeId: string): string {
  const name = nodeId
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 63);
  return name || 'fn-node';
}
