// The proxy: picks a node with the balancer, forwards the request on that node's keep-alive pool and
// streams the response back. Failover: a request that never reached a node (connect refused, reset
// or timed out before undici handed it to a socket) and a request a node refused with 503 go to the
// next node of the same ring walk, at most once per online node; then the client gets 503 JSON.
// Anything else that goes wrong after the node got the request is passed on, never retried: a
// function call is not idempotent.
//
// Retrying needs the request body again, so bodies up to BODY_BUFFER_LIMIT (1 MiB, far above what
// function calls carry) are read into memory first. A larger body streams straight to the first node
// chosen and gets that one attempt only.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { parseGoDuration } from '../common/duration.js';
import { CONNECTION_HEADERS } from '../common/hop-by-hop.js';
import { errorBody, FN_HEADERS, FN_MESSAGES } from '../common/wire.js';
import type { Backend } from './backend.js';
import type { Balancer } from './balancer.js';
import type { HealthChecker } from './health.js';
import type { LbStats, RetryReason } from './stats.js';

export const BODY_BUFFER_LIMIT = 1024 * 1024;

/** Connection-specific fields, and the credentials meant for a proxy (this one has none to check). */
const HOP_BY_HOP = new Set([...CONNECTION_HEADERS, 'proxy-authenticate', 'proxy-authorization']);

export interface ProxyContext {
  balancer: Balancer;
  health: HealthChecker;
  stats: LbStats;
  log: Logger;
  /** True while draining: responses then close their connection. */
  draining(): boolean;
}

/** The hashing key: the path without its query string. */
export function routeKey(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  for (const part of [value ?? []].flat()) {
    for (const token of part.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function requestHeaders(req: IncomingMessage, buffered: boolean): Record<string, string | string[]> {
  const drop = connectionTokens(req.headers.connection);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
    // The balancer answered any Expect itself; a buffered body gets its length from undici.
    if (name === 'expect' || (buffered && name === 'content-length')) continue;
    headers[name] = value;
  }
  const forwarded = req.headers['x-forwarded-for'];
  const prior = Array.isArray(forwarded) ? forwarded.join(', ') : forwarded;
  headers['x-forwarded-for'] = prior ? `${prior}, ${clientAddress(req)}` : clientAddress(req);
  return headers;
}

export function responseHeaders(
  headers: IncomingHttpHeaders,
  node: string,
  close: boolean,
): OutgoingHttpHeaders {
  const drop = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name) || name === FN_HEADERS.wait) continue;
    out[name] = value;
  }
  out[FN_HEADERS.lbNode] = node;
  if (close) out.connection = 'close';
  return out;
}

type Body = { kind: 'buffered'; data: Buffer | null } | { kind: 'stream'; data: Readable };

