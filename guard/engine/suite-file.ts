// What each guard file needs from the run's shared topology: its own app (unique per run and file,
// removed afterwards, in the Fn API the run speaks: guard/topology/fn-api.ts), clients for the balancer and the nodes, which node answered (node ids learned
// by calling each node directly once, as the historic harness did, and remembered for the run by the
// topology's control server, so a later file asks only nodes no earlier one could name; never the
// balancer's word, since the balancer is under test), ways to drive calls, and what the nodes did for
// the routes the file created: their own counters (GET /stats) and, where their functions run on an
// engine the suite can see, the containers that engine ran (the topology's recording proxy of the
// engine, guard/measure/engine-record.ts, else the engine's events, guard/measure/engine-watch.ts; every
// route carries the FNG_ROUTE variable in its config so its containers can be told apart).

import { tryWaitUntil } from '../../helpers/wait.js';
import { forEachBounded } from '../../src/common/bounded.js';
import { FnClient } from '../../src/common/fn-client.js';
import { functionImage, type GuardFunction } from '../../src/common/function-images.js';
import { FN_HEADERS, type NodeStats } from '../../src/common/wire.js';
import { NodeDirectory } from '../../src/harness/attribution.js';
import { type DiscoveredNode, discoverNodes } from '../../src/harness/discovery.js';
import { type CallRecord, type DriveResult, drive, toRecord } from '../../src/harness/drive.js';
import { execute } from '../../src/harness/execute.js';
import { EngineRecord } from '../measure/engine-record.js';
import { type ContainersSeen, EngineWatch } from '../measure/engine-watch.js';
import type { KnownIds } from '../topology/control.js';
import { type FnApi, fnApi, type RouteSpec } from '../topology/fn-api.js';
import { ROUTE_MARKER } from '../topology/route-marker.js';
import type { TopologyInfo } from '../topology/types.js';

/**
 * How long a file waits for the nodes it must ask to answer with their ids: a node still busy with
 * an earlier file's burst (hundreds of containers on an Fn server) may take tens of seconds.
 */
export const DISCOVERY_DEADLINE_MS = 60_000;
/** A node the test just added and saw online: it answers at once, inside the test's own timeout. */
const ADDED_NODE_DEADLINE_MS = 15_000;
const CALL_TIMEOUT_MS = 30_000;

export type { RouteSpec } from '../topology/fn-api.js';

/** The run's memory of node ids (the topology's control server), when the run has one. */
export interface NodeIdMemory {
  knownIds(): Promise<KnownIds>;
  rememberIds(ids: KnownIds): Promise<void>;
}

export class SuiteFile {
  readonly lb: FnClient;
  /** Apps and routes (v1) or fns and triggers (v2), created where the topology serves its API. */
  readonly api: FnApi;
  /** Where the API answers: the balancer, or an API node of the topology's own (Fn's cluster). */
  readonly apiClient: FnClient;
  private readonly nodeClients: Map<string, FnClient>;

  /** The image of a shipped function (primes, sleep, echo) as the nodes know it. */
  image(name: GuardFunction): string {
    return functionImage(name, this.info.functionImages);
  }

  /** Node addresses as the balancer names them: the topology's, plus any this file added. */
  readonly nodes: string[];

  private constructor(
    readonly info: TopologyInfo,
    readonly app: string,
    readonly directory: NodeDirectory,
    /** The containers the nodes' engine creates from the file's opening, when it can be watched. */
    readonly engine: ContainersSeen | undefined,
  ) {
    this.nodes = directory.addresses;
    this.lb = new FnClient(info.lbUrl, { timeoutMs: CALL_TIMEOUT_MS });
    this.apiClient =
      info.apiUrl === undefined ? this.lb : new FnClient(info.apiUrl, { timeoutMs: CALL_TIMEOUT_MS });
    this.api = fnApi(info.api, this.apiClient);
    this.nodeClients = new Map(
      info.nodes.map((node, index) => [
        node,
        new FnClient(info.nodeUrls[index] as string, { timeoutMs: 10_000 }),
      ]),
    );
  }

