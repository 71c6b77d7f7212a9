// The runner's side of http-stream, as pure logic: the headers of POST /call for an HTTP call and for
// a call invoked by id, what the function's answer means (the user's status and headers, a failure,
// or a broken format), and which lsnr.sock links the node follows.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callRequest } from '../../src/functions/http-stream.js';
import { linkedName, listenerVariable, readListener } from '../../src/node/drivers/listener.js';
import {
  FramingError,
  type FunctionRequest,
  formatCodec,
  httpStreamAnswer,
  httpStreamCallHeaders,
} from '../../src/node/formats/index.js';

const request: FunctionRequest = {
  callId: '01CALL',
  method: 'PUT',
  requestUrl: 'http://node:8080/r/app/fn?x=1&y=%20',
  headers: {
    'content-type': ['text/plain'],
    'x-multi': ['a', 'b'],
    host: ['node:8080'],
    'fn-call-id': ['forged'],
  },
  body: Buffer.from('hi'),
  deadline: new Date('2030-01-01T00:00:00Z'),
};

describe('http-stream call headers', () => {
  it("carry an HTTP call's method, full URL and every caller header as Fn-Http-*", () => {
    expect(httpStreamCallHeaders(request)).toEqual({
      'Fn-Call-Id': ['01CALL'],
      'Fn-Deadline': ['2030-01-01T00:00:00.000Z'],
      'Fn-Intent': ['httprequest'],
      'Fn-Http-Method': ['PUT'],
      'Fn-Http-Request-Url': ['http://node:8080/r/app/fn?x=1&y=%20'],
      'Fn-Http-H-content-type': ['text/plain'],
      'Fn-Http-H-x-multi': ['a', 'b'],
      'Fn-Http-H-host': ['node:8080'],
      'Fn-Http-H-fn-call-id': ['forged'],
      'Content-Type': ['text/plain'],
    });
  });

  it('read back by the FDK as the caller sent them', () => {
    const lower = Object.fromEntries(
      Object.entries(httpStreamCallHeaders(request)).map(([name, values]) => [name.toLowerCase(), values]),
    );
    const seen = callRequest('POST', '/call', lower);
    expect(seen.method).toBe('PUT');
    expect(seen.url.href).toBe(request.requestUrl);
    expect(seen.headers).toMatchObject({ 'x-multi': ['a', 'b'], 'content-type': ['text/plain'] });
  });

  it("carry a call invoked by id's headers as they are, with the node's call id and deadline", () => {
    const headers = httpStreamCallHeaders({
      ...request,
      invoke: true,
      headers: { ...request.headers, 'fn-intent': ['httprequest'], 'fn-deadline': ['never'] },
    });
    expect(headers).toEqual({
      'content-type': ['text/plain'],
      'x-multi': ['a', 'b'],
      'Fn-Call-Id': ['01CALL'],
      'Fn-Deadline': ['2030-01-01T00:00:00.000Z'],
    });
  });
});

