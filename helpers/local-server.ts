// A server process the suite started and owns on 127.0.0.1 (fn-node, fnlb): its address, and the
// lifecycle calls of its ManagedProcess, which reach the process by pid.
import type { ManagedProcess } from './managed-process.js';

export abstract class LocalServer {
  protected constructor(
    readonly managed: ManagedProcess,
    readonly port: number,
  ) {}

  /** host:port, as fnlb and the harness name nodes. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  get pid(): number {
    return this.managed.pid;
  }

  get running(): boolean {
    return this.managed.running;
  }

  recentOutput(): string {
    return this.managed.recentOutput();
  }

  /** Graceful stop: SIGTERM (the server drains), then SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null> {
    return this.managed.stop(graceMs);
  }

  /** Abrupt stop, as a crash would. */
  kill(): Promise<void> {
    return this.managed.kill();
  }

  /** SIGSTOP, and SIGCONT: a hung process and its recovery. */
  freeze(): void {
    this.managed.freeze();
  }

  thaw(): void {
    this.managed.thaw();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
