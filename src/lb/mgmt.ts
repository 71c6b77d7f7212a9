// The management API, in historic fnlb's shapes:
//   GET    /1/lb/nodes  -> {"nodes":{"host:port":"online"|"offline"}}
//   PUT    /1/lb/nodes  {"node":"host:port"} -> {"msg":"node added"}
//   DELETE /1/lb/nodes  {"node":"host:port"} -> {"msg":"node deleted"}
//   errors             -> {"msg":"..."} (400 for a body that is not JSON or not a host:port)
// plus GET /1/lb/stats (JSON per node and per route), GET /metrics (Prometheus) and GET /health.
// With FNLB_MGMT_TOKEN set, everything but /health needs "Authorization: Bearer <token>". Without a
// token, PUT and DELETE answer 403 unless the management API listens on a loopback address only: the
// default shares the proxy's port on every interface, and whoever reaches the proxy must not be able
// to take every node out or point the balancer at any upstream. A second name for a known node (an
// alias that resolves to the same ip:port) is refused with 409, and so is a node past -max-nodes.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  LB_MESSAGES,
  LB_PATHS,
  type LbMsg,
  type LbNodeBody,
  type LbNodeStats,
  type LbNodeStatus,
  type LbNodesResponse,
  type LbStatsResponse,
} from '../common/lb-wire.js';
import { parseNodeAddress, resolveNodeAddress } from './address.js';
import type { Balancer } from './balancer.js';
import type { HealthChecker } from './health.js';
import type { LbStats } from './stats.js';

const MAX_BODY = 64 * 1024;

/** What GET /1/lb/stats and GET /metrics answer: this process's own counts, or all workers' together. */
export interface LbReports {
  stats(): Promise<LbStatsResponse>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

export interface MgmtContext {
  balancer: Balancer;
  health: HealthChecker;
  reports: LbReports;
  log: Logger;
  token: string | undefined;
  /** Whether PUT and DELETE are allowed without a token (the API listens on loopback only). */
  membershipOpen: boolean;
  draining(): boolean;
  /** Whether the processes that proxy are still starting: /health says so until they listen. */
  starting(): boolean;
  /** Takes a node out of the ring now and closes its pool once its calls in flight end; false if unknown. */
  retire(address: string): boolean;
  /**
   * Resolves once every process that proxies uses the node set as it is now. Answers about the node
   * set wait for it, so a client that changed it (or saw a node online) is never sent by the old set.
   */
  settled(): Promise<void>;
}

export function isManagementPath(path: string): boolean {
  return (
    path === LB_PATHS.health || path === LB_PATHS.metrics || path === '/1/lb' || path.startsWith('/1/lb/')
  );
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...extra,
    })
    .end(text);
}