describe('http-stream answers', () => {
  it("give an HTTP call the user's status and Fn-Http-H-* headers, prefix stripped, and Content-Type", () => {
    const answer = httpStreamAnswer(
      200,
      {
        'fn-http-status': ['418'],
        'fn-http-h-x-trace': ['a', 'b'],
        'fn-http-h-': ['the bare prefix'],
        'content-type': ['application/json'],
        'content-length': ['2'],
        date: ['Mon, 07 Dec 2026 12:00:00 GMT'],
        'keep-alive': ['timeout=5'],
        'x-server-own': ['not the user’s'],
      },
      false,
    );
    expect(answer).toEqual({
      ok: true,
      status: 418,
      headers: { 'x-trace': ['a', 'b'], 'content-type': ['application/json'] },
    });
  });

  it('default to 200 without Fn-Http-Status, and refuse one that is no final status', () => {
    expect(httpStreamAnswer(200, {}, false)).toEqual({ ok: true, status: 200, headers: {} });
    for (const bad of ['103', 'abc', '1000', ''])
      expect(() => httpStreamAnswer(200, { 'fn-http-status': [bad] }, false)).toThrow(FramingError);
  });

  it("give a call invoked by id the function's headers as they are, less the connection's", () => {
    const answer = httpStreamAnswer(
      200,
      { 'x-a': ['1'], connection: ['keep-alive'], 'content-length': ['5'], 'fn-http-status': ['500'] },
      true,
    );
    expect(answer).toEqual({ ok: true, status: 200, headers: { 'x-a': ['1'], 'fn-http-status': ['500'] } });
  });

  it('read 502 as a failed call that leaves the container usable, 504 as a timeout that does not', () => {
    expect(httpStreamAnswer(502, {}, false)).toEqual({
      ok: false,
      status: 502,
      message: 'function failed',
      broken: undefined,
    });
    expect(httpStreamAnswer(504, {}, true)).toMatchObject({ ok: false, status: 504, message: 'Timed out' });
    expect(httpStreamAnswer(504, {}, true)).not.toMatchObject({ broken: undefined });
  });

  it('refuse any other status as a broken format', () => {
    for (const status of [201, 404, 413, 500, 503])
      expect(() => httpStreamAnswer(status, {}, false)).toThrow(/status \d+ where the function must answer/);
  });

  it('come from a codec of the socket transport, which every pool may build', () => {
    const codec = formatCodec('http-stream');
    expect(codec).toMatchObject({ name: 'http-stream', hot: true, transport: 'socket', callPath: '/call' });
    expect(formatCodec('http').transport).toBe('stdio');
  });
});

describe('lsnr.sock links', () => {
  it('are followed only to a name in their own directory', () => {
    expect(linkedName('fdk-12-lsnr.sock')).toBe('fdk-12-lsnr.sock');
    expect(linkedName('.hidden')).toBe('.hidden');
    expect(() => linkedName('/var/run/docker.sock')).toThrow(/absolute path: the link must be relative/);
    for (const bad of ['../x.sock', 'sub/x.sock', './x.sock', 'a/../x.sock', '..', '.', ''])
      expect(() => linkedName(bad), bad).toThrow(/leaves its directory/);
    expect(() => linkedName('lsnr.sock')).toThrow(/links to itself/);
  });

  it('name FN_LISTENER from the directory as the instance sees it', () => {
    expect(listenerVariable('/tmp/iofs')).toBe('unix:/tmp/iofs/lsnr.sock');
  });

  describe('read from a real directory', () => {
    let dir: string;
    let server: Server | undefined;
    afterEach(() => {
      server?.close();
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    });
    const listen = async (path: string) => {
      server = createServer();
      await new Promise<void>((resolve) => server?.listen(path, resolve));
    };

    it('say nothing before the link, then the socket it links', async () => {
      dir = mkdtempSync(join(tmpdir(), 'lsnr-'));
      expect(readListener(dir)).toBeUndefined();
      await listen(join(dir, 'fdk.sock'));
      symlinkSync('fdk.sock', join(dir, 'lsnr.sock'));
      expect(readListener(dir)).toBe(join(dir, 'fdk.sock'));
    });

    it('refuse a lsnr.sock that is no link, and a link to what is not a socket', () => {
      dir = mkdtempSync(join(tmpdir(), 'lsnr-'));
      writeFileSync(join(dir, 'lsnr.sock'), '');
      expect(() => readListener(dir)).toThrow(/not a symbolic link/);
      rmSync(join(dir, 'lsnr.sock'));
      writeFileSync(join(dir, 'plain'), '');
      symlinkSync('plain', join(dir, 'lsnr.sock'));
      expect(() => readListener(dir)).toThrow(/"plain", which is not a socket/);
    });

    it('refuse a link out of the directory even when it leads to a socket', async () => {
      dir = mkdtempSync(join(tmpdir(), 'lsnr-'));
      await listen(join(dir, 'outside.sock'));
      const nested = mkdtempSync(join(dir, 'nested-'));
      symlinkSync('../outside.sock', join(nested, 'lsnr.sock'));
      expect(() => readListener(nested)).toThrow(/leaves its directory/);
    });
  });
});
