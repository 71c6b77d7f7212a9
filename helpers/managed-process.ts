// A child process the suite started and owns: a compiled entry of this project (in the environment
// child-env.ts decides), or a shell command (a balancer under test, in the environment its caller
// gives whole), ready when an HTTP GET answers (200, or any status for programs that serve no health
// path), stopped by pid (SIGTERM, then SIGKILL after a grace period), and sent SIGTERM if the test
// process exits with it still running. A shell command runs in its own process group and signals go
// to that group, so the program the shell started stops with it. The last lines of its output are
// kept so a failure can say what the process said, and all of it goes to a file in FNG_LOGS when
// that is set (run-logs.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'undici';
import { childEnvironment } from './child-env.js';
import { openRunLog } from './run-logs.js';
import { waitUntil } from './wait.js';

const OUTPUT_LINES_KEPT = 200;

interface CommonSpawnOptions {
  /** What the process is, for messages: "fn-node on port 1234". */
  label: string;
  cwd?: string;
  /** URL that answers once the process serves. */
  readyUrl: string;
  /** Ready on a 200 (default), or on any HTTP answer. */
  readyOn?: 'ok' | 'any-answer';
  readyTimeoutMs?: number;
}

/** A compiled entry of this project, run with this Node in the environment child-env.ts decides. */
interface EntrySpawnOptions extends CommonSpawnOptions {
  entry: string;
  args?: string[];
  /** Flags for Node itself before the entry (some, such as --cpu-prof, NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** The program's settings, over the few variables it inherits (child-env.ts). */
  env?: Record<string, string>;
}

/** A command line for /bin/sh, such as a balancer under test given by its user. */
interface ShellSpawnOptions extends CommonSpawnOptions {
  shell: string;
  /** Its whole environment: what a user's command inherits is its caller's decision. */
  env: Record<string, string>;
}

export type SpawnOptions = EntrySpawnOptions | ShellSpawnOptions;

export class ManagedProcess {
  private readonly exited: Promise<number | null>;
  private readonly output: string[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly label: string,
    /** Signals go to the process group (a shell command and what it started). */
    private readonly group: boolean,
  ) {
    // The test process may exit without stopping it (Ctrl-C, a timeout's SIGTERM: Vitest exits at
    // once, skipping teardown): then a SIGTERM on the way out still lets it stop itself.
    const stopOnExit = () => this.signal('SIGTERM');
    process.once('exit', stopOnExit);
    const log = openRunLog(`${label}-pid${child.pid ?? 'none'}`);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        process.removeListener('exit', stopOnExit);
        resolve(code);
      }),
    );
    // 'close': the output is drained too.
    child.once('close', () => log.close());
    const keep = (chunk: Buffer) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.output.push(line);
      if (this.output.length > OUTPUT_LINES_KEPT)
        this.output.splice(0, this.output.length - OUTPUT_LINES_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async spawn(options: SpawnOptions): Promise<ManagedProcess> {
    const group = 'shell' in options;
    const [file, args, env] = group
      ? ['/bin/sh', ['-c', options.shell], options.env]
      : [
          process.execPath,
          [...(options.nodeArgs ?? []), options.entry, ...(options.args ?? [])],
          childEnvironment(options.env),
        ];
    const child = spawn(file, args, {
      cwd: options.cwd ?? process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
    });
    const managed = new ManagedProcess(child, options.label, group);
    try {
      await managed.waitReady(options.readyUrl, options.readyOn ?? 'ok', options.readyTimeoutMs ?? 20_000);
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

  private async waitReady(url: string, readyOn: 'ok' | 'any-answer', timeoutMs: number): Promise<void> {
    const answers = async () => {
      if (!this.running) {
        throw new Error(
          `${this.label} exited before it was ready (code ${this.child.exitCode}):\n${this.recentOutput()}`,
        );
      }
      try {
        const response = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
        await response.body.dump();
        return readyOn === 'any-answer' || response.statusCode === 200;
      } catch {
        return false; // not listening yet
      }
    };
    await waitUntil(`${this.label} ready`, answers, timeoutMs, 50).catch((error: Error) => {
      throw this.running ? new Error(`${error.message}:\n${this.recentOutput()}`) : error;
    });
  }

  /** Graceful stop: SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    // A frozen process would take the SIGTERM only once it runs again.
    this.signal('SIGCONT');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Abrupt stop, as a crash would. */
  async kill(): Promise<void> {
    if (this.running) this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process stops running, its sockets stay open and unanswered, as a hung process's. */
  freeze(): void {
    if (this.running) this.signal('SIGSTOP');
  }

  /** SIGCONT: a frozen process runs again. */
  thaw(): void {
    if (this.running) this.signal('SIGCONT');
  }

  private signal(name: NodeJS.Signals): void {
    if (!this.group || this.child.pid === undefined) {
      this.child.kill(name);
      return;
    }
    try {
      process.kill(-this.child.pid, name);
    } catch {
      // The group is gone already.
    }
  }
}
