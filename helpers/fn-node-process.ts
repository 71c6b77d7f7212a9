// Runs a real fn-node (the compiled dist/ build) as a child process on a free 127.0.0.1 port, for
// tests, benches and the demo. Readiness is a real GET /version; stop() sends SIGTERM and waits,
// then SIGKILLs by pid. The last lines of its output are kept to explain a failure.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'undici';
import { distPath } from '../src/common/package-root.js';
import { freePort } from './ports.js';

export const FN_NODE_ENTRY = distPath('src/node/main.js');

export interface FnNodeOptions {
  /** DB_URL for the node; undefined means its SQLite default in `cwd`. */
  dbUrl?: string;
  port?: number;
  nodeId?: string;
  env?: Record<string, string>;
  cwd?: string;
  readyTimeoutMs?: number;
}

const OUTPUT_LINES_KEPT = 200;

export class FnNodeProcess {
  private exited: Promise<number | null>;
  private output: string[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly nodeId: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.output.push(line);
      if (this.output.length > OUTPUT_LINES_KEPT)
        this.output.splice(0, this.output.length - OUTPUT_LINES_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** host:port as fnlb and the harness name nodes. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  recentOutput(): string {
    return this.output.join('\n');
  }

  static async start(options: FnNodeOptions = {}): Promise<FnNodeProcess> {
    const port = options.port ?? (await freePort());
    const nodeId = options.nodeId ?? `node-${port}`;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      LOG_LEVEL: 'warn',
      ...options.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      FN_NODE_ID: nodeId,
    };
    if (options.dbUrl !== undefined) env.DB_URL = options.dbUrl;
    const child = spawn(process.execPath, [FN_NODE_ENTRY], {
      cwd: options.cwd ?? process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node = new FnNodeProcess(child, port, nodeId);
    try {
      await node.waitReady(options.readyTimeoutMs ?? 20_000);
    } catch (error) {
      await node.kill();
      throw error;
    }
    return node;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(
          `fn-node exited before it was ready (code ${this.child.exitCode}):\n${this.recentOutput()}`,
        );
      }
      try {
        const response = await request(`${this.url}/version`, { headersTimeout: 1000, bodyTimeout: 1000 });
        await response.body.dump();
        if (response.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`fn-node on port ${this.port} not ready within ${timeoutMs} ms:\n${this.recentOutput()}`);
  }

  /** Graceful stop: SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Abrupt stop, as a crash would. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