  /**
   * Creates the file's app and its discovery route, and learns the id of every node the run's memory
   * cannot name. A node that answers its discovery call without naming itself, or cannot be reached,
   * or fails the call until the deadline, leaves the file open, named with what it answered in
   * `unidentified` (the properties judged by node skip with it; the others run); only a topology of
   * which no node could be asked is the file's setup failure.
   */
  static async open(
    info: TopologyInfo,
    name: string,
    memory?: NodeIdMemory,
    discoveryDeadlineMs = DISCOVERY_DEADLINE_MS,
  ): Promise<SuiteFile> {
    const app = `${info.appPrefix}-${name}`;
    const engine = await watchEngine(info.engine);
    const file = new SuiteFile(
      info,
      app,
      new NodeDirectory([...info.nodes], { trustBalancer: false }),
      engine,
    );
    try {
      await file.api.createApp(app);
      await file.createRoute({ path: '/discover', image: file.image('sleep'), format: 'http' });
      const known: KnownIds = memory ? await memory.knownIds() : {};
      info.nodeIds?.forEach((id, index) => {
        const node = info.nodes[index];
        if (node !== undefined) known[node] = [...(known[node] ?? []), id];
      });
      for (const node of file.nodes) for (const id of known[node] ?? []) file.directory.register(id, node);
      const unknown = file.nodes.filter((node) => file.directory.idsOf(node).length === 0);
      if (unknown.length === 0) return file;
      const missing = await file.discover(unknown, discoveryDeadlineMs);
      // No node named at all: the topology does not serve, and every property would say so alone.
      if (missing.length === file.nodes.length && missing.every((node) => !node.anonymous))
        throw new Error(`could not learn the id of ${describeMissing(missing)}`);
      if (missing.length > 0) {
        file.unidentified = `no id learned within ${discoveryDeadlineMs / 1000} s for ${describeMissing(missing)}, so calls cannot all be told apart by node`;
      }
      // Nodes that share a name are asked again by every file, which finds them out again.
      if (file.unattributable === undefined) {
        const learned = unknown.filter((node) => !missing.some((gap) => gap.node === node));
        await memory?.rememberIds(
          Object.fromEntries(learned.map((node) => [node, file.directory.idsOf(node)])),
        );
      }
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
    const attributable = this.unattributable === undefined;
    const missing = await this.discover([address], ADDED_NODE_DEADLINE_MS);
    if (missing.length > 0) throw new Error(`could not learn the id of ${describeMissing(missing)}`);
    // Judging on would put its calls on another node's account.
    if (attributable && this.unattributable !== undefined) throw new Error(this.unattributable);
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

  /** Why calls cannot all be told apart by node because some node answers without a name. */
  unidentified: string | undefined;

  /**
   * Routes reach every node within about a second: asks `nodes` until each answered with its id, or
   * the deadline passed, or every node still unnamed answered without a name (asking again changes
   * nothing); answers the nodes still unnamed (none when nodes share one name: see `unattributable`).
   */
  private async discover(nodes: readonly string[], deadlineMs: number): Promise<DiscoveredNode[]> {
    let missing: DiscoveredNode[] = [];
    const learned = async () => {
      const pending = missing.length === 0 ? nodes : missing.map((gap) => gap.node);
      const found = await discoverNodes(
        this.directory,
        this.invokePath('/discover'),
        (node) => this.node(node),
        pending,
      );
      missing = found.filter((node) => node.id === undefined);
      const shared = missing.filter((node) => node.sharedWith !== undefined);
      if (missing.length > 0 && shared.length === missing.length) {
        this.unattributable = `nodes answer under one name, so calls cannot be told apart by node: ${shared
          .map((node) => `${node.node} as ${node.sharedWith?.id}, like ${node.sharedWith?.node}`)
          .join('; ')}`;
        missing = [];
        return true;
      }
      return missing.every((node) => node.anonymous);
    };
    await tryWaitUntil('every node to answer with its id', learned, deadlineMs, 100);
    return missing;
  }

  /** The node that served an answer, by its own word: its function's hostname, else its Fn-Node header. */
  nodeOfAnswer(answer: { headers: Record<string, unknown>; body?: string | undefined }): string | undefined {
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
    return this.api.invokePath(this.app, path);
  }

  async createRoute(route: RouteSpec): Promise<void> {
    const config = { ...route.config, [ROUTE_MARKER]: `${this.app}${route.path}` };
    await this.api.createRoute(this.app, { ...route, config });
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
    const key = this.api.statsKey(this.app, path);
    const stats = await this.stats();
    return Object.fromEntries(
      [...stats].map(([node, nodeStats]) => [node, nodeStats.routes[key]?.[counter] ?? 0]),
    );
  }

  async close(): Promise<void> {
    this.engine?.close();
    await this.api.deleteApp(this.app).catch(() => {});
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

/** The proxy's log where the nodes reach the engine through it (nothing lost), else its events. */
async function watchEngine(engine: TopologyInfo['engine']): Promise<ContainersSeen | undefined> {
  if (engine === undefined) return undefined;
  if (engine.createLog !== undefined) return EngineRecord.open(engine.createLog);
  return EngineWatch.start(engine.socketPath);
}

function describeMissing(missing: readonly DiscoveredNode[]): string {
  return missing.map((node) => `${node.node} (${node.error})`).join(', ');
}
