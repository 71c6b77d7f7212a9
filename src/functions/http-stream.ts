// The FDK's http-stream format, the one Fn's current runners speak: the function serves HTTP on a
// unix socket the runner names in FN_LISTENER (`unix:<dir>/lsnr.sock`). It listens on a socket of
// another name in that directory, makes it world-writable (the runner is another user), and only then
// links lsnr.sock to it by a relative name: the link appearing is the runner's sign that the function
// is ready, and a runner refuses a link that leaves the directory. Each call is `POST /call`; an HTTP
// trigger's call (Fn-Intent: httprequest) carries the caller's method, URL and headers as Fn-Http-*
// headers, and its answer goes back as 200 with the user's status in Fn-Http-Status and the user's
// headers as Fn-Http-H-<name>. Any other status tells the runner the container is broken.
import { chmodSync, fstatSync, rmSync, symlinkSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import { basename, dirname, join } from 'node:path';
import type { HeaderMap } from '../common/framing/http1.js';
import { canonicalHeader, HTTP_STREAM_HEADERS } from '../common/wire-v2.js';
import type { FnRequest, FnResponse } from './fdk.js';

/** A call's body at most: a larger one is refused before the handler sees it. */
export const MAX_CALL_BODY_BYTES = 16 * 1024 * 1024;
const MAX_SOCKET_PATH_BYTES = 107;
const GATEWAY_PREFIX = HTTP_STREAM_HEADERS.headerPrefix;

/** The socket path of FN_LISTENER, or an error naming what is wrong with it. */
export function listenerPath(listener: string | undefined): string {
  if (listener === undefined || listener === '') throw new Error('FN_LISTENER is not set');
  const match = /^unix:(\/.+)$/.exec(listener);
  if (!match) throw new Error(`FN_LISTENER must be unix:/<absolute path>, got ${JSON.stringify(listener)}`);
  return match[1] as string;
}

/** What the handler sees of one call. */
export function callRequest(method: string, target: string, headers: HeaderMap): FnRequest {
  const callId = headers[HTTP_STREAM_HEADERS.callId]?.[0] ?? '';
  if (headers[HTTP_STREAM_HEADERS.intent]?.[0] !== 'httprequest') {
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
    method: headers[HTTP_STREAM_HEADERS.method]?.[0] ?? method,
    url: new URL(headers[HTTP_STREAM_HEADERS.requestUrl]?.[0] ?? target, 'http://localhost'),
    headers: callerHeaders,
    body: Buffer.alloc(0),
  };
}

/** The runner's answer for a handler's response: always 200, the user's status and headers inside. */
export function callAnswerHeaders(response: FnResponse, httpTrigger: boolean): Record<string, string> {
  // Invoked by id, the answer is the function's own: its headers as they are, and no user status
  // (Fn's FDKs set none there either).
  if (!httpTrigger) return { ...response.headers };
  const headers: Record<string, string> = {
    [canonicalHeader(HTTP_STREAM_HEADERS.status)]: String(response.status ?? 200),
  };
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') headers['Content-Type'] = value;
    else headers[`${canonicalHeader(GATEWAY_PREFIX)}${name}`] = value;
  }
  return headers;
}

/** The body, or undefined once it outgrew the limit (the rest is read and dropped, not buffered). */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_CALL_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on('end', () => resolve(size <= MAX_CALL_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });
}

/** The headers HTTP can carry; a function's header that it cannot is dropped and logged. */
function sendableHeaders(headers: Record<string, string>): Record<string, string> {
  const sendable: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      sendable[name] = value;
    } catch (error) {
      process.stderr.write(`fdk: dropped header ${JSON.stringify(name)}: ${(error as Error).message}\n`);
    }
  }
  return sendable;
}

/**
 * Where to listen: beside the link, under a name that fits a unix socket address (108 bytes with
 * its terminating zero; a longer one would be cut short without an error).
 */
export function socketPathBeside(link: string, pid: number): string {
  const named = join(dirname(link), `fdk-${pid}-${basename(link)}`);
  if (Buffer.byteLength(named) <= MAX_SOCKET_PATH_BYTES) return named;
  const short = join(dirname(link), `.fdk${pid}`);
  if (Buffer.byteLength(short) <= MAX_SOCKET_PATH_BYTES) return short;
  throw new Error(
    `FN_LISTENER's directory is too long for a unix socket path (${MAX_SOCKET_PATH_BYTES} bytes): ${dirname(link)}`,
  );
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
  let socket: string;
  try {
    link = listenerPath(listener);
    socket = socketPathBeside(link, process.pid);
  } catch (error) {
    fail((error as Error).message);
  }
  let stopping = false;
  const answer = (
    response: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer | string,
  ) => {
    // Once stopping, each answer closes its connection, so the server can close behind it.
    if (stopping) response.shouldKeepAlive = false;
    response.writeHead(status, headers).end(body);
  };
  const serveCall = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST' || request.url !== '/call') {
      answer(response, 404, { 'Content-Type': 'text/plain' }, 'only POST /call is served\n');
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      // Not 200, 502 or 504: the runner takes the container for broken, which a runner's own size
      // limit makes unreachable in practice.
      response.shouldKeepAlive = false;
      answer(
        response,
        413,
        { 'Content-Type': 'text/plain' },
        `call body over ${MAX_CALL_BODY_BYTES} bytes\n`,
      );
      return;
    }
    const headers = request.headersDistinct as HeaderMap;
    const httpTrigger = headers[HTTP_STREAM_HEADERS.intent]?.[0] === 'httprequest';
    const result = await handle({ ...callRequest('POST', request.url, headers), body });
    answer(response, 200, sendableHeaders(callAnswerHeaders(result, httpTrigger)), Buffer.from(result.body));
  };
  const server = createServer((request, response) => {
    serveCall(request, response).catch((error: Error) => {
      // A call the function could not read (a caller URL that is no URL): 502, the function failed
      // this call and can take the next.
      process.stderr.write(`fdk: call failed: ${error.message}\n`);
      if (!response.headersSent)
        answer(response, 502, { 'Content-Type': 'text/plain' }, `${error.message}\n`);
      else response.destroy();
    });
  });
  // The runner keeps its connection for the container's life: never time it out from this side,
  // where a close could cross the runner's next call on it.
  server.keepAliveTimeout = 0;
  server.on('error', (error) => fail(`cannot serve ${socket}: ${error.message}`));
  rmSync(socket, { force: true });
  rmSync(link, { force: true });
  server.listen(socket, () => {
    try {
      chmodSync(socket, 0o666);
      symlinkSync(basename(socket), link);
    } catch (error) {
      fail(`cannot link ${link} to ${socket}: ${(error as Error).message}`);
    }
    ready();
  });
  const stop = () => {
    stopping = true;
    server.close(() => {
      rmSync(link, { force: true });
      rmSync(socket, { force: true });
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (stdinIsHeld()) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}
