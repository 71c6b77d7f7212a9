// Which node serves a request: consistent hashing with bounded loads (Mirrokni, Thorup and
// Zadimoghaddam). The key's ring walk lists the online nodes, home node first; the request goes to
// the first one whose load is under the bound
//   bound = max(floor, ceil(c * (total_in_flight + 1) / online_nodes)).
// With light traffic every load is under `floor`, so a route always lands on its home node and its hot
// containers get reused; a route whose home is genuinely busy spills to the next node of its own walk,
// so a hot route spreads over a few nodes rather than all of them. A route with at most one call in
// flight on a node may still go there up to twice the bound (IDLE_ROUTE_HEADROOM): under uneven
// popularity only the routes genuinely busy on their home spill, and the tail keeps its containers.
import { Backend, type NodeSource, type NodeState, type PoolTimeouts } from './backend.js';
import { Ring } from './ring.js';

/**
 * How reported queueing turns into load: one unit (one in-flight request) per second of the node's
 * XXX-FXLB-WAIT average. The node's own launch policy queues a call behind a busy hot container only
 * while that is expected to be quicker than starting a container, so a healthy node's wait stays
 * under a container start (0.3-0.6 s under Docker) and adds less than one unit: it never moves
 * sequential traffic (which would cost a cold start elsewhere) and never decides where a hot route
 * spills, which the balancer's own in-flight counts do exactly. Waits of whole seconds mean the node
 * is short of memory or start slots, or is loaded by clients we do not see; each such second counts
 * like a request already queued there, and a wait of `floor` seconds keeps even a route's
 * sequential traffic away until the average fades (half-life 2 s, see Backend.wait).
 */
export const WAIT_MS_PER_LOAD_UNIT = 1000;

/**
 * A node takes a call of a route with at most IDLE_ROUTE_CALLS calls in flight there up to this
 * multiple of the bound. With none, the route most likely has an idle hot container there; with one,
 * the node either queues the call briefly behind it or starts a second container — the same start a
 * spill would cost the next node, without splitting the route over two nodes for as long as it stays
 * hot. So under uneven (Zipf-like) popularity only the routes genuinely busy on their home spill, and
 * the long tail stays where its containers are. A node reporting queueing (a wait term of a unit or
 * more) gets no such allowance. The bound still caps every node, at twice its value.
 */
export const IDLE_ROUTE_HEADROOM = 2;
export const IDLE_ROUTE_CALLS = 1;

export interface BalancerOptions {
  c: number;
  floor: number;
  vnodes: number;
  /** Nodes accepted at most; add() refuses more. */
  maxNodes: number;
  timeouts: PoolTimeouts;
}

export type AddResult =
  | { kind: 'added'; backend: Backend }
  | { kind: 'known' }
  | { kind: 'alias'; of: string }
  | { kind: 'full'; max: number };

export class Balancer {
  readonly #options: BalancerOptions;
  readonly #backends = new Map<string, Backend>();
  #ring: Ring;
  #totalInFlight = 0;
  /** Called after the node set or a node's state changed (fnlb's primary tells its workers). */
  onChange: (() => void) | undefined;

  constructor(options: BalancerOptions) {
    this.#options = options;
    this.#ring = new Ring([], options.vnodes);
  }

  /** With -workers: the other workers' calls in flight, all nodes together, as they last said. */
  peerTotalInFlight = 0;

  get totalInFlight(): number {
    return this.#totalInFlight;
  }

  backends(): IterableIterator<Backend> {
    return this.#backends.values();
  }

  get(address: string): Backend | undefined {
    return this.#backends.get(address);
  }

