// Discovery: call each node directly once (`GET http://<node><route>?max=100&loops=1`, as the
// historic harness did) and learn the id it answers with, so calls through the balancer can be
// attributed to a node address. The calls run in parallel: one per node, each with the call deadline.
import type { FnClient } from '../common/fn-client.js';
import type { NodeDirectory } from './attribution.js';
import { execute, primesQuery } from './execute.js';

export interface DiscoveredNode {
  node: string;
  /** The id the node answered with; undefined when discovery failed. */
  id: string | undefined;
  /** Why discovery failed (or a warning such as a duplicate id); undefined when all went well. */
  error: string | undefined;
  /** True when the node gave an HTTP answer at all, even an error. */
  reachable: boolean;
  /** True when the call succeeded but the answer names no node: asking again will not change it. */
  anonymous?: boolean;
  /** When it answered with the id another node answered with: that id and that node. */
  sharedWith?: { id: string; node: string };
  body: string;
}

const DISCOVERY_MAX = 100;
const DISCOVERY_LOOPS = 1;

/** Learns the ids of `nodes` (by default every address of the directory) and registers them. */
export async function discoverNodes(
  directory: NodeDirectory,
  route: string,
  clientFor: (node: string) => FnClient,
  nodes: readonly string[] = directory.addresses,
): Promise<DiscoveredNode[]> {
  const executions = await Promise.all(
    nodes.map((node) => execute(clientFor(node), route, primesQuery(DISCOVERY_MAX, DISCOVERY_LOOPS))),
  );
  return nodes.map((node, index): DiscoveredNode => {
    const execution = executions[index]!;
    const reachable = execution.status !== undefined;
    const id = execution.hostname ?? execution.nodeHeader;
    if (!execution.ok)
      return { node, id: undefined, error: execution.error, reachable, body: execution.body };
    if (id === undefined) {
      return {
        node,
        id: undefined,
        error: 'the answer names no node: no "hostname" in the body and no Fn-Node header',
        reachable,
        anonymous: true,
        body: execution.body,
      };
    }
    // A build whose Fn-Node header differs from what its function reports is known by both names.
    if (execution.nodeHeader !== undefined && execution.nodeHeader !== id)
      directory.register(execution.nodeHeader, node);
    const other = directory.register(id, node);
    if (other !== undefined) {
      return {
        node,
        id: undefined,
        error: `it answered with id ${id}, the same as ${other}: both addresses reach one node`,
        reachable,
        body: execution.body,
        sharedWith: { id, node: other },
      };
    }
    return { node, id, error: undefined, reachable, body: execution.body };
  });
}
