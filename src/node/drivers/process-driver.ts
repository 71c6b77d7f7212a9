// The process driver: every function instance is its own OS child process (never code inside the
// node), started from an image name through the ImageRegistry. stdin/stdout carry the format;
// stderr is handed to the runner for its log. Instances get only the function environment (plus
// PATH), never the node's own variables such as DB_URL. Who they run as, their limits and their
// lifetime: see process-confinement.ts. An http-stream instance gets a socket directory of its own
// under one the node makes for its run (listener.ts); its stdin is a pipe the node holds and never
// writes, so the function, which ends when a held stdin ends, ends with its node.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { type Driver, type Instance, type InstanceSpec, StartError } from './driver.js';
import { inStage, stageShippedFunctions, sweepFunctionStages } from './function-stage.js';
import { awaitReadiness, DriverInstance, type Ending } from './instance.js';
import { awaitListener, listenerVariable, removeSocketDir } from './listener.js';
import { Confinement, type ConfinementOptions } from './process-confinement.js';
import type { ImageRegistry } from './process-registry.js';

export interface ProcessDriverOptions {
  registry: ImageRegistry;
  /** A start that has not signalled readiness (or linked its socket) by then fails (default 30 s). */
  readyTimeoutMs?: number;
  /** Where the node's folder of socket directories is made (default the OS's temporary directory). */
  socketRoot?: string;
  /** Between TERM and KILL on a graceful stop (default 2 s). */
  stopGraceMs?: number;
  /** Who instances run as and their limits (process-confinement.ts); nodeId names their groups. */
  confinement: ConfinementOptions;
}

/** The descriptor on which FDK programs write "ready": after stdin, stdout, stderr. */
const READY_FD = 3;

class ProcessInstance extends DriverInstance {
  constructor(
    id: string,
    private readonly child: ChildProcess,
    private readonly graceMs: number,
    /** Whether the kernel ended it for memory (its memory cgroup's OOM kill). */
    private readonly oomKilled: () => boolean,
    /** What goes with it once it ended (its socket directory), before its exit is reported. */
    cleanup: () => void,
  ) {
    // 'close' comes after 'exit' once stdout and stderr are drained: a default-format response is
    // complete by then.
    super(
      id,
      new Promise((resolve) =>
        child.once('close', (code, signal) => {
          cleanup();
          resolve({ code, signal });
        }),
      ),
    );
    // A write to a dead child's stdin fails with EPIPE; the exit is reported through `exited`.
    child.stdin?.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get stdin(): Writable {
    return this.child.stdin as Writable;
  }
  get stdout(): Readable {
    return this.child.stdout as Readable;
  }
  get stderr(): Readable {
    return this.child.stderr as Readable;
  }

  protected diedOfMemory(ending: Ending): boolean {
    return ending.signal === 'SIGKILL' && this.oomKilled();
  }

  protected kill(): void {
    this.signal('SIGKILL');
  }

  protected async terminate(): Promise<void> {
    this.child.stdin?.end();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), this.graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** To the instance's whole process group (it leads one), so what it started ends with it. */
  private signal(name: NodeJS.Signals): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, name);
    } catch {
      this.child.kill(name);
    }
  }
}

/** The node's folder of socket directories: `fn-node-iofs-<node key>-XXXXXX`, XXXXXX mkdtemp's. */
function socketRootPattern(nodeKey: string): RegExp {
  return new RegExp(`^fn-node-iofs-${nodeKey}-[A-Za-z0-9]{6}$`);
}

export class ProcessDriver implements Driver {
  readonly kind = 'process';
  private readonly live = new Set<ProcessInstance>();
  readonly confinement: Confinement;
  private readonly readyTimeoutMs: number;
  private readonly stopGraceMs: number;
  /** Short and safe in a file name whatever the node id, so socket paths stay short. */
  private readonly nodeKey: string;
  private readonly socketRoot: string;
  /** Made at the first http-stream start, removed by close(). */
  private socketDirs: string | undefined;
  private readonly registry: ImageRegistry;
  /** The copy of the shipped functions their user runs, when it cannot read the build's. */
  private functionStage: string | undefined;

  constructor(options: ProcessDriverOptions) {
    this.confinement = new Confinement(options.confinement);
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.stopGraceMs = options.stopGraceMs ?? 2000;
    this.nodeKey = createHash('sha256').update(options.confinement.nodeId).digest('hex').slice(0, 12);
    this.socketRoot = options.socketRoot ?? tmpdir();
    this.sweepSocketDirs();
    sweepFunctionStages(this.socketRoot, this.nodeKey);
    this.registry = this.readableRegistry(options.registry);
  }

  /**
   * The registry the functions' user can run: as it is, or with the shipped functions moved to a copy
   * that user can read (function-stage.ts). What is still unreadable then is the operator's to fix.
   */
  private readableRegistry(registry: ImageRegistry): ImageRegistry {
    let unreadable = this.confinement.unreadable(registry.files());
    if (unreadable.length > 0) {
      const stage = stageShippedFunctions(this.socketRoot, this.nodeKey);
      this.functionStage = stage;
      registry = registry.relocated((path) => inStage(stage, path));
      unreadable = this.confinement.unreadable(registry.files());
    }
    if (unreadable.length > 0) {
      if (this.functionStage !== undefined) rmSync(this.functionStage, { recursive: true, force: true });
      throw new Error(
        `functions run as ${this.confinement.userName} but cannot read ${unreadable.slice(0, 3).join(', ')}: ` +
          'make them and their folders readable by that user, or set FN_PROCESS_USER',
      );
    }
    return registry;
  }

