// fn-node running functions in http-stream, the format of Fn's current runners, with both drivers: a
// real node (v1 routes of format http-stream) and the shipped functions, each container serving calls
// as POST /call on the socket it linked as lsnr.sock in a directory of its own. Hot reuse, the
// caller's URL and headers in, the function's status and headers out, stdout as a log, a crash (502),
// a timeout (504), links the node refuses, and the directory gone with its container. Then the runner
// on its own with each driver, for what no v1 route carries: a v2 fn's environment and label, and a
// call invoked by id. The Docker part is skipped, saying why, when no engine answers.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exists, functionProcesses } from '../../helpers/proc.js';
import { sampleRoute } from '../../helpers/sample-route.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { waitUntil } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';
import { FN_HEADERS } from '../../src/common/wire.js';
import { DockerDriver } from '../../src/node/drivers/docker-driver.js';
import type { Driver } from '../../src/node/drivers/driver.js';
import { ProcessDriver } from '../../src/node/drivers/process-driver.js';
import { ImageRegistry } from '../../src/node/drivers/process-registry.js';
import { createRunner } from '../../src/node/runner/index.js';
import { engineSocket, functionImagesUnavailable } from './support/function-images.js';
import { uniqueApp } from './support/runner-node.js';

const PRIMES_UP_TO_1000 = 168;
/** The nodes' FN_MAX_RESPONSE_SIZE. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** How long a stopped container, and its directory, may take to be gone. */
const GONE_MS = 15_000;

const socketPath = engineSocket;
const engineMissing = await functionImagesUnavailable();
if (engineMissing) console.warn(`[runner-http-stream] the docker driver's part is skipped: ${engineMissing}`);

const DRIVERS = [
  { kind: 'process', skip: undefined },
  { kind: 'docker', skip: engineMissing },
] as const;