/** The historic {"msg"} answer, success or error. */
function sendMsg(res: ServerResponse, status: number, msg: string, extra: Record<string, string> = {}): void {
  const body: LbMsg = { msg };
  send(res, status, body, extra);
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (match === null) return false;
  const given = Buffer.from((match[1] as string).trim());
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error(`body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** The node address of a PUT/DELETE body, or the {"msg"} error to answer with. */
async function nodeFromBody(req: IncomingMessage): Promise<LbNodeBody | { error: string }> {
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (error) {
    return { error: `invalid JSON: ${(error as Error).message}` };
  }
  const raw = typeof body === 'object' && body !== null ? (body as { node?: unknown }).node : undefined;
  if (typeof raw !== 'string') return { error: 'body must be {"node":"host:port"}' };
  const node = parseNodeAddress(raw);
  return node === undefined ? { error: `invalid node address "${raw}": want host:port` } : { node };
}

function nodesView(balancer: Balancer): Record<string, LbNodeStatus> {
  const nodes: Record<string, LbNodeStatus> = {};
  for (const backend of balancer.backends()) nodes[backend.address] = backend.online ? 'online' : 'offline';
  return nodes;
}

function sourcesView(balancer: Balancer): NonNullable<LbNodesResponse['sources']> {
  const sources: NonNullable<LbNodesResponse['sources']> = {};
  for (const backend of balancer.backends()) sources[backend.address] = backend.source;
  return sources;
}

/** The counts one process holds: all of them with one process, one worker's share with several. */
export function localReports(balancer: Balancer, stats: LbStats): LbReports {
  return {
    stats: async () => statsView(balancer, stats),
    metrics: async () => ({ contentType: stats.registry.contentType, text: await stats.registry.metrics() }),
  };
}

function statsView(balancer: Balancer, stats: LbStats): LbStatsResponse {
  const now = Date.now();
  const nodes: Record<string, LbNodeStats> = {};
  for (const backend of balancer.backends()) {
    nodes[backend.address] = {
      state: backend.state,
      in_flight: backend.inFlight,
      load: Number(balancer.load(backend, now).toFixed(3)),
      wait_ewma_ms: Number(backend.wait.value(now).toFixed(3)),
      headers_ewma_ms: Number(backend.latency.value(now).toFixed(3)),
      requests: backend.requests,
      responses_5xx: backend.responses5xx,
      undelivered: backend.undelivered,
      refused_503: backend.refused503,
      upstream_errors: backend.upstreamErrors,
      checks_passed: backend.checksPassed,
      checks_failed: backend.checksFailed,
      last_check_error: backend.lastCheckError ?? null,
    };
  }
  return {
    total_in_flight: balancer.totalInFlight,
    online: balancer.onlineCount(),
    bound: balancer.bound(),
    nodes,
    ...stats.routes(),
  };
}

export async function manage(req: IncomingMessage, res: ServerResponse, ctx: MgmtContext): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] as string;
  const method = req.method ?? 'GET';
  if (path === LB_PATHS.health) {
    if (method !== 'GET' && method !== 'HEAD') return sendMsg(res, 405, 'method not allowed');
    const online = ctx.balancer.onlineCount();
    if (ctx.draining()) return send(res, 503, { status: 'draining', online });
    if (ctx.starting()) return send(res, 503, { status: 'starting', online });
    return send(res, 200, { status: 'ok', online });
  }
  if (ctx.token !== undefined && !authorized(req, ctx.token)) {
    return sendMsg(res, 401, 'unauthorized: send Authorization: Bearer <FNLB_MGMT_TOKEN>', {
      'www-authenticate': 'Bearer',
    });
  }
  if (path === LB_PATHS.metrics) {
    if (method !== 'GET') return sendMsg(res, 405, 'method not allowed');
    const { contentType, text } = await ctx.reports.metrics();
    res.writeHead(200, { 'content-type': contentType }).end(text);
    return;
  }
  if (path === LB_PATHS.stats) {
    if (method !== 'GET') return sendMsg(res, 405, 'method not allowed');
    return send(res, 200, await ctx.reports.stats());
  }
  if (path !== LB_PATHS.nodes) return sendMsg(res, 404, `no such endpoint: ${path}`);

  if ((method === 'PUT' || method === 'DELETE') && ctx.token === undefined && !ctx.membershipOpen) {
    return sendMsg(
      res,
      403,
      'node changes need FNLB_MGMT_TOKEN set on the balancer, or -mgmt-listen on a loopback address',
    );
  }
  switch (method) {
    case 'GET': {
      const view = { nodes: nodesView(ctx.balancer), sources: sourcesView(ctx.balancer) };
      await ctx.settled();
      return send(res, 200, view);
    }
    case 'PUT': {
      const parsed = await nodeFromBody(req);
      if ('error' in parsed) return sendMsg(res, 400, parsed.error);
      const added = ctx.balancer.add(parsed.node, await resolveNodeAddress(parsed.node), 'api');
      switch (added.kind) {
        case 'alias':
          return sendMsg(res, 409, `node "${parsed.node}" is node "${added.of}" under another name`);
        case 'full':
          return sendMsg(
            res,
            409,
            `node limit reached: the balancer takes at most ${added.max} nodes (-max-nodes)`,
          );
        case 'added':
          ctx.log.info({ node: parsed.node }, 'node added');
          // Check it now rather than at the next tick: it gets traffic as soon as it passes.
          void ctx.health.check(added.backend);
          await ctx.settled();
          return sendMsg(res, 200, LB_MESSAGES.added);
        case 'known':
          await ctx.settled();
          return sendMsg(res, 200, LB_MESSAGES.added);
      }
      break;
    }
    case 'DELETE': {
      const parsed = await nodeFromBody(req);
      if ('error' in parsed) return sendMsg(res, 400, parsed.error);
      if (!ctx.retire(parsed.node)) return sendMsg(res, 404, `unknown node "${parsed.node}"`);
      ctx.log.info({ node: parsed.node }, 'node deleted');
      await ctx.settled();
      return sendMsg(res, 200, LB_MESSAGES.deleted);
    }
    default:
      return sendMsg(res, 405, 'method not allowed');
  }
}
