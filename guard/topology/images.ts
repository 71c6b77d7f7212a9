// The images the containers and swarm topologies run: the project's own (its node, its balancer and
// the function images every node build runs) are brought up to date by docker/build-images.sh (a
// second or two when nothing changed) unless the buildImages setting is off; a node or balancer image
// of another build is used as it is. Every image must be on the engine, since nothing is pulled from
// a registry here.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { functionImage, GUARD_FUNCTIONS } from '../../src/common/function-images.js';
import { PACKAGE } from '../../src/common/package-root.js';
import type { GuardSettings } from '../settings/resolve.js';

const BUILD_TIMEOUT_MS = 300_000;
const LOCAL_POSTGRES = 'fnguard/base-postgres:local';

export interface Images {
  node: string;
  balancer: string;
  postgres: string;
  /** The project's own fnlb (its flags are known), not another balancer image. */
  projectBalancer: boolean;
  projectNode: boolean;
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  return docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

export type ImageSettings = Pick<
  GuardSettings,
  'nodeImage' | 'balancerImage' | 'postgresImage' | 'buildImages' | 'functionImages'
>;

export async function prepareImages(docker: Docker, settings: ImageSettings): Promise<Images> {
  const images: Images = {
    node: settings.nodeImage ?? 'fnguard/fn-node',
    balancer: settings.balancerImage ?? 'fnguard/fnlb',
    postgres:
      settings.postgresImage ??
      ((await imagePresent(docker, LOCAL_POSTGRES)) ? LOCAL_POSTGRES : 'postgres:16'),
    projectBalancer: settings.balancerImage === undefined,
    projectNode: settings.nodeImage === undefined,
  };
  if (settings.buildImages) {
    const building = Date.now();
    await buildProjectImages();
    console.log(`[images] project images up to date (${Date.now() - building} ms)`);
  }
  const functions = GUARD_FUNCTIONS.map((name) => functionImage(name, settings.functionImages));
  for (const image of [images.node, images.balancer, ...functions]) {
    if (!(await imagePresent(docker, image))) {
      throw new Error(
        `image ${image} is not on the Docker engine: run docker/offline/bootstrap.sh (offline) or docker/build-images.sh`,
      );
    }
  }
  return images;
}

/** docker/build-images.sh: the project's node, balancer and function images, up to date. */
export function buildProjectImages(): Promise<void> {
  const script = join(PACKAGE.root, 'docker/build-images.sh');
  return new Promise((resolve, reject) => {
    execFile(script, [], { cwd: PACKAGE.root, timeout: BUILD_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}
