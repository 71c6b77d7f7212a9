// Fn's v2 API and its http-stream calls as a real Fn server (v0.3.753, built by scripts/build-fn.sh
// into fnguard-local/fnserver:0.3.753) answers them — the shapes, ids, status codes and messages a v2
// node must reproduce, and this project's function images running there unchanged — asked of that
// server and of fn-node with both of its drivers, so fn-node is held to what Fn itself answers. No Fn
// image can be pulled here and CI cannot build one: without the image that target is skipped, saying
// how to build it; fn-node's process-driver target always runs.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagePresent } from '../../guard/topology/images.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { waitUntil } from '../../helpers/wait.js';
import { dockerAnswers, dockerSocket, hostnameFor, PROJECT_LABEL } from '../../src/common/docker.js';
import { FnClient } from '../../src/common/fn-client.js';

const FN_IMAGE = 'fnguard-local/fnserver:0.3.753';
const socketPath = dockerSocket(process.env.DOCKER_HOST);
const docker = new Docker({ socketPath });

const engineAnswers = await dockerAnswers(socketPath, 2000);

async function fnUnavailable(): Promise<string | undefined> {
  if (!engineAnswers) return `no Docker engine answers on ${socketPath}`;
  if (!(await imagePresent(docker, FN_IMAGE)))
    return `no ${FN_IMAGE}: build it from Fn's v0.3.753 sources with scripts/build-fn.sh (see docs/guard.md, Building a real Fn server)`;
  if (!(await imagePresent(docker, 'localhost/fnlb-guard/sleep')))
    return 'no localhost/fnlb-guard/sleep image: run docker/build-images.sh';
  return undefined;
}

async function dockerNodeUnavailable(): Promise<string | undefined> {
  if (!engineAnswers) return `no Docker engine answers on ${socketPath}`;
  if (!(await imagePresent(docker, 'localhost/fnlb-guard/sleep')))
    return 'no localhost/fnlb-guard/sleep image: run docker/build-images.sh';
  return undefined;
}

/** A server under test: where it answers, and the host name its functions report. */
interface Served {
  fn: FnClient;
  hostnames: string[];
  stop(): Promise<void>;
}

interface Target {
  label: string;
  skipReason: string | undefined;
  start(): Promise<Served>;
}

