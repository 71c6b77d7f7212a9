// The proxy: reads the request target as the nodes do (src/common/request-target.ts), picks a node
// with the balancer by that canonical path, forwards the request on the node's keep-alive pool and
// streams the response back.
//
// Failover is for calls that provably did not run: a request that never reached a node (its connect
// was refused, reset or timed out before undici handed it to a socket), and one the node refused
// before running it, which the node marks with `Fn-Refused` (busy: no room within half the call's
// timeout; draining: it is shutting down). Those go to the next node of the same ring walk, at most once
// per online node; then the client gets 503 JSON. Everything else (any other 5xx, a function's own
// 503, a reset after delivery, a timeout) goes to the client as it is: a function call is not
// idempotent, and running it twice is worse than failing it once.
//
// A request the balancer cannot forward (a target that is not a path, a bad escape, an absolute-form
// target naming another host than its Host header) is the client's 400 and never counts against a node.
//
// Retrying needs the request body again, so bodies up to the replay budget's per-request limit
// (1 MiB, far above what function calls carry) are read into memory first, while the budget's total
// allows. A larger body, or one that finds the budget spent, streams straight to the first node
// chosen and gets that one attempt only.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { parseGoDuration } from '../common/duration.js';
import { CONNECTION_HEADERS } from '../common/hop-by-hop.js';
import { parseRequestTarget } from '../common/request-target.js';
import { errorBody, FN_HEADERS, FN_MESSAGES, FN_REFUSALS } from '../common/wire.js';
import type { Backend } from './backend.js';
import type { Balancer } from './balancer.js';
import type { HealthChecker } from './health.js';
import type { ReplayBudget } from './replay-budget.js';
import type { LbStats, RetryReason } from './stats.js';

/** Largest request body kept in memory for a retry. */
export const BODY_BUFFER_LIMIT = 1024 * 1024;

/** Connection-specific fields, and the credentials meant for a proxy (this one has none to check). */
const HOP_BY_HOP = new Set([...CONNECTION_HEADERS, 'proxy-authenticate', 'proxy-authorization']);

export interface ProxyContext {
  balancer: Balancer;
  health: HealthChecker;
  stats: LbStats;
  log: Logger;
  replay: ReplayBudget;
  /** True while draining: responses then close their connection. */
  draining(): boolean;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/**
 * The header names a Connection field lists (to drop them as hop-by-hop). On the hot path: almost
 * every message carries none or just keep-alive/close, which name no other field.
 */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return NO_TOKENS;
  if (typeof value === 'string') {
    const plain = value.length <= 10 ? value.toLowerCase() : '';
    if (plain === 'keep-alive' || plain === 'close') return NO_TOKENS;
  }
  const tokens = new Set<string>();
  for (const part of typeof value === 'string' ? [value] : value) {
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
  const incoming = req.headers;
  for (const name in incoming) {
    const value = incoming[name];
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
  node: string | undefined,
  close: boolean,
): OutgoingHttpHeaders {
  const drop = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name) || name === FN_HEADERS.wait) continue;
    out[name] = value;
  }
  if (node !== undefined) out[FN_HEADERS.lbNode] = node;
  if (close) out.connection = 'close';
  return out;
}

type Body =
  | { kind: 'buffered'; data: Buffer | null; reserved: number }
  | { kind: 'stream'; data: Readable; reserved: 0 };

const NO_BODY: Body = { kind: 'buffered', data: null, reserved: 0 };

/**
 * Reads the body into memory while it fits the replay budget (reserving its size as it arrives);
 * past that, returns a stream of the whole body with nothing reserved.
 */