for (const { kind, skip } of DRIVERS) {
  describe.skipIf(skip !== undefined)(`http-stream on fn-node (${kind} driver)`, { timeout: 60_000 }, () => {
    let node: ScratchNode;
    let api: FnClient;
    /** The docker driver's FN_IOFS_PATH. */
    const iofs = mkdtempSync(join(tmpdir(), 'fn-iofs-test-'));

    beforeAll(async () => {
      node = await ScratchNode.start({
        label: `hs-${kind}`,
        driver: kind,
        env: {
          LOG_LEVEL: 'info',
          FN_MAX_RESPONSE_SIZE: String(MAX_RESPONSE_BYTES),
          ...(kind === 'docker' ? { DOCKER_HOST: `unix://${socketPath}`, FN_IOFS_PATH: iofs } : {}),
        },
      });
      api = new FnClient(node.url, { timeoutMs: 30_000 });
    });

    afterAll(async () => {
      await node?.close();
      rmSync(iofs, { recursive: true, force: true });
    });

    /**
     * A container's socket directory on the node's file system: `<FN_IOFS_PATH>/<id>` (docker), or
     * `<tmpdir>/fn-node-iofs-<hash of the node id>-XXXXXX/<id>` (process).
     */
    function socketDirOf(container: string): string {
      return join(socketRoot(), container);
    }

    /** The folder of the node's socket directories (the process driver makes it at its first start). */
    function socketRoot(): string {
      if (kind === 'docker') return iofs;
      const key = createHash('sha256').update(node.nodeId).digest('hex').slice(0, 12);
      const roots = readdirSync(tmpdir()).filter((entry) => entry.startsWith(`fn-node-iofs-${key}-`));
      expect(roots.length, 'one folder of socket directories for the node').toBeLessThanOrEqual(1);
      return join(tmpdir(), roots[0] ?? 'not-made-yet');
    }

    /** The socket directories there now. */
    function socketDirs(): string[] {
      return existsSync(socketRoot()) ? readdirSync(socketRoot()) : [];
    }

    it('serves calls from one hot container, with the query reaching the function', async () => {
      const app = uniqueApp('hs');
      await api.createRoute(app, {
        path: '/primes',
        image: 'localhost/fnlb-guard/primes',
        format: 'http-stream',
      });
      const first = await api.call(app, '/primes', '?max=1000&loops=2');
      const second = await api.call(app, '/primes', '?max=100');
      expect([first.status, second.status], `${first.body} ${second.body}`).toEqual([200, 200]);
      expect(JSON.parse(first.body)).toMatchObject({
        hostname: node.nodeId,
        max: 1000,
        loops: 2,
        count: PRIMES_UP_TO_1000,
      });
      expect(JSON.parse(second.body)).toMatchObject({ max: 100, count: 25 });
      expect(first.headers['content-type']).toMatch(/application\/json/);
      expect(second.headers[FN_HEADERS.container]).toBe(first.headers[FN_HEADERS.container]);
      expect([first.headers[FN_HEADERS.cold], second.headers[FN_HEADERS.cold]]).toEqual(['true', 'false']);
      expect((await api.stats()).routes[`${app}/primes`]).toMatchObject({ calls: 2, containers_started: 1 });
    });

    it("gives the function the caller's headers, body and its environment", async () => {
      const app = uniqueApp('hsin');
      await api.createRoute(app, {
        path: '/hostile',
        image: 'localhost/fnlb-guard/hostile',
        format: 'http-stream',
      });
      await api.createRoute(app, {
        path: '/echo',
        image: 'localhost/fnlb-guard/echo',
        format: 'http-stream',
      });
      const headers = await api.send('GET', `/r/${app}/hostile?do=headers`, undefined, {
        'x-trace': 'abc',
        accept: 'text/plain',
      });
      expect(headers.status, headers.body).toBe(200);
      expect(JSON.parse(headers.body)).toMatchObject({ 'x-trace': ['abc'], accept: ['text/plain'] });
      const body = 'line one\r\n\r\nPOST /call HTTP/1.1\r\n ünïcödé';
      const echoed = await api.send('PUT', `/r/${app}/echo`, body, { 'content-type': 'text/x-test' });
      expect(echoed.status).toBe(200);
      expect(echoed.body).toBe(body);
      expect(echoed.headers['content-type']).toBe('text/x-test');
      const env = await api.call(app, '/echo', '?env=FN_FORMAT,FN_LISTENER,FN_APP_NAME,FN_PATH,FN_READY_FD');
      const container = env.headers[FN_HEADERS.container] ?? '';
      expect(JSON.parse(env.body)).toEqual({
        FN_FORMAT: 'http-stream',
        FN_LISTENER:
          kind === 'docker'
            ? 'unix:/tmp/iofs/lsnr.sock'
            : `unix:${join(socketDirOf(container), 'lsnr.sock')}`,
        FN_APP_NAME: app,
        FN_PATH: '/echo',
        FN_READY_FD: null,
      });
    });

    it("gives the caller the function's status and headers", async () => {
      const app = uniqueApp('hsout');
      await api.createRoute(app, {
        path: '/sleep',
        image: 'localhost/fnlb-guard/sleep',
        format: 'http-stream',
      });
      await api.createRoute(app, {
        path: '/hostile',
        image: 'localhost/fnlb-guard/hostile',
        format: 'http-stream',
      });
      const created = await api.call(app, '/sleep', '?status=201');
      expect(created.status, created.body).toBe(201);
      expect(JSON.parse(created.body)).toMatchObject({ sleptMs: 0 });
      // The function's own 503 is the caller's, not the node's refusal.
      const refused = await api.call(app, '/sleep', '?status=503');
      expect(refused.status).toBe(503);
      expect(refused.headers['fn-refused']).toBeUndefined();
      expect(refused.headers[FN_HEADERS.container]).toBe(created.headers[FN_HEADERS.container]);
      const custom = await api.call(app, '/hostile', '?do=bad-header');
      expect(custom.status).toBe(200);
      expect(custom.headers['x-good']).toBe('kept');
      expect(custom.headers['x-bad']).toBeUndefined();
      // The node's own headers stay the node's.
      const reserved = await api.call(app, '/hostile', '?do=reserved');
      expect(reserved.headers[FN_HEADERS.node]).toBe(node.nodeId);
      expect(reserved.headers[FN_HEADERS.container]).toBe(custom.headers[FN_HEADERS.container]);
    });

    it('refuses an answer over FN_MAX_RESPONSE_SIZE with 502 naming the limit, and drops the container', async () => {
      const app = uniqueApp('hsbig');
      await api.createRoute(app, {
        path: '/hostile',
        image: 'localhost/fnlb-guard/hostile',
        format: 'http-stream',
      });
      const fits = await api.call(app, '/hostile', `?do=flood&bytes=${MAX_RESPONSE_BYTES}`);
      expect(fits.status, fits.body.slice(0, 200)).toBe(200);
      expect(fits.body.length).toBe(MAX_RESPONSE_BYTES);
      const over = await api.call(app, '/hostile', `?do=flood&bytes=${MAX_RESPONSE_BYTES * 4}`);
      expect(over.status).toBe(502);
      expect(JSON.parse(over.body).error.message).toMatch(
        new RegExp(
          `^invalid http-stream response from function: .* over the limit of ${MAX_RESPONSE_BYTES} bytes`,
        ),
      );
      expect(over.headers[FN_HEADERS.container]).toBe(fits.headers[FN_HEADERS.container]);
      const next = await api.call(app, '/hostile');
      expect(next.status).toBe(200);
      expect(next.headers[FN_HEADERS.container]).not.toBe(over.headers[FN_HEADERS.container]);
    });

    it('logs what the function writes on stdout, and keeps the container', async () => {
      const app = uniqueApp('hslog');
      await api.createRoute(app, {
        path: '/hostile',
        image: 'localhost/fnlb-guard/hostile',
        format: 'http-stream',
      });
      // In a stdio format this is a 103 head before the answer; here stdout is only a log.
      const hints = await api.call(app, '/hostile', '?do=early-hints');
      expect(hints.status, hints.body).toBe(200);
      expect(hints.body).toBe('after the hints');
      const next = await api.call(app, '/hostile');
      expect(next.body).toBe('ok');
      expect(next.headers[FN_HEADERS.container]).toBe(hints.headers[FN_HEADERS.container]);
      const container = hints.headers[FN_HEADERS.container];
      await waitUntil(
        'the stdout line in the node log',
        () =>
          node
            .recentOutput()
            .split('\n')
            .some(
              (line) =>
                line.includes('"stream":"stdout"') &&
                line.includes(`"container":"${container}"`) &&
                line.includes('HTTP/1.1 103 Early Hints'),
            ),
        5000,
      );
    });

    it('answers a crash with 502 and never reuses the container', async () => {
      const app = uniqueApp('hscrash');
      await api.createRoute(app, {
        path: '/crash',
        image: 'localhost/fnlb-guard/crash',
        format: 'http-stream',
      });
      const warm = await api.call(app, '/crash', '?ok=1');
      expect(warm.status, warm.body).toBe(200);
      const crashed = await api.call(app, '/crash');
      expect(crashed.status).toBe(502);
      const message = JSON.parse(crashed.body).error.message as string;
      expect(message).toMatch(/^function failed/);
      if (kind === 'process') expect(message).toMatch(/exited with code 3/);
      expect(crashed.headers[FN_HEADERS.container]).toBe(warm.headers[FN_HEADERS.container]);
      const next = await api.call(app, '/crash', '?ok=1');
      expect(next.status, next.body).toBe(200);
      expect(next.headers[FN_HEADERS.container]).not.toBe(crashed.headers[FN_HEADERS.container]);
      expect(next.headers[FN_HEADERS.cold]).toBe('true');
    });

    it('answers a call past its timeout with 504 and stops the container, its directory with it', async () => {
      const app = uniqueApp('hshang');
      await api.createRoute(app, {
        path: '/sleep',
        image: 'localhost/fnlb-guard/sleep',
        format: 'http-stream',
        timeout: 1,
      });
      const warm = await api.call(app, '/sleep');
      expect(warm.status, warm.body).toBe(200);
      const container = warm.headers[FN_HEADERS.container] ?? '';
      const dir = socketDirOf(container);
      expect(existsSync(join(dir, 'lsnr.sock')), `${dir}/lsnr.sock while the container lives`).toBe(true);
      const started = performance.now();
      const hung = await api.call(app, '/sleep', '?ms=10000');
      expect(hung.status).toBe(504);
      expect(JSON.parse(hung.body).error.message).toBe('Timed out');
      expect(performance.now() - started).toBeLessThan(5000);
      expect(hung.headers[FN_HEADERS.container]).toBe(container);
      await waitUntil(`the socket directory ${dir} removed`, () => !existsSync(dir), GONE_MS);
      const next = await api.call(app, '/sleep');
      expect(next.status).toBe(200);
      expect(next.headers[FN_HEADERS.container]).not.toBe(container);
    });

    it('removes the socket directory of a container that stopped after its idle_timeout', async () => {
      const app = uniqueApp('hsidle');
      await api.createRoute(app, {
        path: '/echo',
        image: 'localhost/fnlb-guard/echo',
        format: 'http-stream',
        idle_timeout: 1,
      });
      const first = await api.call(app, '/echo', '', 'hello');
      expect(first.status, first.body).toBe(200);
      const container = first.headers[FN_HEADERS.container] ?? '';
      const dir = socketDirOf(container);
      expect(existsSync(dir), `${dir} while the container lives`).toBe(true);
      await waitUntil(`the socket directory ${dir} removed`, () => !existsSync(dir), GONE_MS);
    });

    it('keeps a hot container while its node lives, and ends it with a node that dies', async () => {
      await using own = await ScratchNode.start({
        label: `hs-orphan-${kind}`,
        driver: kind,
        env: kind === 'docker' ? { DOCKER_HOST: `unix://${socketPath}`, FN_IOFS_PATH: iofs } : {},
      });
      const ownApi = new FnClient(own.url, { timeoutMs: 30_000 });
      const app = uniqueApp('hsorphan');
      await ownApi.createRoute(app, {
        path: '/sleep',
        image: 'localhost/fnlb-guard/sleep',
        format: 'http-stream',
      });
      const first = await ownApi.call(app, '/sleep');
      expect(first.status, first.body).toBe(200);
      const container = first.headers[FN_HEADERS.container] ?? '';
      // Nothing is written to its stdin, and it does not end for that.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const second = await ownApi.call(app, '/sleep');
      expect(second.headers[FN_HEADERS.container]).toBe(container);
      const pid = kind === 'process' ? functionProcesses(own.pid).get(container) : undefined;
      if (kind === 'process') expect(pid, 'the function process').toBeDefined();
      await own.kill();
      if (kind === 'process') {
        await waitUntil(`the orphaned function process ${pid} gone`, () => !exists(pid as number), GONE_MS);
        // What the killed node left, which a node of its id would have removed at its start.
        const key = createHash('sha256').update(own.nodeId).digest('hex').slice(0, 12);
        for (const entry of readdirSync(tmpdir()))
          if (entry.startsWith(`fn-node-iofs-${key}-`)) rmSync(join(tmpdir(), entry), { recursive: true });
      } else {
        const docker = new Docker({ socketPath });
        await waitUntil(
          `the orphaned container ${container} gone`,
          () =>
            docker
              .getContainer(`fnguard-fn-${container}`)
              .inspect()
              .then(
                () => false,
                (error: { statusCode?: number }) => error.statusCode === 404,
              ),
          GONE_MS,
        );
      }
    });

    for (const [how, words] of [
      ['outside', /lsnr\.sock links to "\.\.\/escaped\.sock", which leaves its directory/],
      ['absolute', /lsnr\.sock links to "\/var\/run\/docker\.sock", an absolute path/],
    ] as const) {
      it(`refuses to start a function whose lsnr.sock links ${how} its directory`, async () => {
        const app = uniqueApp('hslink');
        await api.createRoute(app, {
          path: '/hostile',
          image: 'localhost/fnlb-guard/hostile',
          format: 'http-stream',
          config: { HOSTILE_LINK: how },
        });
        const before = new Set(socketDirs());
        const refused = await api.call(app, '/hostile');
        expect(refused.status).toBe(502);
        const message = JSON.parse(refused.body).error.message as string;
        expect(message).toMatch(/^function failed to start: localhost\/fnlb-guard\/hostile: /);
        expect(message).toMatch(words);
        // Nothing of it is left: no socket directory, no container.
        await waitUntil(
          'no socket directory but those there before',
          () => socketDirs().every((entry) => before.has(entry)),
          GONE_MS,
        );
        if (kind === 'docker') {
          const docker = new Docker({ socketPath });
          await waitUntil(
            'no function container of the app',
            async () =>
              (
                await docker.listContainers({
                  all: true,
                  filters: { label: [`fnlb-guard.node=${node.nodeId}`, `fnlb-guard.app=${app}`] },
                })
              ).length === 0,
            GONE_MS,
          );
        }
      });
    }
  });
}