/** Reads the body into memory up to BODY_BUFFER_LIMIT; past it, returns a stream of the whole body. */
function readBody(req: IncomingMessage): Promise<Body> {
  const declared = Number(req.headers['content-length']);
  if (declared > BODY_BUFFER_LIMIT) return Promise.resolve({ kind: 'stream', data: req });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= BODY_BUFFER_LIMIT) return;
      req.pause();
      cleanup();
      async function* whole() {
        yield* chunks;
        yield* req;
      }
      resolve({ kind: 'stream', data: Readable.from(whole(), { objectMode: false }) });
    };
    const onEnd = () => {
      cleanup();
      resolve({ kind: 'buffered', data: size === 0 ? null : Buffer.concat(chunks, size) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      if (!req.complete) onError(new Error('client closed the request'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

type Outcome =
  /** The response (or as much of it as the node sent) went to the client. */
  | { kind: 'done'; statusCode: number; headersMs: number }
  /** The request never reached the node. */
  | { kind: 'undelivered'; error: Error & { code?: string } }
  /** The node answered 503 and we held that answer back to try the next node. */
  | { kind: 'refused' }
  /** The node got the request and failed before answering: not retried. */
  | { kind: 'failed'; error: Error & { code?: string } };

/** One dispatch to one node, as an undici handler that streams the response into `res`. */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;
  readonly #backend: Backend;
  readonly #hold503: boolean;
  readonly #close: boolean;
  readonly #resolve: (outcome: Outcome) => void;
  readonly #started = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  #delivered = false;
  #statusCode = 0;
  #headersMs = 0;
  #holding = false;
  #responding = false;
  #finished = false;

  constructor(
    res: ServerResponse,
    backend: Backend,
    hold503: boolean,
    close: boolean,
    resolve: (o: Outcome) => void,
  ) {
    this.#res = res;
    this.#backend = backend;
    this.#hold503 = hold503;
    this.#close = close;
    this.#resolve = resolve;
  }

  /** The client went away: stop the upstream request if it is running. */
  abort(): void {
    if (!this.#finished) this.#controller?.abort(new Error('client closed the connection'));
  }

  #finish(outcome: Outcome): void {
    this.#finished = true;
    this.#resolve(outcome);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // From here on undici writes the request to a socket: the node may have it.
    this.#delivered = true;
    this.#controller = controller;
    if (this.#res.destroyed) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.#statusCode = statusCode;
    this.#headersMs = performance.now() - this.#started;
    this.#backend.latency.add(this.#headersMs, Date.now());
    const wait = headers[FN_HEADERS.wait];
    const waitMs = typeof wait === 'string' ? parseGoDuration(wait) : undefined;
    if (waitMs !== undefined && waitMs >= 0) this.#backend.wait.add(waitMs, Date.now());
    if (statusCode === 503 && this.#hold503) {
      this.#holding = true;
      return;
    }
    this.#responding = true;
    this.#res.writeHead(
      statusCode,
      statusMessage,
      responseHeaders(headers, this.#backend.address, this.#close),
    );
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#holding) return;
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.#holding) {
      this.#finish({ kind: 'refused' });
      return;
    }
    this.#res.end();
    this.#finish({ kind: 'done', statusCode: this.#statusCode, headersMs: this.#headersMs });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#holding) {
      this.#finish({ kind: 'refused' });
    } else if (this.#responding) {
      // Headers are out: the only honest signal left is to cut the client's connection.
      this.#res.destroy(error);
      this.#finish({ kind: 'done', statusCode: this.#statusCode, headersMs: this.#headersMs });
    } else if (!this.#delivered) {
      this.#finish({ kind: 'undelivered', error });
    } else {
      this.#finish({ kind: 'failed', error });
    }
  }
}

/** Errors that say the node is unreachable (not that we closed its pool or the client left). */
function isConnectFailure(error: Error & { code?: string }): boolean {
  return (
    error.code !== 'UND_ERR_CLOSED' && error.code !== 'UND_ERR_DESTROYED' && error.code !== 'UND_ERR_ABORTED'
  );
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  close: boolean,
  node?: string,
): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(errorBody(message));
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (node !== undefined) headers[FN_HEADERS.lbNode] = node;
  if (status === 503) headers['retry-after'] = '1';
  if (close) headers.connection = 'close';
  res.writeHead(status, headers).end(body);
}

export async function proxy(req: IncomingMessage, res: ServerResponse, ctx: ProxyContext): Promise<void> {
  const { balancer, health, stats } = ctx;
  const key = routeKey(req.url ?? '/');
  let body: Body;
  try {
    body = await readBody(req);
  } catch {
    res.destroy();
    return;
  }
  const replayable = body.kind === 'buffered';
  const headers = requestHeaders(req, replayable);
  const maxAttempts = replayable ? Math.max(1, balancer.onlineCount()) : 1;
  const tried = new Set<string>();
  let current: Attempt | undefined;
  res.on('close', () => current?.abort());
  let reason = 'no node is online';
  let previous: RetryReason | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const backend = balancer.choose(key, tried);
    if (backend === undefined) break;
    if (previous !== undefined) stats.retried(key, previous);
    tried.add(backend.address);
    const hold503 = attempt < maxAttempts && balancer.hasOnline(tried);
    backend.requests++;
    balancer.begin(backend);
    const outcome = await new Promise<Outcome>((resolve) => {
      current = new Attempt(res, backend, hold503, ctx.draining(), resolve);
      backend.pool.dispatch(
        { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: body.data },
        current,
      );
    });
    balancer.end(backend);
    current = undefined;
    if (res.destroyed && outcome.kind !== 'done') return;

    switch (outcome.kind) {
      case 'done':
        if (outcome.statusCode >= 500) backend.responses5xx++;
        stats.served(key, backend.address, outcome.statusCode, outcome.headersMs);
        return;
      case 'refused':
        backend.refused503++;
        previous = 'node_503';
        reason = `${backend.address} answered 503`;
        continue;
      case 'undelivered': {
        backend.undelivered++;
        const code = outcome.error.code ?? outcome.error.message;
        if (isConnectFailure(outcome.error)) health.connectFailed(backend, code);
        previous = 'undelivered';
        reason = `${backend.address} unreachable (${code})`;
        continue;
      }
      case 'failed': {
        backend.upstreamErrors++;
        const code = outcome.error.code ?? outcome.error.message;
        if (code === 'UND_ERR_HEADERS_TIMEOUT') {
          stats.failed(key, 'upstream_timeout');
          sendError(res, 504, FN_MESSAGES.timedOut, ctx.draining(), backend.address);
        } else {
          stats.failed(key, 'upstream_error');
          sendError(
            res,
            502,
            `node ${backend.address} failed before answering (${code})`,
            ctx.draining(),
            backend.address,
          );
        }
        ctx.log.warn({ node: backend.address, key, code }, 'request failed after delivery');
        return;
      }
    }
  }
  stats.failed(key, previous ?? 'no_node');
  sendError(res, 503, `no node could take the request: ${reason}`, ctx.draining());
}