function readBody(req: IncomingMessage, budget: ReplayBudget): Promise<Body> {
  // No body at all (most calls: GET without Content-Length or Transfer-Encoding): nothing to read.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    return Promise.resolve(NO_BODY);
  }
  // Absent (chunked): 0, and the budget is taken as the chunks arrive.
  const declared = Number(req.headers['content-length'] ?? 0) || 0;
  const limit = budget.perRequest;
  if (declared > limit || (declared > 0 && !budget.take(declared))) {
    return Promise.resolve({ kind: 'stream', data: req, reserved: 0 });
  }
  let reserved = declared;
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
      if (size > reserved && size <= limit && budget.take(size - reserved)) reserved = size;
      if (size <= reserved) return;
      // Over the per-request limit or the total: hand back what was taken and stream the rest.
      budget.give(reserved);
      req.pause();
      cleanup();
      async function* whole() {
        yield* chunks;
        yield* req;
      }
      resolve({ kind: 'stream', data: Readable.from(whole(), { objectMode: false }), reserved: 0 });
    };
    const onEnd = () => {
      cleanup();
      // A body shorter than it declared never gets here (the parser waits for the rest, then the
      // request timeout closes the connection); a chunked one reserved exactly its size.
      if (reserved > size) {
        budget.give(reserved - size);
        reserved = size;
      }
      resolve({ kind: 'buffered', data: size === 0 ? null : Buffer.concat(chunks, size), reserved });
    };
    const onError = (error: Error) => {
      cleanup();
      budget.give(reserved);
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
  /** The node refused the call before running it (Fn-Refused) and we held its answer back. */
  | { kind: 'refused'; refusal: string }
  /** The node got the request and failed before answering: not retried. */
  | { kind: 'failed'; error: Error & { code?: string } };

/** One dispatch to one node, as an undici handler that streams the response into `res`. */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;
  readonly #backend: Backend;
  readonly #holdRefusal: boolean;
  readonly #close: boolean;
  readonly #resolve: (outcome: Outcome) => void;
  readonly #started = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  #delivered = false;
  #statusCode = 0;
  #headersMs = 0;
  #holding: string | undefined;
  #responding = false;
  #finished = false;

  constructor(
    res: ServerResponse,
    backend: Backend,
    holdRefusal: boolean,
    close: boolean,
    resolve: (o: Outcome) => void,
  ) {
    this.#res = res;
    this.#backend = backend;
    this.#holdRefusal = holdRefusal;
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
    const refusal = refusalOf(statusCode, headers);
    if (refusal !== undefined && (this.#holdRefusal || refusal === FN_REFUSALS.draining)) {
      // A draining node's refusal is held back even on the last attempt: the proxy then answers its
      // own 503, and the node is taken out at once.
      this.#holding = refusal;
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
    if (this.#holding !== undefined) return;
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.#holding !== undefined) {
      this.#finish({ kind: 'refused', refusal: this.#holding });
      return;
    }
    this.#res.end();
    this.#finish({ kind: 'done', statusCode: this.#statusCode, headersMs: this.#headersMs });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#holding !== undefined) {
      this.#finish({ kind: 'refused', refusal: this.#holding });
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

/** The node's own refusal of a call it did not run: a 503 it marked with Fn-Refused. */
function refusalOf(statusCode: number, headers: IncomingHttpHeaders): string | undefined {
  if (statusCode !== 503) return undefined;
  const marked = headers[FN_HEADERS.refused];
  return typeof marked === 'string' && marked !== '' ? marked : undefined;
}

/**
 * Errors that say the node cannot be reached. Anything else before delivery is about the request
 * (undici refused to send it) or about us (the pool closed, the client left): never the node's fault.
 */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function isUnreachable(error: Error & { code?: string }): boolean {
  return error.code !== undefined && UNREACHABLE.has(error.code);
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

/** The request's canonical path and the origin-form target to forward, or why it cannot be forwarded. */
function forwardTarget(req: IncomingMessage): { key: string; target: string } | { error: string } {
  const parsed = parseRequestTarget(req.url ?? '');
  if (!parsed.ok) return { error: parsed.reason };
  const host = req.headers.host?.toLowerCase();
  if (parsed.authority !== undefined && parsed.authority !== host) {
    return {
      error: `the request target names host "${parsed.authority}", not this balancer's "${host ?? ''}"`,
    };
  }
  return { key: parsed.path, target: `${parsed.path}${parsed.query}` };
}

export async function proxy(req: IncomingMessage, res: ServerResponse, ctx: ProxyContext): Promise<void> {
  const { stats } = ctx;
  const forward = forwardTarget(req);
  if ('error' in forward) {
    stats.rejected();
    sendError(res, 400, `Bad request: ${forward.error}`, true);
    return;
  }
  const { key, target } = forward;
  let body: Body;
  try {
    body = await readBody(req, ctx.replay);
  } catch {
    res.destroy();
    return;
  }
  try {
    await forwardWithFailover(req, res, ctx, key, target, body);
  } finally {
    ctx.replay.give(body.reserved);
  }
}

async function forwardWithFailover(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ProxyContext,
  key: string,
  target: string,
  body: Body,
): Promise<void> {
  const { balancer, health, stats } = ctx;
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
    const holdRefusal = attempt < maxAttempts && balancer.hasOnline(tried);
    backend.requests++;
    balancer.begin(backend, key);
    const outcome = await new Promise<Outcome>((resolve) => {
      current = new Attempt(res, backend, holdRefusal, ctx.draining(), resolve);
      backend.pool.dispatch({ path: target, method: req.method ?? 'GET', headers, body: body.data }, current);
    });
    balancer.end(backend, key);
    current = undefined;
    if (res.destroyed && outcome.kind !== 'done') return;

    switch (outcome.kind) {
      case 'done':
        if (outcome.statusCode >= 500) backend.responses5xx++;
        stats.served(key, backend.address, outcome.statusCode, outcome.headersMs);
        return;
      case 'refused':
        backend.refused503++;
        if (outcome.refusal === FN_REFUSALS.draining) health.draining(backend);
        previous = 'node_refused';
        reason = `${backend.address} refused it (${outcome.refusal})`;
        continue;
      case 'undelivered': {
        const code = outcome.error.code ?? outcome.error.message;
        if (!isUnreachable(outcome.error)) {
          // undici would not send it: the request itself is at fault, not the node.
          stats.rejected();
          sendError(res, 400, `Bad request: cannot forward it (${code})`, true);
          return;
        }
        backend.undelivered++;
        health.connectFailed(backend, code);
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
