// The lifecycle every driver's instance shares: one exit report, the reason the driver ended it, an
// idempotent stop that a forced stop may escalate, and the readiness wait of a start. A driver fills
// in how its kind of instance is ended (`terminate`, `kill`) and whether an exit was the kernel's
// memory kill (`diedOfMemory`); the states and their order live only here.
import type { Readable, Writable } from 'node:stream';
import { type ExitInfo, type Instance, StartError } from './driver.js';

/** How an instance ended, as its driver saw it. */
export type Ending = Pick<ExitInfo, 'code' | 'signal'>;

export abstract class DriverInstance implements Instance {
  abstract readonly pid: number | undefined;
  abstract readonly stdin: Writable;
  abstract readonly stdout: Readable;
  abstract readonly stderr: Readable;
  /** Set by the driver once a `listener` instance linked its socket. */
  listener: string | undefined;
  readonly exited: Promise<ExitInfo>;
  private reason: ExitInfo['reason'];
  private done = false;
  private terminating: Promise<void> | undefined;
  private killing: Promise<void> | undefined;

  /** `ended` settles once the instance ended and all it wrote was handed to stdout and stderr. */
  protected constructor(
    readonly id: string,
    ended: Promise<Ending>,
  ) {
    this.exited = ended.then(async (ending) => {
      this.done = true;
      if (this.reason === undefined && (await this.diedOfMemory(ending))) this.reason = 'memory';
      return { ...ending, ...(this.reason ? { reason: this.reason } : {}) };
    });
  }

  /** Whether an exit the driver did not ask for was a kill for memory. */
  protected abstract diedOfMemory(ending: Ending): boolean | Promise<boolean>;
  /** Ends it at once. */
  protected abstract kill(): Promise<void> | void;
  /** Closes stdin and asks it to end, killing it once the grace period is over. */
  protected abstract terminate(): Promise<void>;

  /** The driver's own memory watch found it over its limit. */
  killForMemory(): void {
    this.reason ??= 'memory';
    void this.kill();
  }

  stop(options: { force?: boolean } = {}): Promise<ExitInfo> {
    if (this.done) return this.exited;
    this.reason ??= 'stopped';
    return this.ending(options.force === true).then(
      () => this.exited,
      () => this.exited,
    );
  }

  /** Each way of ending is asked for once; a forced stop does not wait for a graceful one under way. */
  private ending(force: boolean): Promise<void> {
    if (force) {
      this.killing ??= Promise.resolve(this.kill());
      return this.killing;
    }
    this.terminating ??= this.terminate();
    return this.terminating;
  }
}

/**
 * Resolves as `ready` does; rejects with a StartError when the instance ends first or `timeoutMs`
 * passes (saying that it did not `sign` in time). The caller ends what it started.
 */
export async function awaitReadiness<T>(
  ready: Promise<T>,
  instance: Instance,
  image: string,
  timeoutMs: number,
  sign = 'signal readiness',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const endedFirst = instance.exited.then((exit): never => {
    throw new StartError(`${image} exited while starting (code ${exit.code}, signal ${exit.signal})`);
  });
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StartError(`${image} did not ${sign} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([ready, endedFirst, late]);
  } finally {
    clearTimeout(timer);
    endedFirst.catch(() => {});
  }
}
