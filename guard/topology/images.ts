// The images the containers and swarm topologies run: the project's own are brought up to date by
// docker/build-images.sh (a second or two when nothing changed) unless another build is under test
// (FN_NODE_IMAGE or FNLB_IMAGE) or FN_BUILD_IMAGES=0; every image must be on the engine, since
// nothing is pulled from a registry here.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { PACKAGE } from '../../src/common/package-root.js';

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

export async function prepareImages(docker: Docker, env: NodeJS.ProcessEnv): Promise<Images> {
  const images: Images = {
    node: env.FN_NODE_IMAGE || 'fnguard/fn-node',
    balancer: env.FNLB_IMAGE || 'fnguard/fnlb',
    postgres:
      env.FN_POSTGRES_IMAGE ||
      ((await imagePresent(docker, LOCAL_POSTGRES)) ? LOCAL_POSTGRES : 'postgres:16'),
    projectBalancer: !env.FNLB_IMAGE,
    projectNode: !env.FN_NODE_IMAGE,
  };
  if (images.projectBalancer && images.projectNode && env.FN_BUILD_IMAGES !== '0') {
    const building = Date.now();
    await buildProjectImages();
    console.log(`[images] project images up to date (${Date.now() - building} ms)`);
  }
  for (const image of [images.node, images.balancer]) {
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
