// What the nodes start, seen from the Docker engine they run their functions on, for node builds that
// count nothing themselves (an Fn server has no per-route counters). From the moment a guard file opens,
// every container of a function image (label fnlb-guard=1) the engine creates is inspected once: its route (the FNG_ROUTE variable the suite
// puts in every route's config, which Fn-compatible nodes hand their functions as environment; else
// FN_APP_NAME + FN_PATH) and the name it runs under (its HOSTNAME variable, else its hostname: Fn and
// fn-node both give function containers their own node's name, which is also what the functions
// report). A container gone before it could be inspected is counted as lost, never guessed.
import Docker from 'dockerode';
import { tryWaitUntil } from '../../helpers/wait.js';
import { within } from '../../src/common/deadline.js';
import { hostnameOf, routeOfEnv } from './container-env.js';

/** Containers remembered at most per watch (a guard file starts a few hundred). */
const MAX_CONTAINERS = 100_000;
const INSPECT_TIMEOUT_MS = 5000;
/** Events come a moment after the fact: the engine counts as settled after this long without one. */
const QUIET_MS = 500;
const SETTLE_TIMEOUT_MS = 10_000;

export interface SeenContainer {
  id: string;
  image: string;
  /** `<app><path>` of the route it runs, when its environment says. */
  route: string | undefined;
  /** The name it runs under: its node's name. */
  hostname: string;
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string };
}

/** What a guard file reads of the containers the nodes' engine made for its routes. */
export interface ContainersSeen {
  /** How the containers are seen, for reports: "from <source>". */
  readonly source: string;
  /** Waits until what was asked of the engine so far is counted; says why counts cannot be trusted. */
  settle(): Promise<string | undefined>;
  /** Containers made for one route (`<app><path>`). */
  containersOf(route: string): SeenContainer[];
  /** Containers made but not attributable (gone before inspection, or a create left unanswered). */
  readonly lost: number;
  /** What a lost container is here, for reports: "N containers were <lostMeans>". */
  readonly lostMeans: string;
  close(): void;
}

export class EngineWatch implements ContainersSeen {
  readonly source = 'the Docker engine’s events';
  readonly lostMeans = 'gone before the engine could be asked whose they were';
  readonly #docker: Docker;
  readonly #stream: NodeJS.ReadableStream;
  readonly #containers: SeenContainer[] = [];
  readonly #pending = new Set<Promise<void>>();
  #lost = 0;
  #lastEventAt = performance.now();
  #buffered = '';

  /** Why the watch may have missed containers: its event stream ended or failed. */
  #broken: string | undefined;
  #closed = false;

  private constructor(docker: Docker, stream: NodeJS.ReadableStream) {
    this.#docker = docker;
    this.#stream = stream;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk.toString('utf8')));
    stream.on('error', (error: Error) => {
      this.#broken ??= `the engine's event stream failed: ${error.message}`;
    });
    stream.on('end', () => {
      if (!this.#closed) this.#broken ??= "the engine's event stream ended";
    });
  }

  static async start(socketPath: string): Promise<EngineWatch> {
    const docker = new Docker({ socketPath });
    // The function images carry fnlb-guard=1 (docker/build-images.sh labels them), and containers
    // inherit their image's labels whatever node starts them: other containers are not watched.
    const stream = await docker.getEvents({
      filters: { type: ['container'], event: ['create'], label: ['fnlb-guard=1'] },
    });
    return new EngineWatch(docker, stream);
  }

  #onData(text: string): void {
    this.#buffered += text;
    const lines = this.#buffered.split('\n');
    this.#buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let event: EngineEvent;
      try {
        event = JSON.parse(line) as EngineEvent;
      } catch {
        continue;
      }
      const id = event.Actor?.ID;
      if (event.Type !== 'container' || event.Action !== 'create' || id === undefined) continue;
      this.#lastEventAt = performance.now();
      const inspecting = this.#inspect(id).finally(() => this.#pending.delete(inspecting));
      this.#pending.add(inspecting);
    }
  }

  async #inspect(id: string): Promise<void> {
    try {
      const info = await within(`inspect ${id}`, this.#docker.getContainer(id).inspect(), INSPECT_TIMEOUT_MS);
      const route = routeOfEnv(info.Config?.Env);
      if (this.#containers.length >= MAX_CONTAINERS) this.#containers.shift();
      this.#containers.push({
        id,
        image: info.Config?.Image ?? '',
        route,
        hostname: hostnameOf(info.Config?.Env, info.Config?.Hostname),
      });
    } catch {
      this.#lost++;
    }
  }

  /**
   * Waits until every container the engine reported so far is inspected and the events went quiet;
   * says why the counts cannot be trusted when they cannot (the stream broke, or never went quiet).
   */
  async settle(): Promise<string | undefined> {
    const quiet = async () => {
      await Promise.allSettled([...this.#pending]);
      return this.#pending.size === 0 && performance.now() - this.#lastEventAt >= QUIET_MS;
    };
    const settled = await tryWaitUntil("the engine's events to settle", quiet, SETTLE_TIMEOUT_MS, 50);
    return settled !== undefined
      ? this.#broken
      : (this.#broken ?? `the engine's events did not settle within ${SETTLE_TIMEOUT_MS} ms`);
  }

  /** Containers seen for one route (`<app><path>`). */
  containersOf(route: string): SeenContainer[] {
    return this.#containers.filter((container) => container.route === route);
  }

  /** Containers created but gone before they could be inspected. */
  get lost(): number {
    return this.#lost;
  }

  close(): void {
    this.#closed = true;
    (this.#stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
