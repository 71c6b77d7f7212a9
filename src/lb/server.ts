// The balancer as one long-lived object: listeners (proxy, and management on the same or its own
// port), the node set with health checks, and a drain on close(). start() and an idempotent close()
// make it usable in-process (tests, bench) as well as from the CLI.
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { canonicalPath } from '../common/request-target.js';
import { errorBody } from '../common/wire.js';
import { formatHostPort, type HostPort, isLoopbackHost, resolveNodeAddress } from './address.js';
import type { Backend, NodeSource, NodeState } from './backend.js';
import { Balancer } from './balancer.js';
import { DnsDiscovery, type DnsTarget } from './dns-discovery.js';
import type { LbOptions } from './flags.js';
import { FnKeys } from './fn-keys.js';
import { HealthChecker } from './health.js';
import { isManagementPath, type LbReports, localReports, manage } from './mgmt.js';
import { ManagementForwarder } from './mgmt-forward.js';
import { proxy } from './proxy.js';
import { ReplayBudget } from './replay-budget.js';
import { BODY_BUFFER_LIMIT } from './request-body.js';
import { LbStats } from './stats.js';

/**
 * Connect is local-network quick, so a node that does not accept in 2 s is treated as unreachable and
 * the call fails over. Waiting for headers and between body chunks is -upstream-timeout.
 */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 2000;
/** A client must send its request headers within this (or within -body-timeout, if shorter). */
export const CLIENT_HEADERS_TIMEOUT_MS = 10_000;
/** Each DNS query of -nodes-dns (tried twice): a resolver slower than this is treated as down. */
const DNS_TIMEOUT_MS = 2000;

/**
 * A request Node's HTTP parser refuses before any handler sees it (a malformed request line or
 * header, a head over the size limit, a client too slow with its head): answered in the same JSON error shape as the proxy's own 400s, then the connection
 * is closed. Node's default answer is an empty 400 or 431 that no client can tell apart from a node's.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.bytesWritten > 0)) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request header fields too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request timeout']
        : [400, `Bad request: ${error.message.replace(/[\r\n]/g, ' ').slice(0, 200)}`];
  const body = JSON.stringify(errorBody(message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export interface LbAddresses {
  listen: string;
  mgmt: string;
}

/**
 * How this process takes part in the balancer: all of it (one process, the default with -workers 1,
 * and in-process use), or one side of a -workers cluster (cluster-primary.ts, cluster-worker.ts).
 */
export type FnlbRole =
  | { kind: 'single' }
  /** The primary: the node set, health checks, -nodes-dns and the management API; no proxying. */
  | {
      kind: 'control';
      socketPath: string;
      reports: LbReports;
      /** Resolves once every serving worker proxies with the node set as it is now. */
      workersCaughtUp(): Promise<void>;
      /** Whether the first workers are still starting (none of them may listen yet). */
      workersStarting(): boolean;
    }
  /** A worker: proxies with the node set the primary sends; management calls go to the primary. */
  | { kind: 'proxy'; controlSocket: string };

export class Fnlb {
  readonly options: LbOptions;
  readonly balancer: Balancer;
  readonly health: HealthChecker;
  readonly stats: LbStats;
  /** Memory for request bodies kept for a retry. */
  readonly replay: ReplayBudget;
  /** The balancing key of each call: its path, or its fn for a v2 trigger call (per process). */
  readonly keys: FnKeys;
  readonly #log: Logger;
  readonly #token: string | undefined;
  readonly #servers: Server[] = [];
  #active = 0;
  #draining = false;
  #closing: Promise<void> | undefined;
  readonly #dns: DnsDiscovery | undefined;
  /** What each -nodes-dns name stood for at its last successful read. */
  readonly #dnsSets = new Map<string, Set<string>>();
  readonly #role: FnlbRole;
  readonly #reports: LbReports;
  readonly #forwarder: ManagementForwarder | undefined;

