// fnlb with -workers N above 1: the primary process. It owns everything there must be one of: the node
// set, health checks, -nodes-dns, and the management API (an Fnlb in the `control` role, serving it on
// a private Unix socket that the workers forward shared-port calls to, and on -mgmt-listen if given).
// It forks N workers that share the listen socket (node:cluster hands them its connections), sends
// each the node set whenever it changes (so a health or membership change reaches every worker
// together), passes each the other workers' calls in flight (so every worker bounds a node by all
// calls on it), takes their passive marks (a refused connect, a draining node) as its own, and gathers
// their counts for /1/lb/stats and /metrics. A worker that dies is replaced; SIGTERM drains them all.
import cluster, { type Worker } from 'node:cluster';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { LbStatsResponse } from '../common/lb-wire.js';
import {
  type InFlight,
  isFnlbMessage,
  LOAD_SHARE_MS,
  type ToPrimary,
  type ToWorker,
  type ViewNode,
} from './cluster-wire.js';
import type { LbOptions } from './flags.js';
import { localReports } from './mgmt.js';
import { Fnlb, type LbAddresses } from './server.js';
import { mergeWorkerStats } from './stats-merge.js';

/** The environment variable a worker finds the primary's management socket in. */
export const CONTROL_SOCKET_ENV = 'FNLB_CONTROL_SOCKET';
/** Workers answer from memory; one that takes longer is left out of the figures (and said to be). */
const STATS_TIMEOUT_MS = 2000;
/** A worker that died is forked again after this, so a crash loop costs little. */
const RESPAWN_DELAY_MS = 1000;
/**
 * How long an answer about the node set waits for the workers to apply it. A worker that takes longer
 * is stuck or dying (it is replaced when it dies); the answer goes out and says nothing of it.
 */
const VIEW_APPLY_TIMEOUT_MS = 2000;
/** Past the drain's own deadline, workers still running are killed. */
const WORKER_EXIT_GRACE_MS = 5000;

interface ViewWaiter {
  seq: number;
  done(): void;
}

interface StatsRequest {
  replies: LbStatsResponse[];
  want: number;
  done(): void;
}

export class FnlbCluster {
  readonly #options: LbOptions;
  readonly #log: Logger;
  readonly #token: string | undefined;
  readonly #workers = new Set<Worker>();
  /** Workers that listen (and so answer messages): a starting one has no handler for them yet. */
  readonly #ready = new Set<Worker>();
  readonly #statsRequests = new Map<number, StatsRequest>();
  readonly #aggregator = new AggregatorRegistry();
  /** Each worker's calls in flight per node, as it last said; and what each was last told of the others. */
  readonly #loads = new Map<Worker, InFlight>();
  readonly #toldPeers = new Map<Worker, string>();
  #shareTimer: NodeJS.Timeout | undefined;
  #control: Fnlb | undefined;
  #socketDir: string | undefined;
  #statsId = 0;
  #viewQueued = false;
  #started = false;
  /** The number of the last view sent; what each worker said it applied; answers waiting for them. */
  #viewSeq = 0;
  readonly #applied = new Map<Worker, number>();
  readonly #viewWaiters = new Set<ViewWaiter>();
  #closing: Promise<void> | undefined;

  constructor(options: LbOptions, log: Logger, token?: string) {
    this.#options = options;
    this.#log = log;
    this.#token = token;
  }

  get inFlight(): number {
    return this.#control?.inFlight ?? 0;
  }

  async start(): Promise<LbAddresses> {
    this.#socketDir = await mkdtemp(join(tmpdir(), 'fnlb-'));
    const control = new Fnlb(this.#options, this.#log, this.#token, {
      kind: 'control',
      socketPath: join(this.#socketDir, 'control.sock'),
      workersCaughtUp: () => this.#workersCaughtUp(),
      workersStarting: () => !this.#started,
      reports: {
        stats: () => this.#gatherStats(),
        metrics: async () => ({
          contentType: this.#aggregator.contentType,
          text: await this.#aggregator.clusterMetrics(),
        }),
      },
    });
    this.#control = control;
    control.balancer.onChange = () => this.#queueView();
    const addresses = await control.start();
    cluster.setupPrimary({ silent: false });
    await Promise.all(Array.from({ length: this.#options.workers }, () => this.#fork()));
    this.#started = true;
    this.#shareTimer = setInterval(() => this.#sharePeers(), LOAD_SHARE_MS);
    this.#shareTimer.unref();
    this.#log.info(
      { ...addresses, nodes: this.#options.nodes, workers: this.#options.workers },
      'fnlb listening',
    );
    return addresses;
  }

  /** Forks one worker: resolves once it listens, rejects if it exits before. */
  #fork(): Promise<void> {
    const env = { [CONTROL_SOCKET_ENV]: join(this.#socketDir as string, 'control.sock') };
    const worker = cluster.fork(env);
    this.#workers.add(worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: unknown) => {
        if (!isFnlbMessage<ToPrimary>(message)) return;
        if (message.fnlb === 'ready') {
          ready = true;
          this.#ready.add(worker);
          resolve();
        }
        this.#fromWorker(worker, message);
      });
      worker.once('exit', (code, signal) => {
        this.#workers.delete(worker);
        this.#ready.delete(worker);
        this.#loads.delete(worker);
        this.#applied.delete(worker);
        this.#releaseViewWaiters();
        this.#toldPeers.delete(worker);
        if (!ready)
          reject(new Error(`fnlb worker exited before it listened (code ${code}, signal ${signal})`));
        if (this.#closing !== undefined || !ready) return;
        this.#log.error({ worker: worker.id, code, signal }, 'fnlb worker died: starting another');
        setTimeout(() => {
          if (this.#closing === undefined)
            this.#fork().catch((error: unknown) =>
              this.#log.error({ err: error }, 'fnlb worker restart failed'),
            );
        }, RESPAWN_DELAY_MS).unref();
      });
    });
  }

  #fromWorker(worker: Worker, message: ToPrimary): void {
    const control = this.#control as Fnlb;
    switch (message.fnlb) {
      case 'hello':
        this.#send(worker, { fnlb: 'view', seq: this.#viewSeq, nodes: this.#view() });
        return;
      case 'viewed':
        this.#applied.set(worker, message.seq);
        this.#releaseViewWaiters();
        return;
      case 'mark': {
        const backend = control.balancer.get(message.address);
        if (backend !== undefined) control.health.passive(backend, message.mark);
        return;
      }
      case 'load':
        this.#loads.set(worker, message.inFlight);
        return;
      case 'stats': {
        const request = this.#statsRequests.get(message.id);
        if (request === undefined) return;
        request.replies.push(message.stats);
        if (request.replies.length >= request.want) request.done();
        return;
      }
      case 'ready':
        return;
    }
  }

