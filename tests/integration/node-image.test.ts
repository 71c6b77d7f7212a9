// The node and balancer images run a Node LTS in support, whatever Node built them, and their native
// addons load on it: better-sqlite3 (fn-node's embedded datastore, its default without DB_URL) was
// compiled for the host's Node, and on a base that runs another (the offline bootstrap's) it must have
// been rebuilt for that one (docker/native-addons.sh), or opening a database fails in the image alone.
// Skipped, saying so, without an engine or without the images (docker/build-images.sh builds them).
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { imagePresent } from '../../guard/topology/images.js';
import { dockerAnswers, dockerSocket } from '../../src/common/docker.js';

const IMAGES = ['fnguard/fn-node', 'fnguard/fnlb'];
const socketPath = dockerSocket(process.env.DOCKER_HOST);
const docker = new Docker({ socketPath });
const engine = await dockerAnswers(socketPath, 2000);
const missing = engine
  ? (
      await Promise.all(IMAGES.map(async (image) => ((await imagePresent(docker, image)) ? [] : [image])))
    ).flat()
  : IMAGES;
const unavailable = !engine
  ? `no Docker engine answers on ${socketPath}`
  : missing.length > 0
    ? `${missing.join(', ')} not built (docker/build-images.sh)`
    : undefined;

/**
 * Runs `script` with the image's node in its working directory; its exit status and output. (An
 * output that is JSON as a whole comes back parsed from the engine's client: print a prefix.)
 */
async function nodeInImage(image: string, script: string): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ['node', '-e', script],
    Tty: true,
    Labels: { 'fnlb-guard': '1' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = (await container.logs({ stdout: true, stderr: true })).toString();
    return { code: StatusCode, output };
  } finally {
    await container.remove({ force: true });
  }
}

const OPENS_SQLITE = `
const Database = require('better-sqlite3');
const db = new Database(':memory:');
db.exec('CREATE TABLE t (x INTEGER)');
db.prepare('INSERT INTO t VALUES (?)').run(42);
console.log('result ' + JSON.stringify({ node: process.versions.node, x: db.prepare('SELECT x FROM t').get().x }));
`;

describe.skipIf(unavailable !== undefined)(
  `the node and balancer images${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it.each(IMAGES)('%s runs a Node LTS in support and opens a SQLite database on it', async (image) => {
      const { code, output } = await nodeInImage(image, OPENS_SQLITE);
      expect(code, output).toBe(0);
      const result = /result (\{.*\})/.exec(output)?.[1] ?? '{}';
      const { node, x } = JSON.parse(result) as { node: string; x: number };
      const major = Number(node.split('.')[0]);
      // LTS lines are the even majors; 20 left support on 2026-04-30.
      expect(major % 2, `node ${node}`).toBe(0);
      expect(major, `node ${node}`).toBeGreaterThanOrEqual(22);
      expect(x).toBe(42);
    });
  },
);
