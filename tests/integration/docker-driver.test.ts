// The docker driver on its own, against the real engine and the project's function images (built by
// docker/offline/bootstrap.sh or docker/build-images.sh): the formats over attached stdin/stdout,
// readiness, what each container is allowed (memory, capabilities, labels, host name), exits and
// the memory limit, removal, and the cleanup of a crashed node's leftovers. Skipped, saying so, when
// no Docker engine answers. Also fn-node's own choice of driver under FN_DRIVER=auto, on any machine.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProjectImages, imagePresent } from '../../guard/topology/images.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { dockerAnswers, dockerSocket, NODE_LABEL, PROJECT_LABEL } from '../../src/common/docker.js';
import { DockerDriver } from '../../src/node/drivers/docker-driver.js';
import { UnknownImageError } from '../../src/node/drivers/driver.js';
import { formatCodec } from '../../src/node/formats/index.js';
import { callHttp, request } from './support/driver-calls.js';

const socketPath = dockerSocket(process.env.DOCKER_HOST);
const docker = new Docker({ socketPath });

/** Why the driver cannot be tested here, or undefined: an engine answers and has the function images. */
async function unavailable(): Promise<string | undefined> {
  if (!engineAnswers) return `no Docker engine answers on ${socketPath}`;
  const present = async () =>
    (await Promise.all(FUNCTION_IMAGES_USED.map((image) => imagePresent(docker, image)))).every(Boolean);
  if (await present()) return undefined;
  // An engine without the project's images (a CI runner's): build them, as the containers topology does.
  try {
    await buildProjectImages();
  } catch (error) {
    return `the function images are missing and could not be built (${(error as Error).message.split('\n')[0]}): run docker/offline/bootstrap.sh or docker/build-images.sh`;
  }
  return (await present()) ? undefined : 'the function images are missing: run docker/build-images.sh';
}

const FUNCTION_IMAGES_USED = [
  'localhost/fnlb-guard/primes',
  'localhost/fnlb-guard/echo',
  'localhost/fnlb-guard/crash',
];
const engineAnswers = await dockerAnswers(socketPath, 2000);
const skipReason = await unavailable();
const engine = skipReason === undefined;
if (skipReason) console.warn(`[docker-driver] skipped: ${skipReason}`);
const nodeId = `fng-test-${randomBytes(3).toString('hex')}`;
let driver: DockerDriver;

const gone = async (id: string) =>
  docker
    .getContainer(`fnguard-fn-${id}`)
    .inspect()
    .then(
      () => false,
      (error: { statusCode?: number }) => error.statusCode === 404,
    );

function spec(
  image: string,
  format: 'http' | 'default',
  memoryMb = 64,
  extraEnv: Record<string, string> = {},
) {
  const id = randomBytes(6).toString('hex');
  return {
    id,
    image,
    memoryMb,
    env: { FN_FORMAT: format, FN_CONTAINER_ID: id, HOSTNAME: nodeId, ...extraEnv },
    labels: { [NODE_LABEL]: nodeId, 'fnlb-guard.app': 'driverapp', 'fnlb-guard.path': '/p' },
  };
}

