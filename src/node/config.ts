// fn-node configuration: command-line flags first, then environment variables, then defaults.
// A bad value is reported naming the flag or variable, so the CLI can exit 2 with a clear message.
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCpus } from './cpus.js';

export type DriverChoice = 'auto' | 'docker' | 'process';

export interface NodeConfig {
  host: string;
  port: number;
  /** DB_URL; undefined means the embedded SQLite default. */
  dbUrl: string | undefined;
  /** Stable identity of this node: Fn-Node header, HOSTNAME of its functions, /stats. */
  nodeId: string;
  /** True when neither --node-id nor FN_NODE_ID gave it: main.ts keeps it stable (node-id.ts). */
  nodeIdDefaulted: boolean;
  driver: DriverChoice;
  /** FN_MEMORY_MB: memory the runner may reserve for containers; undefined means detect. */
  memoryMb: number | undefined;
  /** FN_PROCESS_IMAGES: JSON registry of image -> command for the process driver. */
  processImages: string | undefined;
  /** FN_HOT_START_TIMEOUT_MSECS: how long a container start may take to be ready, in ms. */
  hotStartTimeoutMs: number;
  /** FN_IOFS_PATH: where the docker driver makes http-stream socket directories; undefined: its default. */
  iofsPath: string | undefined;
  /** FN_IOFS_DOCKER_PATH: the same directory as the Docker engine sees it; undefined: iofsPath. */
  iofsDockerPath: string | undefined;
  /** FN_MAX_STARTS: concurrent container starts per node. */
  maxStarts: number;
  /** FN_MAX_REQUEST_SIZE: largest accepted request body, in bytes. */
  maxRequestBytes: number;
  /** FN_MAX_RESPONSE_SIZE: largest response body a function may answer with, in bytes. */
  maxResponseBytes: number;
  /** FN_MAX_QUEUE: calls that may wait for one route's containers. */
  maxQueue: number;
  /** FN_REQUEST_TIMEOUT: how long a client may take to send its whole request, in ms. */
  requestTimeoutMs: number;
  /** FN_MAX_CONNS: client connections open at once. */
  maxConnections: number;
  /** FN_DEFAULT_CPUS: the CPU quota of a route that names none; undefined for none. */
  defaultCpus: number | undefined;
  /** FN_SHUTDOWN_TIMEOUT: how long a SIGTERM drain may wait for calls in flight, in ms. */
  shutdownTimeoutMs: number;
  logLevel: string;
  /**
   * FN_TEST_OPAQUE=1, for the guard's own tests: no /stats and no Fn-Node header, like a node build
   * that counts nothing itself (the Fn server), so the guard's engine-side counting can be tested.
   */
  opaque: boolean;
  /** FN_TEST_LAUNCH=naive, for the guard's own tests: no launch policy, a container per waiting call (up to maxStarts). */
  launch: 'adaptive' | 'naive';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const USAGE = `Usage: fn-node [--host ADDR] [--port N] [--db-url URL] [--node-id ID] [--driver auto|docker|process]

Flags override environment variables:
  --host         HOST                 listen address (default 0.0.0.0)
  --port         PORT                 listen port (default 8080)
  --db-url       DB_URL               postgres://user:pass@host:5432/db or sqlite:///path/fn.db
                                      (default sqlite at ./data/fn.db)
  --node-id      FN_NODE_ID           node identity (default <hostname>:<port>, kept in ./data/node-id.<port>)
  --driver       FN_DRIVER            auto (default), docker or process
                 FN_MEMORY_MB         memory for containers (default: cgroup limit or MemAvailable)
                 FN_PROCESS_IMAGES    JSON file mapping images to commands (process driver)
                 FN_DOCKER_NETWORK    network the function containers join (docker driver)
                 FN_IOFS_PATH         folder of http-stream containers' socket directories (docker
                                      driver; default <tmpdir>/fn-node-iofs-<hash of node id>)
                 FN_IOFS_DOCKER_PATH  FN_IOFS_PATH as the Docker engine sees it (default FN_IOFS_PATH)
                 FN_HOT_START_TIMEOUT_MSECS
                                      ms a container start may take to be ready: an http-stream
                                      function's lsnr.sock link, or another format's ready signal
                                      (default 30000)
                 DOCKER_HOST          unix:///path/docker.sock (default /var/run/docker.sock)
                 FN_MAX_STARTS        concurrent container starts (default 4)
                 FN_MAX_REQUEST_SIZE  largest request body in bytes (default 6291456)
                 FN_MAX_RESPONSE_SIZE largest function response body in bytes (default 6291456)
                 FN_MAX_QUEUE         calls that may wait for one route (default 1000)
                 FN_REQUEST_TIMEOUT   seconds a client may take to send a request (default 60)
                 FN_MAX_CONNS         client connections open at once (default 10000)
                 FN_DEFAULT_CPUS      CPU quota of a route without cpus (default 1; empty: none)
                 FN_PROCESS_USER      whom a root node runs process-driver functions as (default nobody)
                 FN_SHUTDOWN_TIMEOUT  seconds a SIGTERM drain waits for calls in flight (default 30)
                 LOG_LEVEL            pino level (default info)
                 FN_TEST_OPAQUE       1: no /stats and no Fn-Node header (the guard's own tests)
                 FN_TEST_LAUNCH       naive: no launch policy, the herd (the guard's own tests)
Fn's own names are read too: FN_DB_URL for DB_URL, FN_PORT for PORT, FN_LOG_LEVEL for LOG_LEVEL.`;

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text.trim()))
    throw new ConfigError(`${name}: expected a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(`${name}: ${value} is outside ${min}..${max}`);
  return value;
}

function absolutePath(name: string, text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!isAbsolute(text))
    throw new ConfigError(`${name}: expected an absolute path, got ${JSON.stringify(text)}`);
  return text;
}

function flagOf(name: string, text: string | undefined): boolean {
  if (text === undefined || text === '' || text === '0') return false;
  if (text === '1') return true;
  throw new ConfigError(`${name}: expected 0 or 1, got ${JSON.stringify(text)}`);
}

function cpusOf(text: string): number | undefined {
  const parsed = parseCpus(text);
  if (typeof parsed === 'object')
    throw new ConfigError(`FN_DEFAULT_CPUS: ${parsed.problem}, or empty for no quota`);
  return parsed;
}

function launchOf(text: string | undefined): 'adaptive' | 'naive' {
  if (text === undefined || text === '' || text === 'adaptive') return 'adaptive';
  if (text === 'naive') return 'naive';
  throw new ConfigError(`FN_TEST_LAUNCH: expected adaptive or naive, got ${JSON.stringify(text)}`);
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig | 'help' {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) return 'help';
  const portName = flags.port !== undefined ? '--port' : env.PORT ? 'PORT' : 'FN_PORT';
  const port = integer(portName, flags.port ?? (env.PORT || env.FN_PORT), 8080, 1, 65535);
  const driver = (flags.driver ?? env.FN_DRIVER ?? 'auto') as DriverChoice;
  if (!['auto', 'docker', 'process'].includes(driver)) {
    throw new ConfigError(
      `${flags.driver !== undefined ? '--driver' : 'FN_DRIVER'}: expected auto, docker or process, got ${JSON.stringify(driver)}`,
    );
  }
  const memory = env.FN_MEMORY_MB;
  return {
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    port,
    dbUrl: flags['db-url'] ?? (env.DB_URL || env.FN_DB_URL || undefined),
    nodeId: flags['node-id'] ?? (env.FN_NODE_ID || `${hostname()}:${port}`),
    nodeIdDefaulted: flags['node-id'] === undefined && !env.FN_NODE_ID,
    driver,
    memoryMb: memory ? integer('FN_MEMORY_MB', memory, 0, 1, 16 * 1024 * 1024) : undefined,
    processImages: env.FN_PROCESS_IMAGES || undefined,
    hotStartTimeoutMs: integer(
      'FN_HOT_START_TIMEOUT_MSECS',
      env.FN_HOT_START_TIMEOUT_MSECS,
      30_000,
      100,
      600_000,
    ),
    iofsPath: absolutePath('FN_IOFS_PATH', env.FN_IOFS_PATH),
    iofsDockerPath: absolutePath('FN_IOFS_DOCKER_PATH', env.FN_IOFS_DOCKER_PATH),
    maxStarts: integer('FN_MAX_STARTS', env.FN_MAX_STARTS, 4, 1, 1024),
    maxRequestBytes: integer(
      'FN_MAX_REQUEST_SIZE',
      env.FN_MAX_REQUEST_SIZE,
      6 * 1024 * 1024,
      1024,
      1024 ** 3,
    ),
    maxResponseBytes: integer(
      'FN_MAX_RESPONSE_SIZE',
      env.FN_MAX_RESPONSE_SIZE,
      6 * 1024 * 1024,
      1024,
      1024 ** 3,
    ),
    maxQueue: integer('FN_MAX_QUEUE', env.FN_MAX_QUEUE, 1000, 1, 1_000_000),
    requestTimeoutMs: integer('FN_REQUEST_TIMEOUT', env.FN_REQUEST_TIMEOUT, 60, 1, 3600) * 1000,
    maxConnections: integer('FN_MAX_CONNS', env.FN_MAX_CONNS, 10_000, 1, 1_000_000),
    defaultCpus: cpusOf(env.FN_DEFAULT_CPUS ?? '1'),
    shutdownTimeoutMs: integer('FN_SHUTDOWN_TIMEOUT', env.FN_SHUTDOWN_TIMEOUT, 30, 0, 3600) * 1000,
    logLevel: env.LOG_LEVEL || env.FN_LOG_LEVEL || 'info',
    opaque: flagOf('FN_TEST_OPAQUE', env.FN_TEST_OPAQUE),
    launch: launchOf(env.FN_TEST_LAUNCH),
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'db-url': { type: 'string' },
      'node-id': { type: 'string' },
      driver: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}
