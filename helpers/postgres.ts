// A throwaway local PostgreSQL server for tests and demos: initdb into a fresh temporary directory, start
// `postgres` on a free 127.0.0.1 port (unix socket inside that directory), wait until it accepts
// connections, create one database. The server can be stopped and started again on the same port (to
// test database outages) and `close()` removes everything. As root, initdb and postgres refuse to run,
// so they run as the `postgres` user through runuser, on a directory that user owns.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export interface LocalPostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database>, trust authentication. */
  readonly url: string;
  readonly port: number;
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
}

/** The directory holding initdb and postgres, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const usable = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', timeout: 5000 }).trim();
    if (usable(dir)) return dir;
  } catch {
    // No pg_config on PATH (it comes with libpq-dev); Debian's versioned layout is searched below.
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => join(root, version, 'bin')).find(usable);
}

export function hasLocalPostgres(): boolean {
  return postgresBinDir() !== undefined;
}

export const POSTGRES_MISSING_MESSAGE =
  'no local PostgreSQL server binaries (initdb, postgres) were found: install them ' +
  '(apt-get install -y postgresql) or point FN_TEST_DB_URL at a Postgres you can create databases on';

/** A throwaway server: durability buys nothing and costs seconds; tests open many connections. */
const SERVER_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=200',
];

export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const binDir = postgresBinDir();
  if (!binDir) throw new Error(POSTGRES_MISSING_MESSAGE);
  const database = options.database ?? 'fnguard';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const asRoot = process.getuid?.() === 0;
  const command = (binary: string, args: string[]): [string, string[]] =>
    asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(binDir, binary), ...args]]
      : [join(binDir, binary), args];

  const dir = mkdtempSync(join(tmpdir(), 'fnguard-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let closed = false;

  const killOnExit = () => {
    // The test process is exiting without close(): an immediate shutdown at least leaves no server behind.
    const pid = server && serverPid(dataDir, server);
    if (pid) signal(pid, 'SIGQUIT');
  };

  const launch = async (port: number): Promise<void> => {
    const log = openSync(logFile, 'a');
    const where = ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir];
    const [file, args] = command('postgres', [...where, ...SERVER_SETTINGS.flatMap((s) => ['-c', s])]);
    const child = spawn(file, args, { stdio: ['ignore', log, log] });
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
    const deadline = Date.now() + readyTimeoutMs;
    try {
      for (;;) {
        if (exitCode !== undefined || child.exitCode !== null) {
          throw new Error(`postgres exited during startup (code ${exitCode}):\n${tail(logFile)}`);
        }
        if (await accepts(port)) return;
        if (Date.now() > deadline) {
          throw new Error(`postgres not ready within ${readyTimeoutMs} ms:\n${tail(logFile)}`);
        }
        await sleep(50);
      }
    } catch (err) {
      await stopServer();
      throw err;
    }
  };

  const stopServer = async (): Promise<void> => {
    const child = server;
    if (!child) return;
    server = undefined;
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const pid = serverPid(dataDir, child);
      if (pid) signal(pid, 'SIGINT');
      if (!(await within(exited, 15_000)) && pid) {
        signal(pid, 'SIGQUIT');
        if (!(await within(exited, 5_000))) child.kill('SIGKILL');
      }
    }
    await exited;
  };

  try {
    mkdirSync(socketDir);
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
      chownSync(socketDir, uid, gid);
    }
    const initdb = ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
    const [file, args] = command('initdb', initdb);
    await run(file, args, 60_000);

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
    await adminQuery(port, `CREATE DATABASE "${database}"`);

    const close = async () => {
      if (closed) return;
      closed = true;
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    };
    return {
      url: `postgres://postgres@127.0.0.1:${port}/${database}`,
      port,
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

async function adminQuery(port: number, sql: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 5000,
    query_timeout: 30_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function run(file: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/**
 * The postmaster to signal: as root our child is runuser, which need not forward signals, so the pid comes
 * from postmaster.pid, trusted only when it is our child or its direct child (the file can be stale).
 */
function serverPid(dataDir: string, child: ChildProcess): number | undefined {
  try {
    const pid = Number.parseInt(
      readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '',
      10,
    );
    if (pid === child.pid) return pid;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return parent === child.pid ? pid : child.pid;
  } catch {
    return child.pid;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timedOut]);
  clearTimeout(timer);
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
