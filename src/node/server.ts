// Assembles the node's HTTP server: the Fn v1 API, system endpoints, and whatever further plugins
// main.ts hands in (invocation). Errors take Fn's shape in one handler (api/errors.ts).
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import { emptyNodeStats, type NodeStats } from '../common/wire.js';
import { appRoutes } from './api/apps.js';
import { badRequest, errorHandler, notFoundHandler } from './api/errors.js';
import { routeRoutes } from './api/routes.js';
import { systemRoutes } from './api/system.js';
import type { Datastore } from './datastore/datastore.js';
import type { NodeMetrics } from './metrics.js';

export interface ServerDeps {
  nodeId: string;
  maxRequestBytes: number;
  datastore: Datastore;
  metrics: NodeMetrics;
  logger: FastifyBaseLogger;
  /** Provider of the GET /stats body; the runner supplies it. */
  stats?: () => NodeStats;
  /** Further plugins registered at the root, such as invocation. */
  plugins?: FastifyPluginAsync[];
}

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
    // "/v1/apps/" and "/r/app/route/" reach the same handlers as without the slash, as in Fn.
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // A request still running when the node starts draining would otherwise leave its keep-alive
  // connection open after the answer, and close() would wait for the client to hang up.
  app.addHook('onSend', async (request, reply) => {
    if (!request.server.server.listening) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.apiRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  const stats = deps.stats ?? (() => emptyNodeStats(deps.nodeId));
  await app.register(systemRoutes(deps.metrics, stats));
  await app.register(async (api) => {
    parseAnyContentTypeAsJson(api);
    await api.register(appRoutes(deps.datastore));
    await api.register(routeRoutes(deps.datastore));
  });
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
