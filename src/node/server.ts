// Assembles the node's HTTP server: the Fn v1 and v2 APIs, system endpoints, and whatever further
// plugins main.ts hands in (invocation). Errors take Fn's shape in one handler (api/errors.ts).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import { parseRequestTarget } from '../common/request-target.js';
import { errorBody, FN_HEADERS, FN_REFUSALS, type NodeStats } from '../common/wire.js';
import { AnswerError } from './answer-error.js';
import { appRoutes } from './api/apps.js';
import { badRequest, errorHandler, notFoundHandler, sendError } from './api/errors.js';
import { routeRoutes } from './api/routes.js';
import { systemRoutes } from './api/system.js';
import { appRoutesV2 } from './api/v2/apps.js';
import { fnRoutesV2 } from './api/v2/fns.js';
import { triggerRoutesV2 } from './api/v2/triggers.js';
import type { Datastore } from './datastore/datastore.js';
import type { Drain } from './drain.js';
import type { NodeMetrics } from './metrics.js';

export interface ServerDeps {
  nodeId: string;
  maxRequestBytes: number;
  datastore: Datastore;
  metrics: NodeMetrics;
  logger: FastifyBaseLogger;
  /** Provider of the GET /stats body (the runner); without it the node serves no /stats. */
  stats?: () => NodeStats;
  /** Never name this node in a response (Fn-Node): with no stats, a node build that counts nothing. */
  anonymous?: boolean;
  /** How long a client may take to send its whole request (FN_REQUEST_TIMEOUT); then 408. */
  requestTimeoutMs?: number;
  /** Client connections open at once (FN_MAX_CONNS); more are refused at accept. */
  maxConnections?: number;
  /** Further plugins registered at the root, such as invocation. */
  plugins?: FastifyPluginAsync[];
  /** The graceful stop: while it drains, every request is refused with 503 Fn-Refused: draining. */
  drain?: Drain;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** A client must send its request head within this. */
const HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONNECTIONS = 10_000;

/** Methods whose requests carry no body on this API: an empty one is fine whatever the content type. */
const BODILESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** A Host header that is a host[:port] (RFC 3986 reg-name, IPv4 or a bracketed IPv6 literal). */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?$/;

/**
 * Requests Node's HTTP parser refuses before any handler sees them (a head over the size limit, a
 * malformed request line or header, a client too slow with its head): answered in Fn's error shape,
 * then the connection is closed.
 */
function clientErrorAnswer(error: Error & { code?: string }): { status: number; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'Request header fields too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'Request timeout' };
    default:
      return { status: 400, message: `Bad request: ${error.message.replace(/[\r\n]/g, ' ').slice(0, 200)}` };
  }
}

function writeClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.bytesWritten > 0)) {
    socket.destroy();
    return;
  }
  const { status, message } = clientErrorAnswer(error);
  const body = JSON.stringify(errorBody(message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Why a request target could not be read, for the request it belongs to (see rewriteUrl below). */
const badTargets = new WeakMap<object, string>();

/**
 * Parses any content type as JSON: Fn clients (and `curl -d`) often send JSON without
 * `Content-Type: application/json`, and Fn accepted it. `invalid` words the refusal of a body that is
 * not JSON (v1 says why; v2 clients expect Fn's bare "Invalid JSON").
 */
function parseAnyContentTypeAsJson(
  api: FastifyInstance,
  invalid: (detail: string) => string = (detail) => `Invalid JSON: ${detail}`,
): void {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = (body as string).trim();
    // curl and API clients send Content-Type: application/json on every request, bodiless ones too.
    if (text === '' && BODILESS.has(request.method)) return done(null, undefined);
    if (text === '') return done(badRequest(invalid('the request body is empty')));
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(badRequest(invalid((error as Error).message)));
    }
  });
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Calls are counted in metrics; a log line per request would drown the node's log under load.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxRequestBytes,
    // A client that stalls its upload or its head holds a connection and its buffers: bounded. The
    // check runs every second so the bound holds to the second.
    requestTimeout: deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: 1000,
      // Node answers an HTTP/1.1 request without Host itself, with an empty 400 that is not Fn's
      // error shape; the onRequest hook below refuses it in Fn's shape instead.
      requireHostHeader: false,
    },
    // Every request is routed by its canonical target, the same reading fnlb hashes: "/r/app/route/",
    // "/r/app//route" and "/r/app/%72oute" are one route, on one node.
    rewriteUrl: (req) => {
      const target = parseRequestTarget(req.url ?? '');
      if (target.ok) return `${target.path}${target.query}`;
      badTargets.set(req, target.reason);
      return '/';
    },
    // v2 app names may be 255 characters long, and each must be callable at /t/<app>.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // Errors of fastify's own router (a parameter longer than find-my-way allows, a URL it cannot
    // decode) in Fn's shape too.
    frameworkErrors: (error, _request, reply) => {
      const tooLong = (error as FastifyError).code === 'FST_ERR_MAX_PARAM_LENGTH';
      sendError(
        reply,
        new AnswerError(
          tooLong ? 414 : 400,
          tooLong ? 'URL parameter too long' : `Bad request: ${error.message}`,
        ),
      );
    },
    clientErrorHandler: writeClientError,
    // The drain (drain.ts) refuses requests itself, and closes connections only once it is quiet.
    return503OnClosing: false,
    forceCloseConnections: false,
  });
  app.server.maxConnections = deps.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', async (request, reply) => {
    const badTarget = badTargets.get(request.raw);
    if (badTarget !== undefined) return sendError(reply, badRequest(`Bad request: ${badTarget}`));
    const host = request.headers.host;
    // RFC 9112 3.2: an HTTP/1.1 request must name its host (an HTTP/1.0 one need not).
    if (host === undefined && request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1) {
      return sendError(reply, badRequest('Bad request: an HTTP/1.1 request needs a Host header'));
    }
    if (host !== undefined && !HOST_HEADER.test(host)) {
      return sendError(reply, badRequest('Bad request: the Host header is not a host[:port]'));
    }
    const drain = deps.drain;
    if (drain === undefined) return;
    // Health checks do not keep a draining node up: only calls and API requests count as activity.
    if (request.url !== '/version') reply.raw.once('close', drain.arrived());
    if (drain.draining) {
      reply.header(FN_HEADERS.refused, FN_REFUSALS.draining).header('connection', 'close');
      return sendError(reply, new AnswerError(503, 'Node is shutting down', 1));
    }
  });
  // A request still running when the node starts draining would otherwise leave its keep-alive
  // connection open after the answer, and the drain would wait for the client to hang up.
  app.addHook('onSend', async (request, reply) => {
    if (deps.drain?.draining || !request.server.server.listening) reply.header('connection', 'close');
    if (deps.anonymous) reply.removeHeader(FN_HEADERS.node);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.apiRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  await app.register(systemRoutes(deps.metrics, deps.stats));
  await app.register(async (api) => {
    parseAnyContentTypeAsJson(api);
    await api.register(appRoutes(deps.datastore));
    await api.register(routeRoutes(deps.datastore));
  });
  await app.register(async (api) => {
    parseAnyContentTypeAsJson(api, () => 'Invalid JSON');
    await api.register(appRoutesV2(deps.datastore));
    await api.register(fnRoutesV2(deps.datastore));
    await api.register(triggerRoutesV2(deps.datastore));
  });
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
