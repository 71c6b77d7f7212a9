// Assembles the node's HTTP server: the Fn v1 API, system endpoints, and whatever further plugins
// main.ts hands in (invocation). Errors take Fn's shape in one handler (api/errors.ts).
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import { parseRequestTarget } from '../common/request-target.js';
import { FN_HEADERS, FN_REFUSALS, type NodeStats } from '../common/wire.js';
import { appRoutes } from './api/apps.js';
import { ApiError, badRequest, errorHandler, notFoundHandler, sendError } from './api/errors.js';
import { routeRoutes } from './api/routes.js';
import { systemRoutes } from './api/system.js';
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
  /** Further plugins registered at the root, such as invocation. */
  plugins?: FastifyPluginAsync[];
  /** The graceful stop: while it drains, every request is refused with 503 Fn-Refused: draining. */
  drain?: Drain;
}

/** Why a request target could not be read, for the request it belongs to (see rewriteUrl below). */
const badTargets = new WeakMap<object, string>();

/**
 * Parses any content type as JSON: Fn clients (and `curl -d`) often send JSON without
 * `Content-Type: application/json`, and Fn accepted it.
 */
function parseAnyContentTypeAsJson(api: FastifyInstance): void {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(badRequest('Invalid JSON: the request body is empty'));
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(badRequest(`Invalid JSON: ${(error as Error).message}`));
    }
  });
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Calls are counted in metrics; a log line per request would drown the node's log under load.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxRequestBytes,
    // Every request is routed by its canonical target, the same reading fnlb hashes: "/r/app/route/",
    // "/r/app//route" and "/r/app/%72oute" are one route, on one node.
    rewriteUrl: (req) => {
      const target = parseRequestTarget(req.url ?? '');
      if (target.ok) return `${target.path}${target.query}`;
      badTargets.set(req, target.reason);
      return '/';
    },
    routerOptions: { ignoreTrailingSlash: true },
    // The drain (drain.ts) refuses requests itself, and closes connections only once it is quiet.
    return503OnClosing: false,
    forceCloseConnections: false,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', async (request, reply) => {
    const badTarget = badTargets.get(request.raw);
    if (badTarget !== undefined) return sendError(reply, badRequest(`Bad request: ${badTarget}`));
    const drain = deps.drain;
    if (drain === undefined) return;
    // Health checks do not keep a draining node up: only calls and API requests count as activity.
    if (request.url !== '/version') reply.raw.once('close', drain.arrived());
    if (drain.draining) {
      reply.header(FN_HEADERS.refused, FN_REFUSALS.draining).header('connection', 'close');
      return sendError(reply, new ApiError(503, 'Node is shutting down', 1));
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
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