  onlineCount(): number {
    let count = 0;
    for (const backend of this.#backends.values()) if (backend.online) count++;
    return count;
  }

  /** Whether an online node outside `exclude` is left: the same as a non-empty walk, without hashing. */
  hasOnline(exclude: ReadonlySet<string>): boolean {
    for (const backend of this.#backends.values())
      if (backend.online && !exclude.has(backend.address)) return true;
    return false;
  }

  /**
   * Adds a node in state `unknown`. `addresses` are the ip:port pairs its name resolves to: a node
   * reached at an address another node already has is that node under another name, and is refused.
   */
  add(address: string, addresses: readonly string[] = [], source: NodeSource = 'static'): AddResult {
    if (this.#backends.has(address)) return { kind: 'known' };
    for (const backend of this.#backends.values()) {
      if (addresses.some((one) => backend.addresses.includes(one)))
        return { kind: 'alias', of: backend.address };
    }
    if (this.#backends.size >= this.#options.maxNodes) return { kind: 'full', max: this.#options.maxNodes };
    const backend = new Backend(address, this.#options.timeouts, source);
    backend.addresses = [...addresses];
    this.#backends.set(address, backend);
    this.#ring = this.#ring.with(address);
    this.onChange?.();
    return { kind: 'added', backend };
  }

  /** Removes a node from the ring at once; the caller closes its pool once in-flight calls end. */
  remove(address: string): Backend | undefined {
    const backend = this.#backends.get(address);
    if (backend === undefined) return undefined;
    this.#backends.delete(address);
    this.#ring = this.#ring.without(address);
    this.onChange?.();
    return backend;
  }

  /** Moves a node to `state`; false when it was in that state already. */
  setState(backend: Backend, state: NodeState): boolean {
    if (!backend.setState(state)) return false;
    this.onChange?.();
    return true;
  }

  bound(): number {
    const online = this.onlineCount();
    if (online === 0) return this.#options.floor;
    const total = this.#totalInFlight + this.peerTotalInFlight;
    return Math.max(this.#options.floor, Math.ceil((this.#options.c * (total + 1)) / online));
  }

  load(backend: Backend, now = Date.now()): number {
    return backend.inFlight + backend.peerInFlight + backend.wait.value(now) / WAIT_MS_PER_LOAD_UNIT;
  }

  /** Online nodes in the key's ring order, skipping `exclude`. */
  walk(key: string, exclude?: ReadonlySet<string>): Backend[] {
    return this.#ring
      .walk(key, (address) => this.#backends.get(address)?.online === true && !exclude?.has(address))
      .map((address) => this.#backends.get(address) as Backend);
  }

  /**
   * The node for `key`: the first of its walk under the bound. Only the wait term can push every
   * node over the bound (in-flight counts alone always leave one under it, since c >= 1); then the
   * least loaded node wins, earlier in the walk on ties, so the choice stays sticky.
   */
  choose(key: string, exclude?: ReadonlySet<string>): Backend | undefined {
    const bound = this.bound();
    const idleBound = bound * IDLE_ROUTE_HEADROOM;
    const now = Date.now();
    let chosen: Backend | undefined;
    let best: Backend | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    this.#ring.visit(key, (address) => {
      const backend = this.#backends.get(address);
      if (backend?.online !== true || exclude?.has(address)) return false;
      const load = this.load(backend, now);
      if (load < bound || (load < idleBound && this.#takesIdleRoute(backend, key, load))) {
        chosen = backend;
        return true;
      }
      if (load < bestLoad) {
        best = backend;
        bestLoad = load;
      }
      return false;
    });
    return chosen ?? best;
  }

  /** Whether the node takes `key` past the bound: the route is (nearly) idle there and the node is not queueing. */
  #takesIdleRoute(backend: Backend, key: string, load: number): boolean {
    const queueing = load - backend.inFlight - backend.peerInFlight;
    return (backend.routesInFlight.get(key) ?? 0) <= IDLE_ROUTE_CALLS && queueing < 1;
  }

  begin(backend: Backend, key: string): void {
    backend.inFlight++;
    backend.routesInFlight.set(key, (backend.routesInFlight.get(key) ?? 0) + 1);
    this.#totalInFlight++;
  }

  end(backend: Backend, key: string): void {
    backend.inFlight--;
    const left = (backend.routesInFlight.get(key) ?? 1) - 1;
    if (left > 0) backend.routesInFlight.set(key, left);
    else backend.routesInFlight.delete(key);
    this.#totalInFlight--;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#backends.values()].map((backend) => backend.close()));
  }
}
