// A tiny function development kit: serves a handler over stdin/stdout in the format the node names
// in FN_FORMAT (default, http or json), with the same framing code the node uses, or over the unix
// socket of FN_LISTENER in http-stream, the format of Fn's current runners (http-stream.ts). It signals
// readiness (the drivers measure start time by it) on the file descriptor named by FN_READY_FD, or
// with a line on stderr under FN_READY_STREAM=stderr (readiness.ts), and exits when stdin ends, so an
// orphaned function never outlives its node.
import { closeSync, writeSync } from 'node:fs';
import { encodeHttpResponse, type HeaderMap, Http1Reader } from '../common/framing/http1.js';
import { type JsonCallOut, JsonObjectReader, toJsonCallIn } from '../common/framing/json-frame.js';
import { READY_STDERR_LINE } from '../common/readiness.js';
import { serveHttpStream } from './http-stream.js';

export interface FnRequest {
  callId: string;
  method: string;
  url: URL;
  headers: HeaderMap;
  body: Buffer;
}

export interface FnResponse {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export type Handler = (request: FnRequest) => FnResponse | Promise<FnResponse>;

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 500: 'Internal Server Error' };

export function jsonResponse(value: unknown, status = 200): FnResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

async function safely(handler: Handler, request: FnRequest): Promise<FnResponse> {
  try {
    return await handler(request);
  } catch (error) {
    process.stderr.write(`handler failed: ${(error as Error).stack ?? String(error)}\n`);
    return jsonResponse({ error: { message: (error as Error).message } }, 500);
  }
}

function toHeaderMap(headers: Record<string, string> = {}): HeaderMap {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
}

function signalReady(): void {
  if (process.env.FN_READY_STREAM === 'stderr') {
    writeSync(2, `${READY_STDERR_LINE}\n`);
    return;
  }
  const fd = Number(process.env.FN_READY_FD);
  if (!Number.isInteger(fd) || fd < 3) return;
  writeSync(fd, 'ready\n');
  closeSync(fd);
}

function fail(message: string): never {
  process.stderr.write(`fdk: ${message}\n`);
  process.exit(70);
}

function serveDefault(handler: Handler): void {
  const chunks: Buffer[] = [];
  process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
  process.stdin.on('end', async () => {
    const headers: HeaderMap = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (key.startsWith('FN_HEADER_') && value !== undefined) {
        headers[key.slice('FN_HEADER_'.length).toLowerCase().replace(/_/g, '-')] = [value];
      }
    }
    const response = await safely(handler, {
      callId: process.env.FN_CALL_ID ?? '',
      method: process.env.FN_METHOD ?? 'GET',
      url: new URL(process.env.FN_REQUEST_URL ?? 'http://localhost/'),
      headers,
      body: Buffer.concat(chunks),
    });
    process.stdout.write(response.body, () => process.exit((response.status ?? 200) < 500 ? 0 : 1));
  });
}

/** Hot formats: requests are handled one at a time, in arrival order. */
function serveHot(
  decode: (chunk: Buffer) => FnRequest[],
  encode: (response: FnResponse) => Buffer,
  handler: Handler,
) {
  let queue = Promise.resolve();
  process.stdin.on('data', (chunk: Buffer) => {
    let requests: FnRequest[];
    try {
      requests = decode(chunk);
    } catch (error) {
      fail(`cannot read request: ${(error as Error).message}`);
    }
    for (const request of requests) {
      queue = queue.then(async () => {
        process.stdout.write(encode(await safely(handler, request)));
      });
    }
  });
  process.stdin.on('end', () => void queue.then(() => process.exit(0)));
}

function serveHttp(handler: Handler): void {
  const reader = new Http1Reader('request');
  const decode = (chunk: Buffer) => {
    reader.push(chunk);
    const requests: FnRequest[] = [];
    for (let message = reader.next(); message !== undefined; message = reader.next()) {
      const [method, target] = message.startLine;
      const requestUrl = message.headers.fn_request_url?.[0] ?? target;
      requests.push({
        callId: message.headers.fn_call_id?.[0] ?? '',
        method: message.headers.fn_method?.[0] ?? method,
        url: new URL(requestUrl, 'http://localhost'),
        headers: message.headers,
        body: message.body,
      });
    }
    return requests;
  };
  const encode = (response: FnResponse) => {
    const status = response.status ?? 200;
    const body = Buffer.from(response.body);
    return encodeHttpResponse(status, STATUS_TEXT[status] ?? 'Status', toHeaderMap(response.headers), body);
  };
  serveHot(decode, encode, handler);
}

function serveJson(handler: Handler): void {
  const reader = new JsonObjectReader();
  const decode = (chunk: Buffer) => {
    reader.push(chunk);
    const requests: FnRequest[] = [];
    for (let value = reader.next(); value !== undefined; value = reader.next()) {
      const input = toJsonCallIn(value);
      requests.push({
        callId: input.call_id,
        method: input.protocol.method,
        url: new URL(input.protocol.request_url, 'http://localhost'),
        headers: input.protocol.headers,
        body: Buffer.from(input.body, 'utf8'),
      });
    }
    return requests;
  };
  const encode = (response: FnResponse) => {
    const headers = toHeaderMap(response.headers);
    const out: JsonCallOut = {
      body: Buffer.from(response.body).toString('utf8'),
      content_type: response.headers?.['content-type'] ?? '',
      protocol: { status_code: response.status ?? 200, headers },
    };
    return Buffer.from(`${JSON.stringify(out)}\n`, 'utf8');
  };
  serveHot(decode, encode, handler);
}

/** Serves `handler` in the format the node asked for; the process then lives until stdin ends. */
export function serve(handler: Handler): void {
  const format = process.env.FN_FORMAT ?? 'default';
  if (format === 'default') serveDefault(handler);
  else if (format === 'http') serveHttp(handler);
  else if (format === 'json') serveJson(handler);
  else if (format === 'http-stream') {
    // Ready once the socket is linked, not before: the link is what the runner waits for.
    serveHttpStream((request) => safely(handler, request), process.env.FN_LISTENER, signalReady, fail);
    return;
  } else fail(`unknown FN_FORMAT ${JSON.stringify(format)}`);
  signalReady();
}
