// Whether the white-box files that run this checkout's function images on the Docker engine can run
// here: an engine must answer, and the images must be this checkout's build (docker/build-images.sh
// brings them up to date in a second or two when nothing changed). One answer for every such file.
import { buildProjectImages } from '../../../guard/topology/images.js';
import { dockerAnswers, dockerSocket } from '../../../src/common/docker.js';

export const engineSocket = dockerSocket(process.env.DOCKER_HOST);

/** Why the function images cannot be run here, or undefined when they are up to date on the engine. */
export async function functionImagesUnavailable(): Promise<string | undefined> {
  if (!(await dockerAnswers(engineSocket, 2000))) return `no Docker engine answers on ${engineSocket}`;
  try {
    await buildProjectImages();
  } catch (error) {
    return `the function images could not be brought up to date: ${(error as Error).message.split('\n')[0]}`;
  }
  return undefined;
}
