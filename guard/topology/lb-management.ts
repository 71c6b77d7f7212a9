// fnlb's management API from the suite (historic shapes: GET /1/lb/nodes {"nodes":{addr:state}},
// PUT and DELETE {"node"}), with the token the topology set: reads that never throw on a bad answer,
// node changes that do, and waits for a node's state. Probing, membership, failover's watch and the
// api property all go through this one client.

import { waitUntil } from '../../helpers/wait.js';
import { FnClient } from '../../src/common/fn-client.js';
import { LB_PATHS, type LbNodesResponse } from '../../src/common/lb-wire.js';
import type { TopologyInfo } from './types.js';

const MGMT_TIMEOUT_MS = 5000;

export type LbNodeView = Record<string, string>;

export class LbManagement {
  readonly #client: FnClient;
  readonly headers: Record<string, string>;

  constructor(info: Pick<TopologyInfo, 'lbMgmtUrl' | 'mgmtToken'>) {
    if (info.lbMgmtUrl === undefined) throw new Error('the balancer has no management API address');
    this.#client = new FnClient(info.lbMgmtUrl, { timeoutMs: MGMT_TIMEOUT_MS });
    this.headers = info.mgmtToken ? { authorization: `Bearer ${info.mgmtToken}` } : {};
  }

  /** Any request to the API, with the token: for tests of the API itself. */
  send(method: string, path: string, body?: unknown): ReturnType<FnClient['send']> {
    return this.#client.send(method, path, body, this.headers);
  }

  /** The balancer's view of its nodes, or undefined when it does not answer one (never throws). */
  async nodes(): Promise<LbNodeView | undefined> {
    try {
      const answer = await this.send('GET', LB_PATHS.nodes);
      return answer.status === 200 ? parseNodes(answer.body) : undefined;
    } catch {
      return undefined;
    }
  }

  async #change(method: 'PUT' | 'DELETE', node: string): Promise<void> {
    const answer = await this.send(method, LB_PATHS.nodes, { node });
    if (answer.status !== 200)
      throw new Error(`${method} ${LB_PATHS.nodes} ${node}: ${answer.status} ${answer.body}`);
  }

  add(node: string): Promise<void> {
    return this.#change('PUT', node);
  }

  remove(node: string): Promise<void> {
    return this.#change('DELETE', node);
  }

  /** Waits until the balancer reports every one of `nodes` online. */
  waitOnline(nodes: readonly string[], timeoutMs: number): Promise<void> {
    return this.#waitView(
      `${nodes.join(', ')} online`,
      (view) => nodes.every((node) => view[node] === 'online'),
      timeoutMs,
    );
  }

  /** Waits until the balancer no longer lists any of `nodes` (a node gone from DNS is dropped). */
  waitGone(nodes: readonly string[], timeoutMs: number): Promise<void> {
    return this.#waitView(
      `${nodes.join(', ')} gone`,
      (view) => nodes.every((node) => !(node in view)),
      timeoutMs,
    );
  }

  async #waitView(what: string, done: (view: LbNodeView) => boolean, timeoutMs: number): Promise<void> {
    let view: LbNodeView = {};
    await waitUntil(
      `${what} at the balancer`,
      async () => {
        view = (await this.nodes()) ?? {};
        return done(view);
      },
      timeoutMs,
      50,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(view)}`);
    });
  }
}

export function parseNodes(body: string): LbNodeView | undefined {
  try {
    const nodes = (JSON.parse(body) as Partial<LbNodesResponse>).nodes;
    return typeof nodes === 'object' && nodes !== null ? nodes : undefined;
  } catch {
    return undefined;
  }
}
