// fnlb's management API from a guard file: node changes with the token the topology set, and a wait
// for the nodes the balancer reports online.
import { FnClient } from '../../src/common/fn-client.js';
import { LB_PATHS } from '../../src/lb/wire.js';
import { waitUntilNodesOnline } from '../topology/probe.js';
import type { TopologyInfo } from '../topology/types.js';

const MGMT_TIMEOUT_MS = 5000;
const ONLINE_TIMEOUT_MS = 30_000;

export class Management {
  readonly #client: FnClient;
  readonly #headers: Record<string, string>;

  constructor(private readonly info: TopologyInfo) {
    if (info.lbMgmtUrl === undefined) throw new Error('the balancer has no management API address');
    this.#client = new FnClient(info.lbMgmtUrl, { timeoutMs: MGMT_TIMEOUT_MS });
    this.#headers = info.mgmtToken ? { authorization: `Bearer ${info.mgmtToken}` } : {};
  }

  async #change(method: 'PUT' | 'DELETE', node: string): Promise<void> {
    const answer = await this.#client.send(method, LB_PATHS.nodes, { node }, this.#headers);
    if (answer.status !== 200)
      throw new Error(`${method} ${LB_PATHS.nodes} ${node}: ${answer.status} ${answer.body}`);
  }

  add(node: string): Promise<void> {
    return this.#change('PUT', node);
  }

  remove(node: string): Promise<void> {
    return this.#change('DELETE', node);
  }

  waitOnline(nodes: readonly string[]): Promise<void> {
    return waitUntilNodesOnline(this.info, nodes, ONLINE_TIMEOUT_MS);
  }
}