  constructor(options: LbOptions, log: Logger, token?: string, role: FnlbRole = { kind: 'single' }) {
    this.options = options;
    this.#log = log;
    this.#token = token === '' ? undefined : token;
    this.#role = role;
    this.balancer = new Balancer({
      c: options.c,
      floor: options.floor,
      vnodes: options.vnodes,
      maxNodes: options.maxNodes,
      timeouts: {
        connectMs: UPSTREAM_CONNECT_TIMEOUT_MS,
        headersMs: options.upstreamTimeoutMs,
        bodyMs: options.upstreamTimeoutMs,
      },
    });
    this.health = new HealthChecker(
      this.balancer,
      {
        intervalMs: options.hcIntervalMs,
        path: options.hcPath,
        timeoutMs: options.hcTimeoutMs,
        unhealthy: options.hcUnhealthy,
        healthy: options.hcHealthy,
        minApiVersion: options.minApiVersion,
      },
      log,
    );
    this.stats = new LbStats(this.balancer);
    this.replay = new ReplayBudget(BODY_BUFFER_LIMIT, options.replayBudgetBytes);
    // Each proxying process looks triggers up itself; a -workers primary proxies nothing.
    this.keys = new FnKeys(
      this.balancer,
      {
        enabled: options.v2Resolve && role.kind !== 'control',
        apiUrl: options.apiUrl,
        onResolved: (result) => this.stats.resolved(result),
      },
      log,
    );
    this.#reports = role.kind === 'control' ? role.reports : localReports(this.balancer, this.stats);
    this.#forwarder = role.kind === 'proxy' ? new ManagementForwarder(role.controlSocket) : undefined;
    // A worker's node set is the primary's (applyView), so it neither reads DNS nor takes -nodes itself.
    if (role.kind === 'proxy') {
      this.#dns = undefined;
      return;
    }
    this.#dns =
      options.nodesDns.length === 0
        ? undefined
        : new DnsDiscovery(
            options.nodesDns,
            { intervalMs: options.dnsIntervalMs, timeoutMs: DNS_TIMEOUT_MS, servers: options.dnsServers },
            (target, addresses) => this.#dnsUpdate(target, addresses),
            log,
          );
    for (const node of options.nodes) {
      const added = this.balancer.add(node);
      // Learn what the name reaches, so a later PUT of an alias of it is refused.
      if (added.kind === 'added') {
        void resolveNodeAddress(node).then((addresses) => {
          added.backend.addresses = addresses;
        });
      }
    }
  }

  get inFlight(): number {
    return this.#active;
  }

  /** Takes a node out now; its calls in flight finish, then its pool closes. */
  retire(address: string): boolean {
    const backend = this.balancer.remove(address);
    if (backend === undefined) return false;
    void backend.close();
    void this.stats.forgetNode(address);
    return true;
  }

  /**
   * A -nodes-dns name's records changed: a new one is added (traffic after its first passing health
   * check), one gone is drained and removed unless another name still lists it. Nodes the balancer
   * knows from -nodes or the API stay theirs.
   */
  #dnsUpdate(target: DnsTarget, addresses: string[]): void {
    const before = this.#dnsSets.get(target.name) ?? new Set<string>();
    const now = new Set(addresses);
    this.#dnsSets.set(target.name, now);
    for (const address of now) {
      if (before.has(address)) continue;
      const added = this.balancer.add(address, [address], 'dns');
      if (added.kind === 'added') {
        this.#log.info({ node: address, name: target.name }, 'node discovered');
        void this.health.check(added.backend);
      } else if (added.kind === 'alias' || added.kind === 'full') {
        this.#log.warn({ node: address, name: target.name, why: added.kind }, 'discovered node not added');
      }
    }
    for (const address of before) {
      if (now.has(address) || [...this.#dnsSets.values()].some((set) => set.has(address))) continue;
      if (this.balancer.get(address)?.source !== 'dns') continue;
      this.#log.info({ node: address, name: target.name }, 'node gone from DNS: draining it');
      this.retire(address);
    }
  }

  /**
   * A worker takes the primary's node set: nodes it lacks are added (with the primary's state), nodes
   * the primary no longer has are retired, and every state is the primary's.
   */
  applyView(nodes: readonly { address: string; state: NodeState; source: NodeSource }[]): void {
    const known = new Set<string>();
    for (const node of nodes) {
      known.add(node.address);
      const backend = this.balancer.get(node.address) ?? this.#addReplica(node.address, node.source);
      if (backend !== undefined) this.balancer.setState(backend, node.state);
    }
    for (const backend of [...this.balancer.backends()])
      if (!known.has(backend.address)) this.retire(backend.address);
  }

  #addReplica(address: string, source: NodeSource): Backend | undefined {
    const added = this.balancer.add(address, [], source);
    return added.kind === 'added' ? added.backend : undefined;
  }

