// fnlb's command line, compatible with the historic Go binary: flags take one or two dashes and
// either "-flag value" or "-flag=value"; an unknown flag or a bad value names the flag and the caller
// exits 2, as Go's flag package does.
import semver from 'semver';
import { type HostPort, parseListenAddress, parseNodeAddress } from './address.js';

export interface LbOptions {
  nodes: string[];
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
}

interface FlagSpec {
  value: string;
  help: string;
}

// Defaults as text, so usage shows exactly what the parser would read.
const FLAGS: Record<string, FlagSpec> = {
  nodes: { value: '', help: 'comma separated list of functions nodes, host:port' },
  listen: { value: ':8081', help: 'port to run the proxy on' },
  'mgmt-listen': { value: '', help: 'port to run the management API on (default: same as -listen)' },
  'hc-interval': { value: '1', help: 'how often to check node health, in seconds' },
  'hc-path': { value: '/version', help: 'path to check node health with' },
  'hc-timeout': { value: '5', help: 'timeout of a health check, in seconds' },
  'hc-unhealthy': { value: '2', help: 'consecutive failed checks before a node is taken out' },
  'hc-healthy': { value: '1', help: 'consecutive passed checks before a node gets traffic' },
  'min-api-version': { value: '0.0.235', help: 'minimum node version (semver) to accept a node' },
  'shutdown-timeout': {
    value: '30',
    help: 'on SIGTERM, how long to let in-flight requests finish, in seconds',
  },
  c: { value: '1.25', help: 'bounded-load factor: a node takes at most c times the mean in-flight load' },
  floor: { value: '8', help: 'lowest per-node bound, so light traffic stays on its home node' },
  // 2000 points per node keep each node's share of the ring within about 2% (1/sqrt(vnodes)) of the
  // mean; 160, nginx's figure, leaves some 5-node rings with a node 20% above the mean.
  vnodes: { value: '2000', help: 'virtual nodes per node on the hash ring' },
};

export function usage(): string {
  const lines = ['Usage: fnlb [flags]', ''];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const shown = spec.value === '' ? '' : ` (default ${JSON.stringify(spec.value)})`;
    lines.push(`  -${name} value`, `    \t${spec.help}${shown}`);
  }
  lines.push('  -help', '    \tprint this help', '');
  lines.push('Environment: FNLB_MGMT_TOKEN requires "Authorization: Bearer <token>" on the management API.');
  return `${lines.join('\n')}\n`;
}

export type ParseResult =
  | { kind: 'ok'; options: LbOptions }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

class FlagError extends Error {}

function seconds(name: string, text: string, allowZero: boolean): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new FlagError(
      `invalid value "${text}" for flag -${name}: want ${allowZero ? '>= 0' : '> 0'} seconds`,
    );
  }
  return Math.round(value * 1000);
}

function integer(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min) {
    throw new FlagError(`invalid value "${text}" for flag -${name}: want an integer >= ${min}`);
  }
  return value;
}

function listen(name: string, text: string): HostPort {
  const parsed = parseListenAddress(text);
  if (parsed === undefined)
    throw new FlagError(`invalid value "${text}" for flag -${name}: want [host]:port`);
  return parsed;
}

function build(values: Record<string, string>): LbOptions {
  const v = (name: string): string => values[name] ?? (FLAGS[name] as FlagSpec).value;
  const nodes: string[] = [];
  for (const part of v('nodes').split(',')) {
    if (part.trim() === '') continue;
    const node = parseNodeAddress(part);
    if (node === undefined) throw new FlagError(`invalid value "${part}" for flag -nodes: want host:port`);
    if (!nodes.includes(node)) nodes.push(node);
  }
  const hcPath = v('hc-path');
  if (!hcPath.startsWith('/')) throw new FlagError(`invalid value "${hcPath}" for flag -hc-path: want /path`);
  const minApiVersion = v('min-api-version');
  if (semver.valid(minApiVersion) === null) {
    throw new FlagError(`invalid value "${minApiVersion}" for flag -min-api-version: want a semver`);
  }
  const c = Number(v('c'));
  if (!Number.isFinite(c) || c < 1)
    throw new FlagError(`invalid value "${v('c')}" for flag -c: want a number >= 1`);
  const mgmtText = v('mgmt-listen');
  return {
    nodes,
    listen: listen('listen', v('listen')),
    mgmtListen: mgmtText === '' || mgmtText === v('listen') ? undefined : listen('mgmt-listen', mgmtText),
    hcIntervalMs: seconds('hc-interval', v('hc-interval'), false),
    hcPath,
    hcTimeoutMs: seconds('hc-timeout', v('hc-timeout'), false),
    hcUnhealthy: integer('hc-unhealthy', v('hc-unhealthy'), 1),
    hcHealthy: integer('hc-healthy', v('hc-healthy'), 1),
    minApiVersion,
    shutdownTimeoutMs: seconds('shutdown-timeout', v('shutdown-timeout'), true),
    c,
    floor: integer('floor', v('floor'), 1),
    vnodes: integer('vnodes', v('vnodes'), 1),
  };
}

export function parseFlags(argv: readonly string[]): ParseResult {
  const values: Record<string, string> = {};
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i] as string;
      const match = /^--?([^=-][^=]*)(?:=(.*))?$/s.exec(arg);
      if (match === null) throw new FlagError(`unexpected argument "${arg}": flags look like -name value`);
      const name = match[1] as string;
      if (name === 'help' || name === 'h') return { kind: 'help' };
      if (!(name in FLAGS)) throw new FlagError(`flag provided but not defined: -${name}`);
      let value = match[2];
      if (value === undefined) {
        value = argv[i + 1];
        if (value === undefined) throw new FlagError(`flag needs an argument: -${name}`);
        i++;
      }
      values[name] = value;
    }
    return { kind: 'ok', options: build(values) };
  } catch (error) {
    if (error instanceof FlagError) return { kind: 'error', message: error.message };
    throw error;
  }
}
