// The recording proxy of the Docker API socket (guard/measure/engine-proxy.ts) in front of the real
// engine: fn-node's docker driver works through it unchanged (create, the hijacked attach both ways,
// start, stop), the engine's event stream passes through, and every create is in its log with the
// route and node name it asked for and the engine's answer. Containers removed the moment they are
// made are all counted from the log, where the engine's events (engine-watch.ts) can only call them
// lost. An attach the engine hands over without an Upgrade passes; a connection that is not HTTP is
// logged as a gap the counts then report. Skipped, saying so, when no Docker engine answers.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineLogLine, EngineProxy } from '../../guard/measure/engine-proxy.js';
import { EngineRecord } from '../../guard/measure/engine-record.js';
import { EngineWatch } from '../../guard/measure/engine-watch.js';
import { ROUTE_MARKER } from '../../guard/topology/route-marker.js';
import { NODE_LABEL } from '../../src/common/docker.js';
import { DockerDriver } from '../../src/node/drivers/docker-driver.js';
import { callHttp } from './support/driver-calls.js';
import { engineSocket, functionImagesUnavailable } from './support/function-images.js';

const skipReason = await functionImagesUnavailable();
if (skipReason) console.warn(`[engine-proxy] skipped: ${skipReason}`);

const nodeId = `fng-proxy-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'fnguard-engine-proxy-'));
const socketPath = join(dir, 'docker.sock');
const logPath = join(dir, 'creates.jsonl');
let proxy: EngineProxy;
const viaProxy = new Docker({ socketPath });

const logLines = (): EngineLogLine[] =>
  readFileSync(logPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EngineLogLine);

describe.skipIf(skipReason !== undefined)(
  'the recording proxy of the engine socket',
  { timeout: 90_000 },
  () => {
    beforeAll(async () => {
      proxy = await EngineProxy.start({ engineSocket, socketPath, logPath });
    });

    afterAll(async () => {
      const engine = new Docker({ socketPath: engineSocket });
      const left = await engine.listContainers({
        all: true,
        filters: { label: [`${NODE_LABEL}=${nodeId}`] },
      });
      await Promise.all(left.map((info) => engine.getContainer(info.Id).remove({ force: true })));
      await proxy?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("passes a node's driver through unchanged and logs its create with route, name and answer", async () => {
      const record = EngineRecord.open(logPath);
      const { driver } = await DockerDriver.start({ socketPath, nodeId, readyTimeoutMs: 15_000 });
      try {
        const id = randomBytes(6).toString('hex');
        const instance = await driver.start({
          id,
          image: 'localhost/fnlb-guard/primes',
          memoryMb: 64,
          env: { FN_FORMAT: 'http', FN_CONTAINER_ID: id, HOSTNAME: nodeId, [ROUTE_MARKER]: 'proxyapp/p' },
          labels: { [NODE_LABEL]: nodeId },
        });
        for (let call = 0; call < 3; call++) {
          const response = await callHttp(instance, 'http://node/r/proxyapp/p?max=1000');
          expect(response?.status).toBe(200);
          expect(JSON.parse(response?.body.toString() ?? '')).toMatchObject({ hostname: nodeId, count: 168 });
        }
        await instance.stop();
      } finally {
        await driver.close();
      }
      expect(await record.settle()).toBeUndefined();
      expect(record.containersOf('proxyapp/p')).toEqual([
        expect.objectContaining({
          image: 'localhost/fnlb-guard/primes',
          hostname: nodeId,
          route: 'proxyapp/p',
        }),
      ]);
      expect(record.lost).toBe(0);
      record.close();
    });

    it('logs a refused create with its status and counts no container for it', async () => {
      const record = EngineRecord.open(logPath);
      const refused = viaProxy.createContainer({
        Image: 'localhost/fnlb-guard/no-such-image:never',
        Env: [`${ROUTE_MARKER}=proxyapp/refused`],
        Hostname: nodeId,
      });
      await expect(refused).rejects.toMatchObject({ statusCode: 404 });
      await record.settle();
      expect(record.containersOf('proxyapp/refused')).toEqual([]);
      expect(record.lost).toBe(0);
      const answers = logLines().flatMap((line) => ('answered' in line ? [line.answered.status] : []));
      expect(answers).toContain(404);
      record.close();
    });

    it('counts every container of a burst removed at once from the log alone; the events see them too, or call them lost', async () => {
      const BURST = 20;
      const record = EngineRecord.open(logPath);
      // The event stream itself through the proxy: an endless chunked answer must pass as it comes.
      const watch = await EngineWatch.start(socketPath);
      try {
        await Promise.all(
          Array.from({ length: BURST }, async () => {
            const container = await viaProxy.createContainer({
              Image: 'localhost/fnlb-guard/sleep',
              Env: [`${ROUTE_MARKER}=proxyapp/burst`, `HOSTNAME=${nodeId}`],
              Labels: { [NODE_LABEL]: nodeId },
            });
            await container.remove({ force: true });
          }),
        );
        expect(await record.settle()).toBeUndefined();
        expect(record.containersOf('proxyapp/burst')).toHaveLength(BURST);
        expect(record.lost).toBe(0);
        expect(await watch.settle()).toBeUndefined();
        const watched = watch.containersOf('proxyapp/burst').length;
        // The watch saw every create event, but could inspect only what was still there.
        expect(watched + watch.lost).toBe(BURST);
        console.log(
          `[engine-proxy] burst of ${BURST} removed at once: log ${BURST}, events inspected ${watched}, lost ${watch.lost}`,
        );
      } finally {
        watch.close();
        record.close();
      }
    });
  },
);

describe.skipIf(skipReason !== undefined)(
  'the recording proxy on streams it cannot read',
  { timeout: 60_000 },
  () => {
    it('passes an attach the engine hijacks without an Upgrade, and counts on', async () => {
      const own = await EngineProxy.inTempDir(engineSocket, 'attach');
      const client = new Docker({ socketPath: own.socketPath });
      const record = EngineRecord.open(own.logPath);
      const container = await client.createContainer({
        Image: 'localhost/fnlb-guard/sleep',
        Env: [`${ROUTE_MARKER}=proxyapp/attach`, 'FN_FORMAT=http'],
        Labels: { [NODE_LABEL]: nodeId },
        OpenStdin: true,
        StdinOnce: false,
      });
      try {
        // No hijack option: a plain request the engine answers with the container's raw stream.
        const stream = (await container.attach({
          stream: true,
          stdout: true,
          stderr: true,
        })) as NodeJS.ReadableStream;
        await container.start();
        await container.kill();
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        expect(await record.settle()).toBeUndefined();
        expect(record.containersOf('proxyapp/attach')).toHaveLength(1);
      } finally {
        await container.remove({ force: true }).catch(() => {});
        record.close();
        await own.close();
      }
    });

    it('logs a gap, and the counts say so, when a connection is not HTTP', async () => {
      const own = await EngineProxy.inTempDir(engineSocket, 'garbage');
      const record = EngineRecord.open(own.logPath);
      try {
        await new Promise<void>((resolve) => {
          const socket = createConnection(own.socketPath, () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
          socket.resume();
        });
        expect(await record.settle()).toMatch(
          /may have missed creates: a connection to the engine could not be read as HTTP/,
        );
      } finally {
        record.close();
        await own.close();
      }
    });
  },
);