const silent = pino({ level: 'silent' });

describe('the runner in http-stream, for a v2 fn', { timeout: 60_000 }, () => {
  for (const { kind, skip } of DRIVERS) {
    it.skipIf(skip !== undefined)(
      `gives a fn's containers its ids and label, and a call invoked by id the request as it came (${kind} driver)`,
      async () => {
        const nodeId = `hs-runner-${randomBytes(3).toString('hex')}`;
        const iofsPath = mkdtempSync(join(tmpdir(), 'fn-iofs-'));
        const driver: Driver =
          kind === 'process'
            ? new ProcessDriver({ registry: ImageRegistry.load(), confinement: { nodeId } })
            : (await DockerDriver.start({ socketPath, nodeId, iofsPath })).driver;
        const runner = createRunner({ nodeId, driver, logger: silent, capacityMb: 1024 });
        const fn = { id: '01FNID0000000000000000000A', name: 'echo', appId: '01APPID000000000000000000B' };
        const app = { name: 'v2app', config: {} };
        const route = sampleRoute('v2app', '/echo', {
          image: 'localhost/fnlb-guard/echo',
          format: 'http-stream',
        });
        try {
          // Invoked by id: the caller's headers reach the function as they are (echo answers the
          // content type it got), and its answer's headers come back as they are.
          const invoked = await runner.run({
            id: randomUUID(),
            app,
            route,
            fn,
            invoke: true,
            method: 'POST',
            requestUrl: 'http://node/invoke/01FNID0000000000000000000A',
            headers: { 'content-type': ['text/x-test'], 'x-trace': ['abc'] },
            body: Buffer.from('hello'),
          });
          expect(invoked.status).toBe(200);
          expect(invoked.body.toString()).toBe('hello');
          expect(invoked.headers['content-type']).toEqual(['text/x-test']);
          expect(invoked.headers['fn-http-status']).toBeUndefined();
          // An HTTP call to the same fn: the same container, the caller's URL reaching the function.
          const env = await runner.run({
            id: randomUUID(),
            app,
            route,
            fn,
            method: 'GET',
            requestUrl: 'http://node/t/v2app/echo?env=FN_FN_ID,FN_APP_ID,FN_FN_NAME,FN_APP_NAME,FN_FORMAT',
            headers: {},
            body: Buffer.alloc(0),
          });
          expect(env.containerId).toBe(invoked.containerId);
          expect(JSON.parse(env.body.toString())).toEqual({
            FN_FN_ID: fn.id,
            FN_APP_ID: fn.appId,
            FN_FN_NAME: 'echo',
            FN_APP_NAME: 'v2app',
            FN_FORMAT: 'http-stream',
          });
          if (kind === 'docker') {
            const info = await new Docker({ socketPath })
              .getContainer(`fnguard-fn-${env.containerId}`)
              .inspect();
            expect(info.Config.Labels).toMatchObject({ 'fnlb-guard.fn': fn.id });
            expect(info.Mounts).toMatchObject([{ Type: 'bind', Destination: '/tmp/iofs', RW: true }]);
          }
        } finally {
          await runner.close();
          rmSync(iofsPath, { recursive: true, force: true });
        }
      },
    );
  }
});
