// fnlb gives a node no traffic until its first health check passes: callers that need a ready
// cluster poll the management API (GET /1/lb/nodes) until every wanted node is online.
import { FnClient } from '../src/common/fn-client.js';
import { LB_PATHS, type LbNodesResponse } from '../src/lb/wire.js';

export async function waitUntilOnline(
  mgmtUrl: string,
  nodes: readonly string[],
  options: { token?: string | undefined; timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const mgmt = new FnClient(mgmtUrl, { timeoutMs: 2000 });
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const deadline = Date.now() + timeoutMs;
  let view: LbNodesResponse = { nodes: {} };
  while (Date.now() < deadline) {
    const result = await mgmt.send('GET', LB_PATHS.nodes, undefined, headers);
    if (result.status === 200) {
      view = JSON.parse(result.body) as LbNodesResponse;
      if (nodes.every((node) => view.nodes[node] === 'online')) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fnlb: not every node online within ${timeoutMs} ms: ${JSON.stringify(view.nodes)}`);
}
