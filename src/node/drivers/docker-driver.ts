// The docker driver: every function instance is one container of the route's image, started through
// the engine's API (dockerode) with stdin, stdout and stderr attached (no TTY, so the engine
// multiplexes stdout and stderr on one stream and docker-modem takes them apart). Containers get the
// route's memory as a hard limit without swap, a CPU quota (the route's cpus or the node's default),
// a pids and an open-files limit, `Hostname` = the node id (historic Fn did this; primes reports it),
// labels naming project, node, app and route, no capabilities, no-new-privileges, a read-only root
// with a small /tmp, no network unless FN_DOCKER_NETWORK names one, and no Docker socket. Images are
// never pulled: a missing image is an unknown image, and a name that is not an image reference never
// reaches the Engine API (image-reference.ts). The engine removes a container once it ended
// (AutoRemove, so one whose node died goes too: it ends when its attached stdin closes); at start the
// driver removes, by label, what a crashed node with the same id left behind.
// An http-stream container gets a socket directory of its own, `<FN_IOFS_PATH>/<id>` on the node,
// bind-mounted at /tmp/iofs (below the tmpfs /tmp) from `<FN_IOFS_DOCKER_PATH>/<id>`, the same
// directory as the engine sees it; it is removed once the container ended. Its stdin stays attached
// and unwritten, so it still ends when its node goes away (the FDK ends when a held stdin ends).
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { PassThrough, type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import Docker from 'dockerode';
import { within } from '../../common/deadline.js';
import { hostnameFor, NODE_LABEL, PROJECT_LABEL } from '../../common/docker.js';
import { READY_LABEL, READY_STDERR_LINE } from '../../common/readiness.js';
import { engineImagePath, isImageReference } from '../image-reference.js';
import { type Driver, type Instance, type InstanceSpec, StartError, UnknownImageError } from './driver.js';
import { awaitReadiness, DriverInstance, type Ending } from './instance.js';
import { awaitListener, listenerVariable, ownSocketRoot, removeSocketDir } from './listener.js';

export interface DockerDriverOptions {
  /** The engine's unix socket. */
  socketPath: string;
  /** This node's id: the containers' Hostname and their `fnlb-guard.node` label. */
  nodeId: string;
  /**
   * FN_DOCKER_NETWORK: the network function containers join. Without it they get none at all (only
   * loopback): the formats need nothing but stdin and stdout, a container starts about 25% faster
   * without a network endpoint, and no function can send traffic anywhere.
   */
  network?: string;
  /** A start that has not signalled readiness (or linked its socket) by then fails (default 30 s). */
  readyTimeoutMs?: number;
  /**
   * FN_IOFS_PATH: where the node makes http-stream containers' socket directories (default
   * `<os.tmpdir()>/fn-node-iofs-<hash of the node id>`).
   */
  iofsPath?: string;
  /**
   * FN_IOFS_DOCKER_PATH: the same directory as the engine sees it, the source of the bind mounts
   * (default iofsPath: the node and the engine share a file system). Differs when the node runs in
   * a container: iofsPath is then a volume the node's container mounts from this engine path.
   */
  iofsDockerPath?: string;
  /** Between TERM and KILL on a graceful stop (default 2 s; Docker counts in whole seconds). */
  stopGraceMs?: number;
  /** Deadline of each short engine call: inspect, create, start, remove (default 20 s). */
  apiTimeoutMs?: number;
}

const ROLE_LABEL = 'fnguard.role';
/** Where a container sees its socket directory: below its tmpfs /tmp, as in Fn's runners. */
const IOFS_MOUNT = '/tmp/iofs';

const TMP_SIZE = 'size=64m';
const PIDS_LIMIT = 512;
const OPEN_FILES = 1024;
/** How long after an exit by SIGKILL the engine's oom event is waited for. */
const OOM_EVENT_WAIT_MS = 500;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** One engine call under its deadline. */
function engineCall<T>(timeoutMs: number, what: string, promise: Promise<T>): Promise<T> {
  return within(`${what} (Docker engine)`, promise, timeoutMs);
}

/** Drops the FDK's readiness line from stderr; `ready` settles when it came. Every other byte passes through. */
class ReadyFilter extends Transform {
  readonly ready: Promise<void>;
  private onReady: () => void = () => {};
  private pending = '';
  private seen = false;

  constructor() {
    super();
    this.ready = new Promise((resolve) => {
      this.onReady = resolve;
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.seen) {
      done(null, chunk);
      return;
    }
    this.pending += chunk.toString('utf8');
    let newline = this.pending.indexOf('\n');
    while (newline >= 0 && !this.seen) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      if (line === READY_STDERR_LINE) {
        this.seen = true;
        this.onReady();
      } else this.push(`${line}\n`);
      newline = this.pending.indexOf('\n');
    }
    if (this.seen && this.pending) {
      this.push(this.pending);
      this.pending = '';
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    done(null, this.pending || undefined);
  }
}

/** The signal behind a shell-style exit status above 128 (137 is SIGKILL). */
function signalOf(status: number): string | null {
  if (status <= 128) return null;
  const entry = Object.entries(constants.signals).find(([, number]) => number === status - 128);
  return entry ? entry[0] : null;
}

interface DockerInstanceParts {
  container: Docker.Container;
  /** The attach stream: the container's stdin, and its stdout and stderr multiplexed. */
  stream: NodeJS.ReadWriteStream;
  stdout: PassThrough;
  stderr: Readable;
  /** Settles once everything the container wrote was handed to stdout and stderr. */
  drained: Promise<void>;
  /** The engine's wait for the started container to end. */
  waited: Promise<{ StatusCode?: number }>;
  graceMs: number;
  apiTimeoutMs: number;
  /** Whether the engine reported an oom event for this container. */
  oomReported: () => boolean;
  /** What goes with the container once it ended (its socket directory), before its exit is reported. */
  cleanup: () => void;
}

class DockerInstance extends DriverInstance {
  readonly pid = undefined;
  readonly stdout: PassThrough;
  readonly stderr: Readable;
  /** Settles once the container is gone from the engine. */
  readonly removed: Promise<void>;

  constructor(
    id: string,
    private readonly parts: DockerInstanceParts,
  ) {
    const status = parts.waited.then(
      (result) => result.StatusCode ?? null,
      () => null,
    );
    super(
      id,
      Promise.all([status, parts.drained]).then(([code]) => {
        parts.cleanup();
        return { code, signal: code === null ? null : signalOf(code) };
      }),
    );
    this.stdout = parts.stdout;
    this.stderr = parts.stderr;
    // A removal the engine refused leaves a labelled container behind, which the next start of a
    // node with this id removes: nothing to report to the runner.
    this.removed = this.exited.then(() => forceRemove(parts.container, parts.apiTimeoutMs)).catch(() => {});
  }

  get stdin(): Writable {
    return this.parts.stream as unknown as Writable;
  }

  /** Its state says so while it exists; once the engine removed it, its oom event does. */
  protected async diedOfMemory(ending: Ending): Promise<boolean> {
    if (ending.code !== 137) return false;
    if (this.parts.oomReported()) return true;
    try {
      const info = await engineCall(this.parts.apiTimeoutMs, 'inspect', this.parts.container.inspect());
      return info.State.OOMKilled === true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, OOM_EVENT_WAIT_MS));
      return this.parts.oomReported();
    }
  }

  protected kill(): Promise<void> {
    return this.halt(() => engineCall(this.parts.apiTimeoutMs, 'kill', this.parts.container.kill()));
  }

  /** Closes stdin and lets Docker send TERM, then KILL after the grace period. */
  protected terminate(): Promise<void> {
    this.stdin.end();
    const seconds = Math.max(1, Math.ceil(this.parts.graceMs / 1000));
    return this.halt(() =>
      engineCall(
        this.parts.apiTimeoutMs + this.parts.graceMs,
        'stop',
        this.parts.container.stop({ t: seconds }),
      ),
    );
  }

  private async halt(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      // 304: not running; 404: gone; 409: already stopping. Anything else: removing it with force
      // ends it all the same.
      if (![304, 404, 409].includes(statusOf(error) ?? 0)) {
        await forceRemove(this.parts.container, this.parts.apiTimeoutMs).catch(() => {});
      }
    }
  }
}

