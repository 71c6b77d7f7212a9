// Faults across processes. The topology lives in Vitest's globalSetup (the main process); test files
// run in workers. So the topology serves its faults on 127.0.0.1, behind a random token, and test
// files call them with FaultClient: POST /kill|stop|start|discard|freeze|thaw {"node"}, POST /add,
// POST /restore.
// Each answers when the operation is done (a killed node is gone, a started one answers /version).
// POST /info answers the topology's current description: where an orchestrator replaced a node a
// fault took down (Swarm), the next file must address the replacement, not what inject() handed out.
// POST /ids answers the node ids files learned so far, and POST /ids/learned adds to them, so a file
// asks only the nodes no earlier file could name (a busy node may take long to answer): a fault on a
// node forgets what it was called, and restore forgets them all (an orchestrator may have replaced
// nodes at the same addresses).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { AddedNode, Faults, Topology, TopologyInfo } from './types.js';

/** Inside a guard test's own timeout (120 s), so a fault that hangs fails the test with its reason. */
const CALL_TIMEOUT_MS = 100_000;
const NODE_OPS = ['kill', 'stop', 'start', 'discard', 'freeze', 'thaw'] as const;

export interface FaultServer {
  url: string;
  close(): Promise<void>;
}

/** Node address -> every id it answered with. */
export type KnownIds = Record<string, string[]>;

function isKnownIds(value: unknown): value is KnownIds {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((ids) => Array.isArray(ids) && ids.every((id) => typeof id === 'string'))
  );
}

async function readJson(req: IncomingMessage): Promise<{ node?: unknown; ids?: unknown }> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 10_000) throw new Error('body too large');
  }
  return text === '' ? {} : (JSON.parse(text) as { node?: unknown; ids?: unknown });
}

export async function serveFaults(topology: Topology): Promise<FaultServer> {
  const token = randomBytes(16).toString('hex');
  let url = '';
  const knownIds = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.headers.authorization !== `Bearer ${token}`) return reply(404, {});
    const op = (req.url ?? '').slice(1);
    void (async () => {
      try {
        const body = await readJson(req);
        if (op === 'info') {
          await topology.refresh?.();
          // An orchestrator may have replaced a node without a fault: its old address is forgotten.
          for (const node of knownIds.keys()) if (!topology.info.nodes.includes(node)) knownIds.delete(node);
          return reply(200, { ...topology.info, controlUrl: url });
        }
        if (op === 'ids') return reply(200, { ids: Object.fromEntries(knownIds) });
        if (op === 'ids/learned') {
          if (!isKnownIds(body.ids))
            return reply(400, { error: 'body must be {"ids":{"host:port":["id"]}}' });
          for (const [node, ids] of Object.entries(body.ids)) if (ids.length > 0) knownIds.set(node, ids);
          return reply(200, {});
        }
        if (op === 'restore') {
          knownIds.clear();
          await topology.restore();
          return reply(200, {});
        }
        if (op === 'add') {
          if (!topology.faults.add) return reply(501, { error: 'this topology cannot add nodes' });
          return reply(200, await topology.faults.add());
        }
        if (!(NODE_OPS as readonly string[]).includes(op)) return reply(404, { error: `no operation ${op}` });
        const fault = topology.faults[op as (typeof NODE_OPS)[number]];
        if (!fault) return reply(501, { error: `this topology cannot ${op} a node` });
        if (typeof body.node !== 'string') return reply(400, { error: 'body must be {"node":"host:port"}' });
        knownIds.delete(body.node);
        await fault(body.node);
        return reply(200, {});
      } catch (error) {
        return reply(500, { error: (error as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://${token}@127.0.0.1:${port}`;
  return {
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The topology's faults, from a test worker. */
export class FaultClient implements Required<Faults> {
  readonly #base: string;
  readonly #token: string;

  constructor(controlUrl: string) {
    const url = new URL(controlUrl);
    this.#token = url.username;
    this.#base = `${url.protocol}//${url.host}`;
  }

  async #call(op: string, body: unknown = {}): Promise<unknown> {
    const response = await request(`${this.#base}/${op}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: CALL_TIMEOUT_MS,
      bodyTimeout: CALL_TIMEOUT_MS,
    });
    const answer = (await response.body.json()) as { error?: string };
    if (response.statusCode !== 200)
      throw new Error(`topology ${op}: ${answer.error ?? response.statusCode}`);
    return answer;
  }

  kill = async (node: string) => void (await this.#call('kill', { node }));
  stop = async (node: string) => void (await this.#call('stop', { node }));
  start = async (node: string) => void (await this.#call('start', { node }));
  discard = async (node: string) => void (await this.#call('discard', { node }));
  freeze = async (node: string) => void (await this.#call('freeze', { node }));
  thaw = async (node: string) => void (await this.#call('thaw', { node }));
  add = async () => (await this.#call('add')) as AddedNode;
  restore = async () => void (await this.#call('restore'));
  info = async () => (await this.#call('info')) as TopologyInfo;
  /** The node ids earlier files learned, by node address. */
  knownIds = async () => ((await this.#call('ids')) as { ids: KnownIds }).ids;
  rememberIds = async (ids: KnownIds) => void (await this.#call('ids/learned', { ids }));
}
