// fnlb's command line, compatible with the historic Go binary (single or double dashes, "-flag value"
// or "-flag=value", via the shared Go-style parser). An unknown flag or a bad value yields a message
// naming the flag; the CLI prints it and exits 2, as Go's flag package does.

import { isIP } from 'node:net';
import semver from 'semver';
import { usableCores } from '../common/cores.js';
import { FlagError, formatGoUsage, parseGoFlags } from '../common/go-flags.js';
import { type HostPort, parseListenAddress, parseNodeAddress } from './address.js';
import { type DnsTarget, parseDnsTarget } from './dns-discovery.js';

export interface LbOptions {
  nodes: string[];
  /** Names whose A/AAAA records are nodes (-nodes-dns), read again every dnsIntervalMs. */
  nodesDns: DnsTarget[];
  dnsIntervalMs: number;
  /** Resolvers for -nodes-dns (ip or ip:port); empty for the system's. */
  dnsServers: string[];
  listen: HostPort;
  /** Undefined when the management API shares the proxy listener (the default). */
  mgmtListen: HostPort | undefined;
  hcIntervalMs: number;
  hcPath: string;
  hcTimeoutMs: number;
  hcUnhealthy: number;
  hcHealthy: number;
  minApiVersion: string;
  shutdownTimeoutMs: number;
  /** Bounded-load factor: a node takes at most about c times the mean load. */
  c: number;
  /** Lowest bound, so light traffic never leaves a route's home node. */
  floor: number;
  vnodes: number;
  /** Longest a node may take to answer a forwarded call before the client gets 504. */
  upstreamTimeoutMs: number;
  /** Longest a client may take to send a whole request (headers and body). */
  bodyTimeoutMs: number;
  /** All request bodies kept in memory for a retry, together. */
  replayBudgetBytes: number;
  maxConns: number;
  maxNodes: number;
  /** Proxy processes sharing the listen socket; above 1, a primary process runs health and management. */
  workers: number;
  /** Key /t/<app>/<source> calls by their fn, looked up through the Fn API (fn-keys.ts). */
  v2Resolve: boolean;
  /** The Fn API to look triggers up with, without a trailing "/"; undefined: ask the nodes. */
  apiUrl: string | undefined;
}