describe.skipIf(!engine)('docker driver', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    ({ driver } = await DockerDriver.start({ socketPath, nodeId, readyTimeoutMs: 15_000 }));
  });

  afterAll(async () => {
    await driver?.close();
    // Whatever a failed assertion left behind.
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeId}`] } });
    await Promise.all(left.map((info) => docker.getContainer(info.Id).remove({ force: true })));
  });

  it('serves hot http calls from one container named after the node, with its limits and labels', async () => {
    const s = { ...spec('localhost/fnlb-guard/primes', 'http', 96), cpus: 0.5 };
    const instance = await driver.start(s);
    for (let call = 0; call < 3; call++) {
      const response = await callHttp(instance, 'http://node/r/driverapp/p?max=1000');
      expect(response?.status).toBe(200);
      expect(JSON.parse(response?.body.toString() ?? '')).toMatchObject({
        hostname: nodeId,
        container: s.id,
        count: 168,
      });
    }
    const info = await docker.getContainer(`fnguard-fn-${s.id}`).inspect();
    expect(info.Config.Hostname).toBe(nodeId);
    expect(info.Config.Labels).toMatchObject({
      [PROJECT_LABEL]: '1',
      [NODE_LABEL]: nodeId,
      'fnlb-guard.app': 'driverapp',
      'fnlb-guard.path': '/p',
    });
    expect(info.HostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(info.HostConfig.MemorySwap).toBe(96 * 1024 * 1024);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.HostConfig.ReadonlyRootfs, 'a read-only root').toBe(true);
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.HostConfig.Privileged, 'not privileged').toBe(false);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(info.HostConfig.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 1024 }]);
    expect(info.HostConfig.AutoRemove, 'removed by the engine once it ends').toBe(true);
    expect(info.Mounts).toEqual([]);
    expect(info.Config.User).not.toBe('');
    const exit = await instance.stop();
    expect(exit.reason).toBe('stopped');
    await expect.poll(() => gone(s.id), { timeout: 10_000 }).toBe(true);
  });

  it('runs a default-format call to its end: body on stdin, response on stdout, exit 0, removed', async () => {
    const s = spec('localhost/fnlb-guard/echo', 'default', 64, {
      FN_REQUEST_URL: 'http://node/r/driverapp/p',
    });
    const instance = await driver.start(s);
    let output = '';
    instance.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    instance.stdin.end('hello from stdin');
    const exit = await instance.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(output).toBe('hello from stdin');
    await expect.poll(() => gone(s.id), { timeout: 10_000 }).toBe(true);
  });

  it('reports a crash with its exit code, and a container over its memory limit as `memory`', async () => {
    const crash = await driver.start(spec('localhost/fnlb-guard/crash', 'http'));
    const partial = new Promise<string>((resolve) =>
      crash.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    crash.stdin.write(formatCodec('http').encodeRequest(request('http://node/r/driverapp/p')));
    expect(await partial).toMatch(/^HTTP\/1.1 200/);
    expect(await crash.exited).toMatchObject({ code: 3, signal: null });

    // A sieve up to 100 million needs about 100 MB: a 48 MB container is killed by the kernel.
    const hog = await driver.start(spec('localhost/fnlb-guard/primes', 'http', 48));
    hog.stdin.write(formatCodec('http').encodeRequest(request('http://node/r/driverapp/p?max=100000000')));
    expect(await hog.exited).toEqual({ code: 137, signal: 'SIGKILL', reason: 'memory' });
  });

  it('refuses an image the engine does not have, without pulling', async () => {
    await expect(driver.start(spec('localhost/fnlb-guard/no-such-function', 'http'))).rejects.toBeInstanceOf(
      UnknownImageError,
    );
  });

  it.each([
    '../../containers/json?all=1',
    'localhost/fnlb-guard/primes/../../../version',
    'Upper/Case',
    'a b',
  ])('refuses %j, which is not an image reference, before any Engine call', async (image) => {
    await expect(driver.start(spec(image, 'http'))).rejects.toThrow(/is not an image reference/);
  });

  it('removes the containers a crashed node of the same id left, and only those', async () => {
    const crashedId = `${nodeId}-crashed`;
    const create = (node: string) =>
      docker.createContainer({
        Image: 'localhost/fnlb-guard/sleep',
        Labels: { [PROJECT_LABEL]: '1', [NODE_LABEL]: node },
      });
    const leftover = await create(crashedId);
    const other = await create(`${nodeId}-other`);
    try {
      const restarted = await DockerDriver.start({ socketPath, nodeId: crashedId });
      expect(restarted.leftovers).toBe(1);
      await expect(leftover.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await other.inspect()).Id).toBe(other.id);
      await restarted.driver.close();
    } finally {
      await other.remove({ force: true });
      await leftover.remove({ force: true }).catch(() => {});
    }
  });
});

describe('fn-node with FN_DRIVER=auto', () => {
  it(`picks the ${engineAnswers ? 'docker' : 'process'} driver ${engineAnswers ? 'since an engine answers' : 'since no engine answers'} and logs why`, async () => {
    // The engine this file probed, named to the node: the choice is made on the same socket.
    await using node = await ScratchNode.start({
      label: 'auto',
      driver: 'auto',
      env: { LOG_LEVEL: 'info', DOCKER_HOST: `unix://${socketPath}` },
    });
    expect(node.recentOutput()).toMatch(
      engineAnswers
        ? /"driver":"docker".*auto: a Docker engine answers: docker driver/
        : /"driver":"process".*auto: no Docker engine answers/,
    );
  });
});
