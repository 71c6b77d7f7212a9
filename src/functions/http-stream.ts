// The FDK's http-stream format, the one Fn's current runners speak: the function serves HTTP on a
// unix socket the runner names in FN_LISTENER (`unix:<dir>/lsnr.sock`). It listens on a socket of
// another name in that directory, makes it world-writable (the runner is another user), and only then
// links lsnr.sock to it by a relative name: the link appearing is the runner's sign that the function
// is ready, and a runner refuses a link that leaves the directory. Each call is `POST /call`; an HTTP
// trigger's call (Fn-Intent: httprequest) carries the caller's method, URL and headers as Fn-Http-*
// headers, and its answer goes back as 200 with the user's status in Fn-Http-Status and the user's
// headers as Fn-Http-H-<name>. Any other status tells the runner the container is broken.
import { chmodSync, fstatSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';
import type { HeaderMap } from '../common/framing/http1.js';
import type { FnRequest, FnResponse } from './fdk.js';

/** A call's body at most: a larger one is refused before the handler sees it. */
export const MAX_CALL_BODY_BYTES = 16 * 1024 * 1024;
const GATEWAY_PREFIX = 'fn-http-h-';

/** The socket path of FN_LISTENER, or an error naming what is wrong with it. */
export function listenerPath(listener: string | undefined): string {
  if (listener === undefined || listener === '') throw new Error('FN_LISTENER is not set');
  const match = /^unix:(\/.+)$/.exec(listener);
  if (!match) throw new Error(`FN_LISTENER must be unix:/<absolute path>, got ${JSON.stringify(listener)}`);
  return match[1] as string;
}

/** What the handler sees of one call. */
export function callRequest(method: string, target: string, headers: HeaderMap): FnRequest {
  const callId = headers['fn-call-id']?.[0] ?? '';
  if (headers['fn-intent']?.[0] !== 'httprequest') {
    // Invoked by id (/invoke/<fn>): the call is the request as it came, with no caller URL.
    return { callId, method, url: new URL(target, 'http://localhost'), headers, body: Buffer.alloc(0) };
  }
  const callerHeaders: HeaderMap = {};
  for (const [name, values] of Object.entries(headers)) {
    if (name.startsWith(GATEWAY_PREFIX) && name.length > GATEWAY_PREFIX.length) {
      callerHeaders[name.slice(GATEWAY_PREFIX.length)] = values;
    }
  }
  const contentType = headers['content-type'];
  if (contentType !== undefined) callerHeaders['content-type'] = contentType;
  return {
    callId,
    method: headers['fn-http-method']?.[0] ?? method,
    url: new URL(headers['fn-http-request-url']?.[0] ?? target, 'http://localhost'),
    headers: callerHeaders,
    body: Buffer.alloc(0),
  };
}

/** The runner's answer for a handler's response: always 200, the user's status and headers inside. */
export function callAnswerHeaders(response: FnResponse, httpTrigger: boolean): Record<string, string> {
  // Invoked by id, the answer is the function's own: its headers as they are, and no user status
  // (Fn's FDKs set none there either).
  if (!httpTrigger) return { ...response.headers };
  const headers: Record<string, string> = { 'Fn-Http-Status': String(response.status ?? 200) };
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') headers['Content-Type'] = value;
    else headers[`Fn-Http-H-${name}`] = value;
  }
  return headers;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_CALL_BODY_BYTES) {
        request.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** True when stdin is a pipe or socket someone holds: its end means the caller is gone. */
function stdinIsHeld(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/**
 * Serves calls on the listener's socket; `ready` runs once the link is in place. The process lives
 * until SIGTERM, or until its stdin ends where stdin is a pipe (Fn's runners give none; this
 * project's process driver does, so an orphaned function never outlives its node).
 */
export function serveHttpStream(
  handle: (request: FnRequest) => Promise<FnResponse>,
  listener: string | undefined,
  ready: () => void,
  fail: (message: string) => never,
): void {
  let link: string;
  try {
    link = listenerPath(listener);
  } catch (error) {
    fail((error as Error).message);
  }
  const socket = join(dirname(link), `fdk-${process.pid}-${basename(link)}`);
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || request.url !== '/call') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('only POST /call is served\n');
      return;
    }
    const body = await readBody(request).catch(() => undefined);
    if (body === undefined) {
      // Not 200, 502 or 504: the runner treats the container as broken, which a runner's own size
      // limit makes unreachable in practice.
      response.writeHead(413, { 'Content-Type': 'text/plain' }).end('call body too large\n');
      return;
    }
    const call = { ...callRequest('POST', request.url, request.headersDistinct as HeaderMap), body };
    const answer = await handle(call);
    const httpTrigger = request.headers['fn-intent'] === 'httprequest';
    response.writeHead(200, callAnswerHeaders(answer, httpTrigger)).end(Buffer.from(answer.body));
  });
  server.on('error', (error) => fail(`cannot serve ${socket}: ${error.message}`));
  rmSync(socket, { force: true });
  rmSync(link, { force: true });
  server.listen(socket, () => {
    chmodSync(socket, 0o666);
    symlinkSync(basename(socket), link);
    ready();
  });
  // Node closes idle keep-alive connections on close (the runner holds one), and a busy one once its
  // answer is written.
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (stdinIsHeld()) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
}
