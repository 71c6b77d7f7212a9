// The http-stream transport's one connection per container: a function's socket is connected once,
// right after its link was checked, so a function cannot swap the file for another socket and have
// the node connect there later. A connection the function closes between calls retires the container
// (the next call goes to another), and is never made again. Against a real unix socket server.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FunctionRequest, formatCodec, type SocketCodec } from '../../src/node/formats/index.js';
import { realClock } from '../../src/node/runner/clock.js';
import { type CallSink, SocketTransport } from '../../src/node/runner/transport.js';

let dir: string;
let server: Server;
let socket: string;

/** A function that answers each call, then closes its connection (Connection: close). */
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fnguard-transport-'));
  socket = join(dir, 'fn.sock');
  server = createServer((_request, response) => {
    response.setHeader('connection', 'close');
    response.end('hello');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const request: FunctionRequest = {
  callId: '01CALL',
  method: 'GET',
  requestUrl: 'http://node/t/app/fn',
  headers: {},
  body: Buffer.alloc(0),
  deadline: new Date(Date.now() + 30_000),
};

function call(transport: SocketTransport): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    const sink: CallSink = {
      succeed: (response) => resolve({ ok: true, text: response.body.toString() }),
      fail: (_status, message) => resolve({ ok: false, text: message }),
    };
    transport.send(request, sink);
  });
}

describe('the http-stream socket transport', () => {
  it('connects once: a connection closed between calls retires the container and is not made again', async () => {
    const lost: string[] = [];
    const codec = formatCodec('http-stream') as SocketCodec;
    const transport = new SocketTransport(socket, codec, 1024, realClock, (why) => lost.push(why));
    try {
      expect(await call(transport)).toEqual({ ok: true, text: 'hello' });
      transport.settled();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(lost).toEqual(['its connection closed between calls']);
      const again = await call(transport);
      expect(again.ok).toBe(false);
      expect(again.text).toContain('made only once');
    } finally {
      transport.close();
    }
  });
});