/** Fn's own server in a container, with the iofs directory the engine bind-mounts by the host's path. */
async function startFn(): Promise<Served> {
  const labelTag = `fnguard-contract-${randomBytes(3).toString('hex')}`;
  const iofs = mkdtempSync(join(tmpdir(), 'fnguard-iofs-'));
  chmodSync(iofs, 0o777);
  const server = await docker.createContainer({
    Image: FN_IMAGE,
    name: `fnguard-fn-contract-${randomBytes(3).toString('hex')}`,
    Labels: { [PROJECT_LABEL]: '1' },
    Env: [`FN_IOFS_PATH=${iofs}`, `FN_IOFS_DOCKER_PATH=${iofs}`, `FN_CONTAINER_LABEL_TAG=${labelTag}`],
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: {
      Binds: ['/var/run/docker.sock:/var/run/docker.sock', `${iofs}:${iofs}`],
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  });
  const stop = async () => {
    // Stopped, not killed: Fn removes its function containers as it stops.
    await server.stop({ t: 10 }).catch(() => {});
    await server.remove({ force: true }).catch(() => {});
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`fn-agent-classifier=${labelTag}`] },
    });
    await Promise.all(
      left.map((info) =>
        docker
          .getContainer(info.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
    rmSync(iofs, { recursive: true, force: true });
  };
  try {
    await server.start();
    const inspected = await server.inspect();
    const port = inspected.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    return {
      fn: new FnClient(`http://127.0.0.1:${port}`, { timeoutMs: 30_000 }),
      hostnames: [inspected.Config.Hostname],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** fn-node on a SQLite file of its own, with one driver. */
async function startNode(driver: 'process' | 'docker'): Promise<Served> {
  const node = await ScratchNode.start({ label: `contract-${driver}`, driver });
  return {
    fn: new FnClient(node.url, { timeoutMs: 30_000 }),
    hostnames: [node.nodeId, hostnameFor(node.nodeId)],
    stop: () => node.close(),
  };
}

const targets: Target[] = [
  { label: 'Fn v0.3.753', skipReason: await fnUnavailable(), start: startFn },
  { label: 'fn-node, process driver', skipReason: undefined, start: () => startNode('process') },
  {
    label: 'fn-node, docker driver',
    skipReason: await dockerNodeUnavailable(),
    start: () => startNode('docker'),
  },
];
for (const target of targets) {
  if (target.skipReason) console.warn(`[fn-v2-contract] ${target.label} skipped: ${target.skipReason}`);
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(targets)('$label: the v2 API and http-stream calls', (target) => {
  let served: Served | undefined;
  let fn: FnClient;

  beforeAll(async () => {
    if (target.skipReason) return;
    served = await target.start();
    fn = served.fn;
    await waitUntil(
      'the server to answer /version',
      async () => (await fn.send('GET', '/version').catch(() => undefined))?.status === 200,
      30_000,
      200,
    );
  }, 60_000);

  afterAll(async () => {
    await served?.stop();
  }, 60_000);

  const json = (body: string) => JSON.parse(body) as Record<string, unknown>;
  /** An error as Fn answers it: the status, and a body of just {"message"}. */
  const refusal = (result: { status: number; body: string }) => ({
    status: result.status,
    body: json(result.body),
  });
  const refused = (status: number, message: string) => ({ status, body: { message } });

  it.skipIf(target.skipReason !== undefined)(
    'creates apps, fns and triggers with Fn ids and refuses bad input with {"message"}',
    async () => {
      const app = await fn.send('POST', '/v2/apps', { name: 'contract' });
      expect(app.status).toBe(200);
      const appBody = json(app.body);
      expect(appBody).toMatchObject({ name: 'contract' });
      expect(appBody.id).toMatch(ULID);
      expect(appBody.created_at).toMatch(TIMESTAMP);
      expect(refusal(await fn.send('POST', '/v2/apps', { name: 'contract' }))).toEqual(
        refused(409, 'App already exists'),
      );
      expect(refusal(await fn.send('POST', '/v2/apps', { name: 'bad name!' }))).toEqual(
        refused(400, 'Invalid app name'),
      );
      expect(refusal(await fn.send('POST', '/v2/apps', 'garbage'))).toEqual(refused(400, 'Invalid JSON'));
      const listed = json((await fn.send('GET', '/v2/apps?name=contract')).body);
      expect(listed.items).toEqual([appBody]);

      const created = await fn.send('POST', '/v2/fns', {
        name: 'sleep',
        app_id: appBody.id,
        image: 'localhost/fnlb-guard/sleep',
        config: { FNG_ROUTE: 'contract/sleep' },
      });
      expect(created.status).toBe(200);
      const fnBody = json(created.body);
      expect(fnBody).toMatchObject({
        name: 'sleep',
        app_id: appBody.id,
        image: 'localhost/fnlb-guard/sleep',
        memory: 128,
        timeout: 30,
        idle_timeout: 30,
        config: { FNG_ROUTE: 'contract/sleep' },
      });
      expect(fnBody.id).toMatch(ULID);
      expect(
        refusal(
          await fn.send('POST', '/v2/fns', {
            name: 'sleep',
            app_id: appBody.id,
            image: 'localhost/fnlb-guard/sleep',
          }),
        ),
      ).toEqual(refused(409, 'Fn with specified name already exists'));
      expect(refusal(await fn.send('POST', '/v2/fns', { name: 'x', app_id: appBody.id }))).toEqual(
        refused(400, 'Missing image on Fn'),
      );

      const trigger = await fn.send('POST', '/v2/triggers', {
        name: 'sleep',
        app_id: appBody.id,
        fn_id: fnBody.id,
        type: 'http',
        source: '/sleep',
      });
      expect(trigger.status).toBe(200);
      expect(json(trigger.body)).toMatchObject({
        name: 'sleep',
        app_id: appBody.id,
        fn_id: fnBody.id,
        type: 'http',
        source: '/sleep',
      });
      const sameSource = {
        name: 'again',
        app_id: appBody.id,
        fn_id: fnBody.id,
        type: 'http',
        source: '/sleep',
      };
      expect(refusal(await fn.send('POST', '/v2/triggers', sameSource))).toEqual(
        refused(409, 'Trigger with the same type and source exists on this app'),
      );

      // The shipped image in http-stream: the caller's query reaches it, its status reaches the caller,
      // and it reports the server's host name, as a node attribution by hostname needs.
      const call = await fn.send('GET', '/t/contract/sleep?ms=1&status=418');
      expect(call.status).toBe(418);
      expect(call.headers['fn-call-id']).toMatch(ULID);
      const answer = json(call.body);
      expect(answer.sleptMs).toBe(1);
      expect(served?.hostnames).toContain(answer.hostname);
      expect((await fn.send('POST', `/invoke/${fnBody.id}`)).status).toBe(200);
      expect(refusal(await fn.send('GET', '/t/contract/nope'))).toEqual(refused(404, 'Trigger not found'));
      expect(refusal(await fn.send('POST', '/invoke/01NOPE'))).toEqual(refused(404, 'Fn not found'));

      // Deleting an app takes its fns with it (its trigger may still answer for a while from the
      // server's cache of what it served).
      expect((await fn.send('DELETE', `/v2/apps/${appBody.id}`)).status).toBe(204);
      expect((await fn.send('GET', '/v2/apps?name=contract')).body).toContain('"items":[]');
      expect((await fn.send('GET', `/v2/fns/${fnBody.id}`)).status).toBe(404);
    },
    120_000,
  );
});
