// Runs a real fnlb (the compiled dist/ build) as a child process on a free 127.0.0.1 port in front
// of the given nodes, for tests, benches and the demo, with the settings it is given and not the
// test's environment (child-env.ts). Readiness is a real GET /health; the management helpers (nodes,
// stats, waitNodes) speak fnlb's /1/lb API with the token it was given.
import { request } from 'undici';
import {
  LB_PATHS,
  type LbNodeStatus,
  type LbNodesResponse,
  type LbStatsResponse,
} from '../src/common/lb-wire.js';
import { distPath } from '../src/common/package-root.js';
import { LocalServer } from './local-server.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { waitForState } from './wait.js';

export const FNLB_ENTRY = distPath('src/lb/main.js');

/** Health checks every 200 ms so a killed or added node is noticed within a fraction of a second. */
export const FAST_HEALTH_CHECKS = ['-hc-interval', '0.2', '-hc-timeout', '1'];

export interface FnlbOptions {
  /** host:port of each node. */
  nodes: string[];
  port?: number;
  /** Further historic flags, for example ['-hc-interval', '0.2']. */
  flags?: string[];
  /** FNLB_MGMT_TOKEN for the balancer; the management helpers below send it. */
  token?: string;
  /** The balancer's settings (FNLB_*): with the few variables it inherits, all it reads. */
  env?: Record<string, string>;
  /** Flags for Node itself, for example ['--cpu-prof']. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** The management API (and /health) on a port of its own (-mgmt-listen): in a -workers cluster the primary serves it. */
  mgmtPort?: boolean;
}

const MGMT_TIMEOUT_MS = 5000;

export class FnlbProcess extends LocalServer {
  private constructor(
    managed: ManagedProcess,
    port: number,
    readonly token: string | undefined,
    /** Where the management helpers send their calls: the listen port, or -mgmt-listen's. */
    readonly mgmtUrl: string,
  ) {
    super(managed, port);
  }

  static async start(options: FnlbOptions): Promise<FnlbProcess> {
    const port = options.port ?? (await freePort());
    const mgmtPort = options.mgmtPort ? await freePort() : port;
    const mgmtFlags = options.mgmtPort ? ['-mgmt-listen', `127.0.0.1:${mgmtPort}`] : [];
    const env: Record<string, string> = { FNLB_LOG_LEVEL: 'warn', ...options.env };
    if (options.token !== undefined) env.FNLB_MGMT_TOKEN = options.token;
    const managed = await ManagedProcess.spawn({
      label: `fnlb on port ${port}`,
      entry: FNLB_ENTRY,
      args: [
        '-listen',
        `127.0.0.1:${port}`,
        ...mgmtFlags,
        '-nodes',
        options.nodes.join(','),
        ...(options.flags ?? []),
      ],
      env,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      readyUrl: `http://127.0.0.1:${mgmtPort}${LB_PATHS.health}`,
      ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
    return new FnlbProcess(managed, port, options.token, `http://127.0.0.1:${mgmtPort}`);
  }

  /** A management call; `token` overrides the one the balancer was started with (null: send none). */
  async manage(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    token: string | null = this.token ?? null,
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const response = await request(`${this.mgmtUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: MGMT_TIMEOUT_MS,
      bodyTimeout: MGMT_TIMEOUT_MS,
    });
    return { status: response.statusCode, body: await response.body.text() };
  }

  async nodes(): Promise<Record<string, LbNodeStatus>> {
    const answer = await this.manage('GET', LB_PATHS.nodes);
    if (answer.status !== 200) throw new Error(`GET ${LB_PATHS.nodes}: ${answer.status} ${answer.body}`);
    return (JSON.parse(answer.body) as LbNodesResponse).nodes;
  }

  async stats(): Promise<LbStatsResponse> {
    const answer = await this.manage('GET', LB_PATHS.stats);
    if (answer.status !== 200) throw new Error(`GET ${LB_PATHS.stats}: ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body) as LbStatsResponse;
  }

  /** Polls GET /1/lb/nodes every 20 ms until `wanted` holds; resolves with the time it first did. */
  async waitNodes(
    what: string,
    wanted: (nodes: Record<string, LbNodeStatus>) => boolean,
    timeoutMs = 10_000,
  ): Promise<number> {
    await waitForState(`fnlb: ${what}`, () => this.nodes(), wanted, timeoutMs);
    return Date.now();
  }
}
