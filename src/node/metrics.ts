// Prometheus metrics of one node: a registry of its own (so several nodes in one test process never
// share counters) with process defaults and the API request counter; the runner adds its own
// (runner/metrics.ts: calls, cold and hot, containers, start and run times).
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

export interface NodeMetrics {
  registry: Registry;
  apiRequests: Counter<'method' | 'route' | 'status'>;
}

export function createNodeMetrics(nodeId: string): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry });
  const apiRequests = new Counter({
    name: 'fn_http_requests_total',
    help: 'HTTP requests answered by this node, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  return { registry, apiRequests };
}
