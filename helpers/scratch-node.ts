// Scratch fn-nodes: a temporary directory that owns the nodes started in it (their working directory
// and, unless they are given a database URL, the SQLite file they share), and a node with a directory
// of its own. A directory outlives its nodes: closing it stops those still running, then removes it.
// Closing is idempotent and `await using` does it, so neither a failed start nor a failed test leaves
// a directory or a process behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FnNodeProcess } from './fn-node-process.js';

export interface ScratchNodeOptions {
  /** FN_DRIVER; default process: no Docker needed, where `auto` would pick an engine the machine has. */
  driver?: 'process' | 'docker' | 'auto';
  /** DB_URL; default the directory's fn.db, one SQLite file for every node started there. */
  dbUrl?: string;
  /**
   * The node's further settings (FN_*, LOG_LEVEL); nothing of the test's environment reaches it.
   * FN_DRIVER and DB_URL here give way to `driver` and `dbUrl`.
   */
  env?: Record<string, string>;
  /** A fixed address and identity, as a node started again has (ScratchDir.startAgain). */
  port?: number;
  nodeId?: string;
  readyTimeoutMs?: number;
}

export class ScratchDir implements AsyncDisposable {
  /** Every node started here, with what it was started with (for startAgain). */
  private readonly nodes = new Map<FnNodeProcess, ScratchNodeOptions>();
  private closing: Promise<void> | undefined;

  private constructor(readonly path: string) {}

  /** A new directory fnguard-<label>-XXXXXX in the OS's temporary directory. */
  static create(label = 'node'): ScratchDir {
    return new ScratchDir(mkdtempSync(join(tmpdir(), `fnguard-${label}-`)));
  }

  /** A SQLite database URL for `file` in the directory (created with its folders on first use). */
  sqliteUrl(file = 'fn.db'): string {
    return `sqlite://${join(this.path, file)}`;
  }

  /** A node whose working directory is this one, on `options.dbUrl` or the directory's fn.db. */
  async startNode(options: ScratchNodeOptions = {}): Promise<FnNodeProcess> {
    if (this.closing) throw new Error(`scratch directory ${this.path} is closed`);
    const { port, nodeId, readyTimeoutMs } = options;
    const node = await FnNodeProcess.start({
      dbUrl: options.dbUrl ?? this.sqliteUrl(),
      cwd: this.path,
      env: { ...options.env, FN_DRIVER: options.driver ?? 'process' },
      ...(port === undefined ? {} : { port }),
      ...(nodeId === undefined ? {} : { nodeId }),
      ...(readyTimeoutMs === undefined ? {} : { readyTimeoutMs }),
    });
    this.nodes.set(node, options);
    // Closed while it started: the close did not see it, so it goes now.
    if (this.closing) {
      await node.stop();
      throw new Error(`scratch directory ${this.path} closed while ${node.address} started`);
    }
    return node;
  }

  /** `count` nodes started at once with the same settings; when one fails, once every start has ended. */
  async startNodes(count: number, options: ScratchNodeOptions = {}): Promise<FnNodeProcess[]> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => this.startNode(options)));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    return started.map((result) => (result as PromiseFulfilledResult<FnNodeProcess>).value);
  }

  /** A new process for a stopped node of this directory: its port, node id and settings again. */
  async startAgain(node: FnNodeProcess): Promise<FnNodeProcess> {
    const options = this.nodes.get(node);
    if (options === undefined) throw new Error(`${node.address} was not started in ${this.path}`);
    if (node.running) throw new Error(`${node.address} is running`);
    const again = await this.startNode({ ...options, port: node.port, nodeId: node.nodeId });
    this.nodes.delete(node);
    return again;
  }

  /** Stops the nodes still running (SIGTERM, each drains), then removes the directory. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.nodes.keys()].map((node) => node.stop()));
      rmSync(this.path, { recursive: true, force: true });
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A node with a scratch directory of its own: stop(), close() and `await using` remove it too. */
export class ScratchNode extends FnNodeProcess {
  private constructor(
    node: FnNodeProcess,
    readonly dir: ScratchDir,
  ) {
    super(node.managed, node.port, node.nodeId);
  }

  /** In a new directory fnguard-<label>-XXXXXX; a start that fails removes it before it throws. */
  static override async start(options: ScratchNodeOptions & { label?: string } = {}): Promise<ScratchNode> {
    const dir = ScratchDir.create(options.label);
    try {
      return new ScratchNode(await dir.startNode(options), dir);
    } catch (error) {
      await dir.close();
      throw error;
    }
  }

  override async stop(graceMs?: number): Promise<number | null> {
    try {
      return await super.stop(graceMs);
    } finally {
      await this.dir.close();
    }
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
