// A child process the suite started and owns: spawned from the compiled build, ready when an HTTP
// GET answers 200, stopped by pid (SIGTERM, then SIGKILL after a grace period). The last lines of
// its output are kept so a failure can say what the process said.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'undici';

const OUTPUT_LINES_KEPT = 200;

export interface SpawnOptions {
  /** What the process is, for messages: "fn-node on port 1234". */
  label: string;
  entry: string;
  args?: string[];
  env: Record<string, string>;
  cwd?: string;
  /** URL that answers 200 once the process serves. */
  readyUrl: string;
  readyTimeoutMs?: number;
}

export class ManagedProcess {
  private readonly exited: Promise<number | null>;
  private readonly output: string[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly label: string,
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

  static async spawn(options: SpawnOptions): Promise<ManagedProcess> {
    const child = spawn(process.execPath, [options.entry, ...(options.args ?? [])], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const managed = new ManagedProcess(child, options.label);
    try {
      await managed.waitReady(options.readyUrl, options.readyTimeoutMs ?? 20_000);
    } catch (error) {
      await managed.kill();
      throw error;
    }
    return managed;
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

  private async waitReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(
          `${this.label} exited before it was ready (code ${this.child.exitCode}):\n${this.recentOutput()}`,
        );
      }
      try {
        const response = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
        await response.body.dump();
        if (response.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.label} not ready within ${timeoutMs} ms:\n${this.recentOutput()}`);
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
}
