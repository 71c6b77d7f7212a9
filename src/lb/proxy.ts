// The proxy: reads the request target as the nodes do (src/common/request-target.ts), picks a node
// with the balancer by that canonical path (a v2 trigger call by its fn's `/invoke/<fn id>` instead,
// fn-keys.ts), forwards the request on the node's keep-alive pool and streams the response back. The
// body kept for a retry is request-body.ts's, the headers of the hop proxy-headers.ts's, and one
// dispatch to one node attempt.ts's; this module walks the nodes.
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
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseRequestTarget } from '../common/request-target.js';
import { errorBody, FN_HEADERS, FN_MESSAGES, FN_REFUSALS } from '../common/wire.js';
import { Attempt, type Outcome } from './attempt.js';
import type { Balancer } from './balancer.js';
import type { FnKeys } from './fn-keys.js';
import type { HealthChecker } from './health.js';
import { requestHeaders } from './proxy-headers.js';
import type { ReplayBudget } from './replay-budget.js';
import { type RequestBody, readBody } from './request-body.js';
import type { LbStats, RetryReason } from './stats.js';

export interface ProxyContext {
  balancer: Balancer;
  health: HealthChecker;
  stats: LbStats;
  log: Logger;
  replay: ReplayBudget;
  /** The key a call is balanced by: its canonical path, or `/invoke/<fn id>` for a v2 trigger call. */
  keys: FnKeys;
  /** True while draining: responses then close their connection. */
  draining(): boolean;
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
  const { target } = forward;
  // A trigger call's fn is looked up while its body arrives (fn-keys.ts: never rejects, bounded wait).
  const keyed = ctx.keys.keyFor(forward.key);
  let body: RequestBody;
  try {
    body = await readBody(req, ctx.replay);
  } catch {
    res.destroy();
    return;
  }
  try {
    let key: string;
    if (typeof keyed === 'string') key = keyed;
    else {
      key = await keyed;
      // The client left while its trigger was looked up: nothing to forward.
      if (res.destroyed) return;
    }
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
  body: RequestBody,
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
