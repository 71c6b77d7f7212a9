// Runs a real fnlb (the compiled dist/ build) as a child process on a free 127.0.0.1 port in front
// of the given nodes, for tests, benches and the demo.
import { distPath } from '../src/common/package-root.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

export const FNLB_ENTRY = distPath('src/lb/main.js');

export interface FnlbOptions {
  /** host:port of each node. */
  nodes: string[];
  port?: number;
  /** Further historic flags, for example ['-hc-interval', '0.2']. */
  args?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export class FnlbProcess {
  private constructor(
    readonly managed: ManagedProcess,
    readonly port: number,
  ) {}

  static async start(options: FnlbOptions): Promise<FnlbProcess> {
    const port = options.port ?? (await freePort());
    const managed = await ManagedProcess.spawn({
      label: `fnlb on port ${port}`,
      entry: FNLB_ENTRY,
      args: ['-listen', `127.0.0.1:${port}`, '-nodes', options.nodes.join(','), ...(options.args ?? [])],
      env: { ...(process.env as Record<string, string>), ...options.env },
      readyUrl: `http://127.0.0.1:${port}/health`,
      ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
    return new FnlbProcess(managed, port);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  get pid(): number {
    return this.managed.pid;
  }

  recentOutput(): string {
    return this.managed.recentOutput();
  }

  stop(graceMs?: number): Promise<number | null> {
    return this.managed.stop(graceMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