/** Removes a container, running or not; one already gone (404) or being removed (409) counts as removed. */
async function forceRemove(container: Docker.Container, timeoutMs: number): Promise<void> {
  try {
    await engineCall(timeoutMs, 'remove', container.remove({ force: true }));
  } catch (error) {
    if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
  }
}

export class DockerDriver implements Driver {
  readonly kind = 'docker';
  private readonly docker: Docker;
  private readonly live = new Set<DockerInstance>();
  private readonly readyTimeoutMs: number;
  private readonly stopGraceMs: number;
  private readonly apiTimeoutMs: number;
  /** Containers of this node the engine reported out of memory (they are removed at once). */
  private readonly oomed = new Set<string>();
  private events: NodeJS.ReadableStream | undefined;
  /** Socket directories: the node's view, and the engine's. */
  readonly iofsPath: string;
  private readonly iofsDockerPath: string;

  private constructor(private readonly options: DockerDriverOptions) {
    this.docker = new Docker({ socketPath: options.socketPath });
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.stopGraceMs = options.stopGraceMs ?? 2000;
    this.apiTimeoutMs = options.apiTimeoutMs ?? 20_000;
    const nodeKey = createHash('sha256').update(options.nodeId).digest('hex').slice(0, 12);
    this.iofsPath = options.iofsPath ?? join(tmpdir(), `fn-node-iofs-${nodeKey}`);
    this.iofsDockerPath = options.iofsDockerPath ?? this.iofsPath;
  }

