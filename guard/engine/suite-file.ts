// What each guard file needs from the run's shared topology: its own app (unique per run and file,
// removed afterwards), clients for the balancer and the nodes, which node answered (node ids learned
// by calling each node directly once, as the historic harness did; never the balancer's word, since
// the balancer is under test), ways to drive calls, and what the nodes did for the routes the file
// created: their own counters (GET /stats) and, where their functions run on an engine the suite can
// see, the containers that engine ran (guard/engine-watch.ts; every route carries the FNG_ROUTE
// variable in its config so its containers can be told apart).

import { WaitTimeout, waitUntil } from '../../helpers/wait.js';
import { forEachBounded } from '../../src/common/bounded.js';
import { FnClient } from '../../src/common/fn-client.js';
import { FN_HEADERS, type NodeStats, type RouteBody } from '../../src/common/wire.js';
import { NodeDirectory } from '../../src/harness/attribution.js';
import { type DiscoveredNode, discoverNodes } from '../../src/harness/discovery.js';
import { type CallRecord, type DriveResult, drive, toRecord } from '../../src/harness/drive.js';
import { execute } from '../../src/harness/execute.js';
import { EngineWatch } from '../measure/engine-watch.js';
import { ROUTE_MARKER } from '../topology/route-marker.js';
import type { TopologyInfo } from '../topology/types.js';

const DISCOVERY_DEADLINE_MS = 5000;
const CALL_TIMEOUT_MS = 30_000;

export type RouteSpec = RouteBody['route'] & { path: string };

export class SuiteFile {
  readonly lb: FnClient;
  private readonly nodeClients: Map<string, FnClient>;

  /** Node addresses as the balancer names them: the topology's, plus any this file added. */
  readonly nodes: string[];

  private constructor(
    readonly info: TopologyInfo,
    readonly app: string,
    readonly directory: NodeDirectory,
    /** The containers the nodes' engine creates from the file's opening, when it can be watched. */
    readonly engine: EngineWatch | undefined,
  ) {
    this.nodes = directory.addresses;
    this.lb = new FnClient(info.lbUrl, { timeoutMs: CALL_TIMEOUT_MS });
    this.nodeClients = new Map(
      info.nodes.map((node, index) => [
        node,
        new FnClient(info.nodeUrls[index] as string, { timeoutMs: 10_000 }),
      ]),
    );
  }

  /** Creates the file's app and learns every node's id through a small discovery route. */
  static async open(info: TopologyInfo, name: string): Promise<SuiteFile> {
    const app = `${info.appPrefix}-${name}`;
    const engine = info.engine ? await EngineWatch.start(info.engine.socketPath) : undefined;
    const file = new SuiteFile(
      info,
      app,
      new NodeDirectory([...info.nodes], { trustBalancer: false }),
      engine,
    );
    try {
      await file.lb.createApp(app);
      await file.createRoute({ path: '/discover', image: 'fnguard/sleep', format: 'http' });
      await file.discover();
    } catch (error) {
      await file.close();
      throw error;
    }
    return file;
  }

  /** A node that joined the cluster after the file opened: learns its id like the others'. */
  async addNode(address: string, url: string): Promise<void> {
    this.nodeClients.set(address, new FnClient(url, { timeoutMs: 10_000 }));
    this.directory.addAddress(address);
    await this.discover();
  }

  /** A node that left the cluster for good (an added node discarded). */
  forgetNode(address: string): void {
    this.nodeClients.delete(address);
    this.directory.removeAddress(address);
  }

  /**
   * Why calls through the balancer cannot be told apart by node, when they cannot: two nodes answer
   * under one name (no Fn-Node header, and their functions report the same hostname).
   */
  unattributable: string | undefined;

  /** Routes reach every node within about a second: retry until each node answered with its id. */
  private async discover(): Promise<void> {
    let missing: DiscoveredNode[] = [];
    const learned = async () => {
      const found = await discoverNodes(this.directory, `/r/${this.app}/discover`, (node) => this.node(node));
      missing = found.filter((node) => node.id === undefined);
      const shared = missing.filter((node) => node.sharedWith !== undefined);
      if (missing.length > 0 && shared.length === missing.length) {
        this.unattributable = `nodes answer under one name, so calls cannot be told apart by node: ${shared
          .map((node) => `${node.node} as ${node.sharedWith?.id}, like ${node.sharedWith?.node}`)
          .join('; ')}`;
        return true;
      }
      return missing.length === 0;
    };
    try {
      await waitUntil('every node to answer with its id', learned, DISCOVERY_DEADLINE_MS, 100);
    } catch (error) {
      if (!(error instanceof WaitTimeout) || missing.length === 0) throw error;
      throw new Error(
        `could not learn the id of ${missing.map((node) => `${node.node} (${node.error})`).join(', ')}`,
      );
    }
  }