  async start(): Promise<LbAddresses> {
    const shared = this.options.mgmtListen === undefined;
    const mgmtListen = this.options.mgmtListen ?? this.options.listen;
    const context = {
      balancer: this.balancer,
      health: this.health,
      stats: this.stats,
      reports: this.#reports,
      log: this.#log,
      token: this.#token,
      // Without a token, only a management API that nobody off this machine can reach may change nodes.
      membershipOpen: this.#token === undefined && isLoopbackHost(mgmtListen.host),
      replay: this.replay,
      keys: this.keys,
      draining: () => this.#draining,
      starting: this.#role.kind === 'control' ? this.#role.workersStarting : () => false,
      retire: (address: string) => this.retire(address),
      settled: this.#role.kind === 'control' ? this.#role.workersCaughtUp : async () => {},
    };
    const handler =
      (withManagement: boolean, withProxy: boolean) => (req: IncomingMessage, res: ServerResponse) => {
        this.#active++;
        res.once('close', () => this.#active--);
        // RFC 9112 3.2: an HTTP/1.1 request must name its host. Node would refuse it itself with an
        // empty 400 (requireHostHeader, turned off below); this one is in the balancer's JSON shape.
        if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
          const body = JSON.stringify(errorBody('Bad request: an HTTP/1.1 request needs a Host header'));
          res.writeHead(400, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            connection: 'close',
          });
          res.end(body);
          return;
        }
        const management =
          withManagement && (!withProxy || isManagementPath(canonicalPath(req.url ?? '') ?? ''));
        const work = !management
          ? proxy(req, res, context)
          : this.#forwarder !== undefined
            ? this.#forwarder.forward(req, res)
            : manage(req, res, context);
        work.catch((error: unknown) => {
          this.#log.error({ err: error, url: req.url }, 'request handler failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(errorBody('internal balancer error')));
        });
      };
    if (this.#role.kind === 'proxy') {
      // The management API on its own port is the primary's; on the shared port, calls are forwarded.
      const listen = await this.#listen(this.options.listen, handler(shared, true));
      return { listen, mgmt: shared ? listen : formatHostPort(mgmtListen.host ?? '', mgmtListen.port) };
    }
    let listen: string;
    let mgmt: string;
    if (this.#role.kind === 'control') {
      await this.#listen(this.#role.socketPath, handler(true, false));
      listen = formatHostPort(this.options.listen.host ?? '', this.options.listen.port);
      mgmt = shared ? listen : await this.#listen(mgmtListen, handler(true, false));
    } else {
      listen = await this.#listen(this.options.listen, handler(shared, true));
      mgmt = shared ? listen : await this.#listen(mgmtListen, handler(true, false));
    }
    this.health.start();
    void this.#dns?.start();
    if (this.#role.kind === 'single')
      this.#log.info({ listen, mgmt, nodes: this.options.nodes }, 'fnlb listening');
    return { listen, mgmt };
  }

  async #listen(
    where: HostPort | string,
    handle: (req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<string> {
    const { bodyTimeoutMs, maxConns } = this.options;
    const server = createServer(
      {
        keepAliveTimeout: 5000,
        requestTimeout: bodyTimeoutMs,
        headersTimeout: Math.min(CLIENT_HEADERS_TIMEOUT_MS, bodyTimeoutMs),
        connectionsCheckingInterval: Math.min(1000, bodyTimeoutMs),
        requireHostHeader: false,
      },
      handle,
    );
    server.maxConnections = maxConns;
    server.on('clientError', answerClientError);
    this.#servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (typeof where === 'string') server.listen(where, listening);
      else server.listen(where.port, where.host, listening);
    });
    const address = server.address();
    return typeof address === 'object' && address !== null
      ? formatHostPort((address as AddressInfo).address, (address as AddressInfo).port)
      : String(where);
  }

  /** /health answers 503 draining from now on (a -workers primary, while its workers drain). */
  markDraining(): void {
    this.#draining = true;
  }

  /** Drains: stop accepting, let requests in flight finish for up to shutdown-timeout, then cut. */
  close(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    this.health.close();
    this.#dns?.close();
    const closed = this.#servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    while (this.#active > 0 && Date.now() < deadline) {
      for (const server of this.#servers) server.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (this.#active > 0) this.#log.warn({ in_flight: this.#active }, 'shutdown timeout: cutting requests');
    for (const server of this.#servers) server.closeAllConnections();
    await Promise.all(closed);
    await this.keys.close();
    if (this.#active > 0) for (const backend of this.balancer.backends()) await backend.pool.destroy();
    await this.balancer.close();
    await this.#forwarder?.close();
    if (this.#role.kind === 'single') this.#log.info('fnlb stopped');
  }
}