// Seconds are floats (historic fnlb took integers; whole numbers parse the same, fractions let tests
// check faster).
const SPECS = {
  nodes: { kind: 'string', default: '', usage: 'comma separated list of functions nodes, host:port' },
  'nodes-dns': {
    kind: 'string',
    default: '',
    repeatable: true,
    usage:
      'name:port whose A/AAAA records are nodes (a Kubernetes headless Service, Swarm tasks.<service>); repeatable or comma separated',
  },
  'dns-interval': { kind: 'float', default: 5, min: 0.1, usage: 'seconds between reads of -nodes-dns names' },
  'dns-server': {
    kind: 'string',
    default: '',
    usage: 'resolver for -nodes-dns, ip or ip:port, comma separated (default: the system resolvers)',
  },
  listen: { kind: 'string', default: ':8081', usage: 'address to serve the proxy on' },
  'mgmt-listen': {
    kind: 'string',
    default: '',
    usage: 'address to serve the management API on (default: the -listen address, one server)',
  },
  'hc-interval': { kind: 'float', default: 1, min: 0.01, usage: 'seconds between health checks of a node' },
  'hc-path': { kind: 'string', default: '/version', usage: 'path to check node health with' },
  'hc-timeout': {
    kind: 'float',
    default: 5,
    min: 0.01,
    usage: 'seconds a health check may take (when not given: the interval, at most 5)',
  },
  'hc-unhealthy': {
    kind: 'int',
    default: 2,
    min: 1,
    usage: 'consecutive failed checks that take a node out',
  },
  'hc-healthy': { kind: 'int', default: 1, min: 1, usage: 'consecutive passed checks that put a node in' },
  'min-api-version': { kind: 'string', default: '0.0.235', usage: 'lowest node version (semver) accepted' },
  'shutdown-timeout': {
    kind: 'float',
    default: 30,
    min: 0,
    usage: 'seconds to let in-flight requests finish on SIGTERM',
  },
  c: {
    kind: 'float',
    default: 1.25,
    min: 1,
    usage: 'bounded-load factor: a node takes at most c times the mean load',
  },
  floor: {
    kind: 'int',
    default: 8,
    min: 1,
    usage: 'lowest per-node bound, so light traffic stays on its home node',
  },
  'upstream-timeout': {
    kind: 'float',
    default: 190,
    min: 0.01,
    usage:
      'seconds a node may take to answer a call (the longest legal call, 120 s, plus queueing); then 504, never a retry',
  },
  'body-timeout': {
    kind: 'float',
    default: 60,
    min: 0.01,
    usage: 'seconds a client may take to send a whole request; then 408 and the connection is closed',
  },
  'replay-budget': {
    kind: 'float',
    default: 64,
    min: 0,
    usage: 'MiB of request bodies kept in memory for retries, all requests together (each at most 1 MiB)',
  },
  'max-conns': { kind: 'int', default: 10_000, min: 1, usage: 'client connections served at once' },
  'max-nodes': {
    kind: 'int',
    default: 1000,
    min: 1,
    max: 100_000,
    usage: 'nodes the balancer accepts (each costs vnodes points on the ring)',
  },
  // 2000 points per node keep each node's share of the ring within about 2% (1/sqrt(vnodes)) of the
  // mean; with 160, nginx's figure, about 1 in 40 random 5-node rings has a node 20% off the mean.
  vnodes: {
    kind: 'int',
    default: 2000,
    min: 1,
    max: 100_000,
    usage: 'virtual nodes per node on the hash ring',
  },
  workers: {
    kind: 'int',
    default: usableCores(),
    min: 1,
    max: 256,
    usage:
      'proxy processes sharing the listen socket (default: the cores this process may use, its cgroup CPU quota included); above 1, a primary process owns health checks and the management API, and the workers share their calls in flight',
  },
  'v2-resolve': {
    kind: 'bool',
    default: true,
    usage:
      'key Fn v2 trigger calls (/t/<app>/<source>) by their fn, /invoke/<fn id>, looked up through the Fn API, so both ways of calling a fn reach one node; -v2-resolve=false keys them by path',
  },
  'api-url': {
    kind: 'string',
    default: '',
    usage: 'Fn API to look v2 triggers up with, http(s)://host:port[/base] (default: ask the nodes)',
  },
} as const;

/** -api-url: an http(s) URL without query or fragment, returned without its trailing "/". */
function apiUrl(text: string): string | undefined {
  if (text === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  )
    throw new FlagError(`invalid value "${text}" for flag -api-url: expected http(s)://host:port[/path]`);
  return url.href.replace(/\/+$/, '');
}

export function usage(): string {
  return `${formatGoUsage(
    'fnlb',
    SPECS,
  )}\nEnvironment: FNLB_MGMT_TOKEN requires "Authorization: Bearer <token>" on the management API. Without
it, nodes can be added or removed through the API only when it listens on a loopback address.\n`;
}

export type ParseResult =
  | { kind: 'ok'; options: LbOptions }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

function listen(name: string, text: string): HostPort {
  const parsed = parseListenAddress(text);
  if (parsed === undefined)
    throw new FlagError(`invalid value "${text}" for flag -${name}: expected [host]:port`);
  return parsed;
}

/** A resolver as Node's dns.setServers takes it: an IP, `ip:port` or `[ipv6]:port`. */
function isDnsServer(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  return match !== null && isIP(match[1] ?? match[2] ?? '') !== 0 && port > 0 && port <= 65535;
}

