// The shipped functions in http-stream, the format of Fn's current runners, as a runner meets them: a
// process given FN_FORMAT=http-stream and FN_LISTENER listens on another socket in that directory,
// world-writable, and links lsnr.sock to it by a relative name; calls are POST /call on the link; the
// function ends on SIGTERM, or when the stdin it was given ends. And the image, run on the Docker
// engine the way Fn's runners run it: no stdin, read-only, no capabilities, user 1000, the socket
// directory bind-mounted, the runner's host name.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { childEnvironment } from '../../helpers/child-env.js';
import { waitUntil } from '../../helpers/wait.js';
import { PROJECT_LABEL } from '../../src/common/docker.js';
import { functionEntry } from '../../src/common/function-images.js';
import { engineSocket, functionImagesUnavailable } from './support/function-images.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  socketPath: string,
  headers: Record<string, string>,
  body = '',
  path = '/call',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ socketPath, path, method: 'POST', headers, timeout: 5000 }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer within 5 s')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const started: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts a function in http-stream and waits for its link, as a runner does (at most 5 s). */
async function startFunction(name: string, listener?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fdk-iofs-'));
  dirs.push(dir);
  const link = join(dir, 'lsnr.sock');
  const child = spawn(process.execPath, [functionEntry(name)], {
    env: childEnvironment({ FN_FORMAT: 'http-stream', FN_LISTENER: listener ?? `unix:${link}` }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, dir, link, stderr: () => stderr };
}

function linked(link: string): boolean {
  try {
    return lstatSync(link).isSymbolicLink();
  } catch {
    return false;
  }
}

describe('a function in http-stream', () => {
  it('links lsnr.sock by a relative name to a world-writable socket beside it, once it listens', async () => {
    const { link, dir } = await startFunction('echo');
    await waitUntil('lsnr.sock linked', () => linked(link), 5000);
    const target = readlinkSync(link);
    expect(target).not.toContain('/');
    expect(target).not.toBe('lsnr.sock');
    const socket = statSync(join(dir, target));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o666);
  });

  it("serves an HTTP trigger's calls with the caller's URL, and the user's status inside a 200", async () => {
    const { link } = await startFunction('sleep');
    await waitUntil('lsnr.sock linked', () => linked(link), 5000);
    const trigger = {
      'Fn-Call-Id': '01TEST',
      'Fn-Deadline': new Date(Date.now() + 30_000).toISOString(),
      'Fn-Intent': 'httprequest',
      'Fn-Http-Method': 'GET',
    };
    const ok = await call(link, { ...trigger, 'Fn-Http-Request-Url': 'http://lb/t/app/sleep?ms=1' });
    expect(ok.status).toBe(200);
    expect(ok.headers['fn-http-status']).toBe('200');
    expect(ok.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ok.body)).toMatchObject({ sleptMs: 1 });
    // The user's 503 is the user's: the runner hears 200, the trigger's caller 503.
    const refused = await call(link, {
      ...trigger,
      'Fn-Http-Request-Url': 'http://lb/t/app/sleep?status=503',
    });
    expect(refused.status).toBe(200);
    expect(refused.headers['fn-http-status']).toBe('503');
    // Hot: the same process answers call after call on the same socket.
    const again = await call(link, { ...trigger, 'Fn-Http-Request-Url': 'http://lb/t/app/sleep' });
    expect(again.headers['fn-http-status']).toBe('200');
  });

  it('answers a call invoked by id with the function’s own headers and body', async () => {
    const { link } = await startFunction('echo');
    await waitUntil('lsnr.sock linked', () => linked(link), 5000);
    const answer = await call(link, { 'Fn-Call-Id': '01TEST', 'Content-Type': 'text/plain' }, 'hello');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain');
    expect(answer.headers['fn-http-status']).toBeUndefined();
    expect(answer.body).toBe('hello');
  });

  it('refuses what is not POST /call with 404, and a crashed call ends the connection without an answer', async () => {
    const { link } = await startFunction('crash');
    await waitUntil('lsnr.sock linked', () => linked(link), 5000);
    expect((await call(link, {}, '', '/other')).status).toBe(404);
    await expect(call(link, { 'Fn-Call-Id': '01CRASH' })).rejects.toThrow();
  });

  it('drops a header HTTP cannot carry, answers a call it cannot read 502, and a body over 16 MiB 413', async () => {
    const { link } = await startFunction('hostile');
    await waitUntil('lsnr.sock linked', () => linked(link), 5000);
    const trigger = { 'Fn-Call-Id': '01TEST', 'Fn-Intent': 'httprequest', 'Fn-Http-Method': 'GET' };
    const bad = await call(link, {
      ...trigger,
      'Fn-Http-Request-Url': 'http://lb/t/app/hostile?do=bad-header',
    });
    expect(bad.status).toBe(200);
    expect(bad.headers['fn-http-h-x-good']).toBe('kept');
    expect(bad.headers['fn-http-h-x-bad']).toBeUndefined();
    expect((await call(link, { ...trigger, 'Fn-Http-Request-Url': 'http://[no' })).status).toBe(502);
    const big = await call(link, { 'Fn-Call-Id': '01BIG' }, 'x'.repeat(16 * 1024 * 1024 + 1));
    expect(big.status).toBe(413);
    // And the function still serves the next call.
    const next = await call(link, {
      ...trigger,
      'Fn-Http-Request-Url': 'http://lb/t/app/hostile?do=headers',
    });
    expect(next.headers['fn-http-status']).toBe('200');
  });

  it('ends on SIGTERM, and when the stdin it was given ends', async () => {
    const first = await startFunction('echo');
    await waitUntil('lsnr.sock linked', () => linked(first.link), 5000);
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);
    const second = await startFunction('echo');
    await waitUntil('lsnr.sock linked', () => linked(second.link), 5000);
    second.child.stdin?.end();
    expect(await exited(second.child)).toBe(0);
  });

  it('exits 70 naming FN_LISTENER when it is not a unix socket path', async () => {
    const { child, stderr } = await startFunction('echo', 'tcp://127.0.0.1:9999');
    expect(await exited(child)).toBe(70);
    expect(stderr()).toContain('FN_LISTENER must be unix:');
  });
});