  /** Removes the folders of socket directories an earlier node with this id left (it was killed). */
  private sweepSocketDirs(): void {
    const pattern = socketRootPattern(this.nodeKey);
    let entries: string[];
    try {
      entries = readdirSync(this.socketRoot);
    } catch {
      return;
    }
    for (const entry of entries) if (pattern.test(entry)) removeSocketDir(join(this.socketRoot, entry));
  }

  /**
   * A new socket directory for instance `id`: only the function's user may enter it (0700, its owner;
   * a root node still reaches it), so other users of the machine cannot. Its parent is the node's,
   * 0711 when functions run as another user so that they can reach their own directory but list
   * nobody's. Functions all run as that one user, so this keeps the machine's other users out, not
   * one function from another's socket: the process driver is not a sandbox (docs/security.md).
   */
  private socketDir(id: string): string {
    if (this.socketDirs === undefined) {
      this.socketDirs = mkdtempSync(join(this.socketRoot, `fn-node-iofs-${this.nodeKey}-`));
      if (this.confinement.functionIds) chmodSync(this.socketDirs, 0o711);
    }
    const dir = join(this.socketDirs, id);
    mkdirSync(dir, { mode: 0o700 });
    const ids = this.confinement.functionIds;
    if (ids) chownSync(dir, ids.uid, ids.gid);
    return dir;
  }

  /** How instances run, for the node's start line. */
  get summary(): string {
    const staged =
      this.functionStage === undefined
        ? ''
        : `; the shipped functions run from ${this.functionStage}, a copy ${this.confinement.userName} can read`;
    return `${this.confinement.summary}${staged}`;
  }

  get memoryMode(): 'cgroup' | 'watchdog' {
    return this.confinement.memoryMode;
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const image = this.registry.resolve(spec.image);
    const env: Record<string, string> = { ...spec.env };
    if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
    // http-stream's readiness is its socket's link, whatever else the program could signal.
    const readyFd = image.readyFd && spec.listener !== true;
    if (readyFd) env.FN_READY_FD = String(READY_FD);
    let socketDir: string | undefined;
    if (spec.listener) {
      try {
        socketDir = this.socketDir(spec.id);
      } catch (error) {
        throw new StartError(`cannot make a socket directory for ${spec.image}: ${(error as Error).message}`);
      }
      env.FN_LISTENER = listenerVariable(socketDir);
    }
    const cleanup = () => {
      if (socketDir !== undefined) removeSocketDir(socketDir);
    };
    const heap =
      image.isNode && this.memoryMode === 'watchdog' ? this.confinement.nodeArgs(spec.memoryMb) : [];
    const confined = this.confinement.wrap(spec.id, image.command, [...heap, ...image.args], {
      memoryMb: spec.memoryMb,
      cpus: spec.cpus,
    });
    const child = spawn(confined.file, confined.args, {
      env,
      stdio: ['pipe', 'pipe', 'pipe', readyFd ? 'pipe' : 'ignore'],
      // Its own process group, so a stop or a memory kill reaches what it started too.
      detached: true,
    });
    const instance = new ProcessInstance(spec.id, child, this.stopGraceMs, confined.oomKilled, cleanup);
    this.live.add(instance);
    void instance.exited.then(() => {
      this.live.delete(instance);
      confined.release();
    });

    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (error) =>
          reject(new StartError(`cannot run ${image.command}: ${error.message}`)),
        );
      });
    } catch (error) {
      this.live.delete(instance);
      confined.release();
      cleanup();
      throw error;
    }
    // Later errors (a signal to a process already gone) change nothing: the exit is what counts.
    child.on('error', () => {});
    const unwatch = this.confinement.watch(child.pid as number, spec.memoryMb, () =>
      instance.killForMemory(),
    );
    void instance.exited.then(unwatch);
    if (socketDir !== undefined) await this.waitListener(socketDir, instance, spec);
    else if (readyFd) await this.waitReady(child, instance, spec);
    return instance;
  }

  private async waitListener(dir: string, instance: ProcessInstance, spec: InstanceSpec): Promise<void> {
    try {
      instance.listener = await awaitListener(dir, instance, spec.image, this.readyTimeoutMs);
    } catch (error) {
      await instance.stop({ force: true });
      throw error;
    }
  }

  private async waitReady(child: ChildProcess, instance: ProcessInstance, spec: InstanceSpec): Promise<void> {
    const ready = child.stdio[READY_FD] as Readable;
    ready.once('error', () => {});
    try {
      const signalled = new Promise<void>((resolve) => ready.once('data', () => resolve()));
      await awaitReadiness(signalled, instance, spec.image, this.readyTimeoutMs);
    } catch (error) {
      await instance.stop({ force: true });
      throw error;
    } finally {
      ready.destroy();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.live].map((instance) => instance.stop()));
    this.confinement.close();
    this.confinement.sweepLeftovers();
    if (this.socketDirs !== undefined) removeSocketDir(this.socketDirs);
    this.socketDirs = undefined;
    if (this.functionStage !== undefined) rmSync(this.functionStage, { recursive: true, force: true });
    this.functionStage = undefined;
  }
}