  /** Tells each worker the other workers' calls in flight, added up per node, when that changed. */
  #sharePeers(): void {
    for (const worker of this.#ready) {
      const others: InFlight = {};
      for (const [other, inFlight] of this.#loads) {
        if (other === worker) continue;
        for (const [address, count] of Object.entries(inFlight))
          others[address] = (others[address] ?? 0) + count;
      }
      const text = JSON.stringify(others);
      if (this.#toldPeers.get(worker) === text) continue;
      this.#toldPeers.set(worker, text);
      this.#send(worker, { fnlb: 'peers', inFlight: others });
    }
  }

  #view(): ViewNode[] {
    const control = this.#control as Fnlb;
    return [...control.balancer.backends()].map((backend) => ({
      address: backend.address,
      state: backend.state,
      source: backend.source,
    }));
  }

  /** Changes of one moment (a health round, a DNS read) go out as one view, right after it. */
  #queueView(): void {
    if (this.#viewQueued) return;
    this.#viewQueued = true;
    queueMicrotask(() => {
      this.#viewQueued = false;
      const view: ToWorker = { fnlb: 'view', seq: ++this.#viewSeq, nodes: this.#view() };
      for (const worker of this.#workers) this.#send(worker, view);
    });
  }

  /** Resolves once every serving worker applied the node set as it is now (a queued view included). */
  #workersCaughtUp(): Promise<void> {
    const seq = this.#viewQueued ? this.#viewSeq + 1 : this.#viewSeq;
    if (this.#caughtUp(seq)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: ViewWaiter = {
        seq,
        done: () => {
          clearTimeout(timer);
          this.#viewWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#log.warn({ seq, applied: [...this.#applied.values()] }, 'workers slow to apply the node set');
        waiter.done();
      }, VIEW_APPLY_TIMEOUT_MS);
      timer.unref();
      this.#viewWaiters.add(waiter);
    });
  }

  #caughtUp(seq: number): boolean {
    return [...this.#ready].every(
      (worker) => !worker.isConnected() || (this.#applied.get(worker) ?? -1) >= seq,
    );
  }

  #releaseViewWaiters(): void {
    for (const waiter of [...this.#viewWaiters]) if (this.#caughtUp(waiter.seq)) waiter.done();
  }

  #send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }

  async #gatherStats(): Promise<LbStatsResponse> {
    const control = this.#control as Fnlb;
    const live = [...this.#ready].filter((worker) => worker.isConnected());
    const id = ++this.#statsId;
    const replies = await new Promise<LbStatsResponse[]>((resolve) => {
      const request: StatsRequest = {
        replies: [],
        want: live.length,
        done: () => {
          clearTimeout(timer);
          this.#statsRequests.delete(id);
          resolve(request.replies);
        },
      };
      const timer = setTimeout(() => request.done(), STATS_TIMEOUT_MS);
      this.#statsRequests.set(id, request);
      if (live.length === 0) request.done();
      for (const worker of live) this.#send(worker, { fnlb: 'stats?', id });
    });
    const own = await localReports(control.balancer, control.stats).stats();
    return mergeWorkerStats(own, replies, this.#workers.size);
  }

  /** Drains: /health says so at once, every worker finishes its calls in flight, then the primary stops. */
  close(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  async #drain(): Promise<void> {
    clearInterval(this.#shareTimer);
    this.#control?.markDraining();
    const exits = [...this.#workers].map(
      (worker) =>
        new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))),
    );
    for (const worker of this.#workers) this.#send(worker, { fnlb: 'drain' });
    const kill = setTimeout(() => {
      for (const worker of this.#workers) worker.process.kill('SIGKILL');
    }, this.#options.shutdownTimeoutMs + WORKER_EXIT_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(kill);
    await this.#control?.close();
    if (this.#socketDir !== undefined) await rm(this.#socketDir, { recursive: true, force: true });
    this.#log.info('fnlb stopped');
  }
}