const socketPath = engineSocket;
const engineMissing = await functionImagesUnavailable();
if (engineMissing) console.warn(`[fdk-http-stream] the image's test is skipped: ${engineMissing}`);

describe.skipIf(engineMissing !== undefined)('a function image in http-stream, as a runner runs it', () => {
  it('links its socket in the mounted directory, serves calls there, names the runner and stops on SIGTERM', async () => {
    const docker = new Docker({ socketPath });
    const dir = mkdtempSync(join(tmpdir(), 'fdk-iofs-'));
    dirs.push(dir);
    // The function runs as user 1000: the runner's directory must let it create its socket.
    chmodSync(dir, 0o777);
    const container = await docker.createContainer({
      Image: 'localhost/fnlb-guard/sleep',
      name: `fnguard-fdk-${randomBytes(4).toString('hex')}`,
      Hostname: 'runner-7',
      Env: ['FN_FORMAT=http-stream', 'FN_LISTENER=unix:/tmp/iofs/lsnr.sock'],
      Labels: { [PROJECT_LABEL]: '1' },
      OpenStdin: false,
      AttachStdin: false,
      HostConfig: {
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        NetworkMode: 'none',
        Init: true,
        Binds: [`${dir}:/tmp/iofs`],
      },
    });
    try {
      await container.start();
      const link = join(dir, 'lsnr.sock');
      await waitUntil('lsnr.sock linked by the container', () => linked(link), 10_000);
      expect(readlinkSync(link)).not.toContain('/');
      const answer = await call(link, {
        'Fn-Call-Id': '01IMAGE',
        'Fn-Intent': 'httprequest',
        'Fn-Http-Method': 'GET',
        'Fn-Http-Request-Url': 'http://lb/t/app/sleep?ms=1&status=201',
      });
      expect(answer.status).toBe(200);
      expect(answer.headers['fn-http-status']).toBe('201');
      expect(JSON.parse(answer.body)).toMatchObject({ sleptMs: 1, hostname: 'runner-7' });
      await container.stop({ t: 10 });
      // Ended by SIGTERM itself: the engine's SIGKILL after the grace would leave 137.
      expect((await container.inspect()).State.ExitCode).toBe(0);
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  });
});
