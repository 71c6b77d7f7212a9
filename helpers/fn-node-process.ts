// Runs a real fn-node (the compiled dist/ build) as a child process on a free 127.0.0.1 port, for
// tests, benches and the demo. It gets the settings it is given, not the test's environment
// (child-env.ts). A node with a scratch directory of its own, or several sharing one: scratch-node.ts.
import { distPath } from '../src/common/package-root.js';
import { LocalServer } from './local-server.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

export const FN_NODE_ENTRY = distPath('src/node/main.js');

export interface FnNodeOptions {
  /** DB_URL for the node; undefined means its SQLite default in `cwd`. */
  dbUrl?: string;
  port?: number;
  nodeId?: string;
  /** The node's settings (FN_*, LOG_LEVEL): with the few variables it inherits, all it reads. */
  env?: Record<string, string>;
  cwd?: string;
  readyTimeoutMs?: number;
  /** The node's entry: a copy of the build elsewhere (default this checkout's dist/). */
  entry?: string;
}

export class FnNodeProcess extends LocalServer {
  protected constructor(
    managed: ManagedProcess,
    port: number,
    readonly nodeId: string,
  ) {
    super(managed, port);
  }

  static async start(options: FnNodeOptions = {}): Promise<FnNodeProcess> {
    const port = options.port ?? (await freePort());
    const nodeId = options.nodeId ?? `node-${port}`;
    const env: Record<string, string> = {
      LOG_LEVEL: 'warn',
      ...options.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      FN_NODE_ID: nodeId,
    };
    if (options.dbUrl !== undefined) env.DB_URL = options.dbUrl;
    const managed = await ManagedProcess.spawn({
      label: `fn-node on port ${port}`,
      entry: options.entry ?? FN_NODE_ENTRY,
      env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      readyUrl: `http://127.0.0.1:${port}/version`,
      ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
    return new FnNodeProcess(managed, port, nodeId);
  }
}