export function parseFlags(argv: readonly string[]): ParseResult {
  try {
    const parsed = parseGoFlags(argv, SPECS);
    if (parsed.help) return { kind: 'help' };
    const v = parsed.values;
    if (parsed.positionals.length > 0) {
      throw new FlagError(`unexpected argument "${parsed.positionals[0]}": fnlb takes flags only`);
    }
    const nodes: string[] = [];
    for (const part of v.nodes.split(',')) {
      if (part.trim() === '') continue;
      const node = parseNodeAddress(part);
      if (node === undefined)
        throw new FlagError(`invalid value "${part}" for flag -nodes: expected host:port`);
      if (!nodes.includes(node)) nodes.push(node);
    }
    const nodesDns: DnsTarget[] = [];
    for (const part of v['nodes-dns'].split(',')) {
      if (part.trim() === '') continue;
      const target = parseDnsTarget(part);
      if (target === undefined)
        throw new FlagError(
          `invalid value "${part}" for flag -nodes-dns: expected name:port (a DNS name, not an IP)`,
        );
      if (!nodesDns.some((known) => known.name === target.name)) nodesDns.push(target);
    }
    const dnsServers: string[] = [];
    for (const part of v['dns-server'].split(',')) {
      const server = part.trim();
      if (server === '') continue;
      if (!isDnsServer(server))
        throw new FlagError(`invalid value "${part}" for flag -dns-server: expected ip or ip:port`);
      dnsServers.push(server);
    }
    if (nodes.length > v['max-nodes']) {
      throw new FlagError(`flag -nodes lists ${nodes.length} nodes, more than -max-nodes ${v['max-nodes']}`);
    }
    if (!v['hc-path'].startsWith('/')) {
      throw new FlagError(
        `invalid value "${v['hc-path']}" for flag -hc-path: expected a path starting with /`,
      );
    }
    if (semver.valid(v['min-api-version']) === null) {
      throw new FlagError(
        `invalid value "${v['min-api-version']}" for flag -min-api-version: expected a semver`,
      );
    }
    const api = apiUrl(v['api-url']);
    if (api !== undefined && !v['v2-resolve'])
      throw new FlagError('flag -api-url is for v2 trigger lookups, which -v2-resolve=false turns off');
    const proxyListen = listen('listen', v.listen);
    const mgmt = v['mgmt-listen'];
    // The same address means one server, except port 0, where each listener gets its own free port.
    const shared = mgmt === '' || (mgmt === v.listen && proxyListen.port !== 0);
    return {
      kind: 'ok',
      options: {
        nodes,
        nodesDns,
        dnsIntervalMs: Math.round(v['dns-interval'] * 1000),
        dnsServers,
        listen: proxyListen,
        mgmtListen: shared ? undefined : listen('mgmt-listen', mgmt),
        hcIntervalMs: Math.round(v['hc-interval'] * 1000),
        hcPath: v['hc-path'],
        // A check that outlives the interval delays the next one: a node that hangs without closing
        // anything (frozen) would be taken out only after hc-unhealthy whole timeouts.
        hcTimeoutMs: Math.round(
          (parsed.given.has('hc-timeout') ? v['hc-timeout'] : Math.min(v['hc-timeout'], v['hc-interval'])) *
            1000,
        ),
        hcUnhealthy: v['hc-unhealthy'],
        hcHealthy: v['hc-healthy'],
        minApiVersion: v['min-api-version'],
        shutdownTimeoutMs: Math.round(v['shutdown-timeout'] * 1000),
        c: v.c,
        floor: v.floor,
        vnodes: v.vnodes,
        workers: v.workers,
        upstreamTimeoutMs: Math.round(v['upstream-timeout'] * 1000),
        bodyTimeoutMs: Math.round(v['body-timeout'] * 1000),
        replayBudgetBytes: Math.round(v['replay-budget'] * 1024 * 1024),
        maxConns: v['max-conns'],
        maxNodes: v['max-nodes'],
        v2Resolve: v['v2-resolve'],
        apiUrl: api,
      },
    };
  } catch (error) {
    if (error instanceof FlagError) return { kind: 'error', message: error.message };
    throw error;
  }
}
