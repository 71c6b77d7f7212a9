// Node-level endpoints: ping, version, stats (when the node serves its counters) and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import type { NodeStats, VersionResponse } from '../../common/wire.js';
import type { NodeMetrics } from '../metrics.js';
import { NODE_VERSION } from '../version.js';

export function systemRoutes(metrics: NodeMetrics, stats: (() => NodeStats) | undefined) {
  return async (api: FastifyInstance) => {
    api.get('/', async () => ({ hello: 'world!', goto: 'https://github.com/fnproject/fn' }));
    api.get('/version', async (): Promise<VersionResponse> => ({ version: NODE_VERSION }));
    if (stats) api.get('/stats', async () => stats());
    api.get('/metrics', async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  };
}