  /** A driver for this node, after removing the containers a crashed node of the same id left. */
  static async start(options: DockerDriverOptions): Promise<{ driver: DockerDriver; leftovers: number }> {
    const driver = new DockerDriver(options);
    ownSocketRoot(driver.iofsPath);
    await driver.watchOom();
    return { driver, leftovers: await driver.removeLeftovers() };
  }

  private async watchOom(): Promise<void> {
    const events = await engineCall(
      this.apiTimeoutMs,
      'events',
      this.docker.getEvents({
        filters: { type: ['container'], event: ['oom'], label: [`${NODE_LABEL}=${this.options.nodeId}`] },
      }),
    );
    let pending = '';
    events.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const id = (JSON.parse(line) as { Actor?: { ID?: string } }).Actor?.ID;
          if (id) this.oomed.add(id);
        } catch {
          // not an event line
        }
      }
      // Kept for the few seconds an exit takes to be read: a bound, not a history.
      if (this.oomed.size > 1000) this.oomed.clear();
    });
    events.on('error', () => {});
    this.events = events;
  }

  private async removeLeftovers(): Promise<number> {
    const leftovers = await engineCall(
      this.apiTimeoutMs,
      'list containers',
      this.docker.listContainers({
        all: true,
        filters: { label: [`${PROJECT_LABEL}=1`, `${NODE_LABEL}=${this.options.nodeId}`] },
      }),
    );
    await Promise.all(
      leftovers.map((info) => forceRemove(this.docker.getContainer(info.Id), this.apiTimeoutMs)),
    );
    // And their socket directories, named after them (a shared FN_IOFS_PATH keeps the others').
    for (const info of leftovers) {
      const id = /^\/?fnguard-fn-([0-9a-f]+)$/.exec(info.Names?.[0] ?? '')?.[1];
      if (id !== undefined) removeSocketDir(join(this.iofsPath, id));
    }
    return leftovers.length;
  }

  /**
   * A new socket directory for container `id`, and its bind mount. Its parent is the node's (made
   * 0700), so no other user of the machine reaches it; the container, which sees only
   * this directory, runs as whatever user its image names (uid 1000 for this project's, root or
   * anyone for others) and must create its socket there: the directory itself is 0777.
   */
  private socketDir(id: string): { dir: string; mount: Docker.MountSettings } {
    const dir = join(this.iofsPath, id);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    return {
      dir,
      // A bind mount, not a `Binds` entry: a source the engine does not have (FN_IOFS_DOCKER_PATH
      // wrong) is then an error, not an empty directory the engine makes.
      mount: {
        Type: 'bind',
        Source: posix.join(this.iofsDockerPath, id),
        Target: IOFS_MOUNT,
        ReadOnly: false,
      },
    };
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    // http-stream's readiness is its socket's link, whatever else the image could signal.
    const signalsReady = (await this.inspectImage(spec.image)) && spec.listener !== true;
    let socket: ReturnType<DockerDriver['socketDir']> | undefined;
    if (spec.listener) {
      try {
        socket = this.socketDir(spec.id);
      } catch (error) {
        throw new StartError(`cannot make a socket directory for ${spec.image}: ${(error as Error).message}`);
      }
    }
    const cleanup = () => {
      if (socket !== undefined) removeSocketDir(socket.dir);
    };
    const env = {
      ...spec.env,
      ...(signalsReady ? { FN_READY_STREAM: 'stderr' } : {}),
      ...(socket ? { FN_LISTENER: listenerVariable(IOFS_MOUNT) } : {}),
    };
    const memory = spec.memoryMb * 1024 * 1024;
    let container: Docker.Container;
    try {
      container = await engineCall(
        this.apiTimeoutMs,
        'create container',
        this.docker.createContainer({
          name: `fnguard-fn-${spec.id}`,
          Image: spec.image,
          Hostname: hostnameFor(this.options.nodeId),
          Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
          Labels: {
            ...spec.labels,
            [PROJECT_LABEL]: '1',
            [ROLE_LABEL]: 'function',
            [NODE_LABEL]: this.options.nodeId,
          },
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          OpenStdin: true,
          // Closing the attached stdin closes the function's stdin: the default format's end of
          // input, and how an orphan notices that its node is gone.
          StdinOnce: true,
          Tty: false,
          HostConfig: {
            Memory: memory,
            MemorySwap: memory,
            CapDrop: ['ALL'],
            SecurityOpt: ['no-new-privileges'],
            ReadonlyRootfs: true,
            Tmpfs: { '/tmp': `rw,nosuid,nodev,${TMP_SIZE}` },
            PidsLimit: PIDS_LIMIT,
            Ulimits: [{ Name: 'nofile', Soft: OPEN_FILES, Hard: OPEN_FILES }],
            ...(spec.cpus === undefined ? {} : { NanoCpus: Math.round(spec.cpus * 1e9) }),
            AutoRemove: true,
            NetworkMode: this.options.network ?? 'none',
            ...(socket ? { Mounts: [socket.mount] } : {}),
          },
        }),
      );
    } catch (error) {
      cleanup();
      throw new StartError(`cannot create a container of ${spec.image}: ${(error as Error).message}`);
    }
    try {
      return await this.run(container, spec, signalsReady, socket?.dir, cleanup);
    } catch (error) {
      await forceRemove(container, this.apiTimeoutMs).catch(() => {});
      cleanup();
      throw error instanceof StartError
        ? error
        : new StartError(`${spec.image}: ${(error as Error).message}`);
    }
  }

  /** Whether the image signals readiness on stderr; UnknownImageError when the engine lacks it. */
  private async inspectImage(image: string): Promise<boolean> {
    if (!isImageReference(image))
      throw new UnknownImageError(`${JSON.stringify(image)} is not an image reference`);
    try {
      const info = await engineCall(
        this.apiTimeoutMs,
        'inspect image',
        this.docker.getImage(engineImagePath(image)).inspect(),
      );
      return info.Config?.Labels?.[READY_LABEL] === 'stderr';
    } catch (error) {
      if (statusOf(error) === 404) {
        throw new UnknownImageError(
          `image ${JSON.stringify(image)} is not on this node's Docker engine (the docker driver never pulls)`,
        );
      }
      throw new StartError(`cannot inspect image ${image}: ${(error as Error).message}`);
    }
  }

  private async run(
    container: Docker.Container,
    spec: InstanceSpec,
    signalsReady: boolean,
    socketDir: string | undefined,
    cleanup: () => void,
  ): Promise<Instance> {
    // Attached before start, so not a byte of output is missed. An attach that answers after its
    // deadline is closed then, never left open without an owner.
    const attaching = container.attach({
      stream: true,
      hijack: true,
      stdin: true,
      stdout: true,
      stderr: true,
    });
    const stream = await engineCall(this.apiTimeoutMs, 'attach', attaching).catch((error: unknown) => {
      attaching.then(
        (late) => (late as unknown as Writable).destroy(),
        () => {},
      );
      throw error;
    });
    // A socket error, or a write after the container ended: the exit is what gets reported.
    (stream as unknown as Writable).on('error', () => {});
    const stdout = new PassThrough();
    const rawStderr = new PassThrough();
    const readiness = signalsReady ? new ReadyFilter() : undefined;
    this.docker.modem.demuxStream(stream, stdout, rawStderr);
    // Everything the container wrote has been handed on once the attach stream ends (the engine ends
    // it after the exit), and a turn of the event loop lets the streams deliver it. Listened for
    // before the start, so even an instant crash is seen.
    const drained = new Promise<void>((resolve) => {
      const ended = () => {
        stdout.end();
        rawStderr.end();
        resolve();
      };
      stream.once('end', ended);
      stream.once('close', ended);
    }).then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    // The caller removes the container; one that never ran may never report an exit.
    const abandon = (error: unknown): never => {
      (stream as unknown as Writable).destroy();
      throw error;
    };
    await engineCall(this.apiTimeoutMs, 'start', container.start()).catch(abandon);
    const instance = new DockerInstance(spec.id, {
      container,
      stream,
      stdout,
      stderr: readiness ? rawStderr.pipe(readiness) : rawStderr,
      drained,
      // Awaited once started: "not-running" then answers at once for a container that already
      // ended (it is removed only after that), so even an instant crash is seen.
      waited: container.wait({ condition: 'not-running' }),
      graceMs: this.stopGraceMs,
      apiTimeoutMs: this.apiTimeoutMs,
      oomReported: () => this.oomed.has(container.id),
      cleanup,
    });
    if (readiness) {
      await awaitReadiness(readiness.ready, instance, spec.image, this.readyTimeoutMs).catch(abandon);
    }
    if (socketDir !== undefined) {
      instance.listener = await awaitListener(socketDir, instance, spec.image, this.readyTimeoutMs).catch(
        abandon,
      );
    }
    this.live.add(instance);
    void instance.removed.then(() => this.live.delete(instance));
    return instance;
  }

  async close(): Promise<void> {
    const instances = [...this.live];
    await Promise.all(instances.map((instance) => instance.stop()));
    await Promise.all(instances.map((instance) => instance.removed));
    (this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
  }
}