  /** The node that served an answer, by its own word: its function's hostname, else its Fn-Node header. */
  nodeOfAnswer(answer: { headers: Record<string, unknown>; body?: string }): string | undefined {
    let hostname: string | undefined;
    try {
      const parsed = answer.body ? (JSON.parse(answer.body) as { hostname?: unknown }) : {};
      hostname = typeof parsed.hostname === 'string' ? parsed.hostname : undefined;
    } catch {
      hostname = undefined;
    }
    const header = answer.headers[FN_HEADERS.node];
    const nodeHeader = typeof header === 'string' ? header : undefined;
    if (hostname === undefined && nodeHeader === undefined) return undefined;
    return this.directory.attribute({ hostname, nodeHeader, lbNodeHeader: undefined });
  }

  node(address: string): FnClient {
    const client = this.nodeClients.get(address);
    if (!client) throw new Error(`${address} is not a node of this topology`);
    return client;
  }

  /** The invocation path of one of this file's routes. */
  invokePath(path: string): string {
    return `/r/${this.app}${path}`;
  }

  async createRoute(route: RouteSpec): Promise<void> {
    const config = { ...route.config, [ROUTE_MARKER]: `${this.app}${route.path}` };
    await this.lb.createRoute(this.app, { ...route, config });
  }

  /** Creates many routes, a few requests at a time. */
  async createRoutes(routes: readonly RouteSpec[], concurrency = 8): Promise<void> {
    await forEachBounded(routes, concurrency, (route) => this.createRoute(route));
  }

  /** `calls` calls through the balancer, `concurrency` at a time, spread over `paths` in a fixed shuffle. */
  async drive(
    paths: readonly string[],
    calls: number,
    concurrency: number,
    query = '',
  ): Promise<DriveResult> {
    return drive({
      client: this.lb,
      routes: paths.map((path) => this.invokePath(path)),
      calls,
      query,
      concurrency,
      deadlineMs: 120_000,
      directory: this.directory,
      signal: new AbortController().signal,
    });
  }

  /** `callsEach` sequential calls per route, `concurrency` routes at a time. */
  async callEachRoute(
    paths: readonly string[],
    callsEach: number,
    concurrency: number,
    query = '',
  ): Promise<CallRecord[]> {
    const records: CallRecord[] = [];
    await forEachBounded(paths, concurrency, async (path) => {
      const route = this.invokePath(path);
      for (let call = 0; call < callsEach; call++) {
        const execution = await execute(this.lb, route, query);
        records.push(toRecord(records.length, route, execution, this.directory));
      }
    });
    return records;
  }

  /** Every node's GET /stats, by node address. */
  async stats(): Promise<Map<string, NodeStats>> {
    const entries = await Promise.all(
      this.nodes.map(async (node) => [node, await this.node(node).stats()] as const),
    );
    return new Map(entries);
  }

  /** One counter of one route (`containers_started`, `hot`...) as each node counted it. */
  async routeCounter(
    path: string,
    counter: 'calls' | 'cold' | 'hot' | 'containers_started',
  ): Promise<Record<string, number>> {
    const key = `${this.app}${path}`;
    const stats = await this.stats();
    return Object.fromEntries(
      [...stats].map(([node, nodeStats]) => [node, nodeStats.routes[key]?.[counter] ?? 0]),
    );
  }

  async close(): Promise<void> {
    this.engine?.close();
    await this.lb.deleteApp(this.app).catch(() => {});
  }
}

/** Successful calls per node address (every node present, 0 included). */
export function callsPerNode(
  records: readonly CallRecord[],
  nodes: readonly string[],
): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(nodes.map((node) => [node, 0]));
  for (const record of records)
    if (record.ok && record.node !== null) counts[record.node] = (counts[record.node] ?? 0) + 1;
  return counts;
}

/** Distinct nodes that served each route. */
export function nodesPerRoute(records: readonly CallRecord[]): Map<string, Set<string>> {
  const byRoute = new Map<string, Set<string>>();
  for (const record of records) {
    if (!record.ok || record.node === null) continue;
    const nodes = byRoute.get(record.route) ?? new Set<string>();
    nodes.add(record.node);
    byRoute.set(record.route, nodes);
  }
  return byRoute;
}

export const sumOf = (counts: Record<string, number>) =>
  Object.values(counts).reduce((total, value) => total + value, 0);
