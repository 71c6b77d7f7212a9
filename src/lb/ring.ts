// Consistent-hash ring with virtual nodes. Each node owns `vnodes` points on a 32-bit circle, placed
// by hashing "<node>#<i>"; a key belongs to the first point at or after its own hash. A node's points
// depend on its name only, so adding or removing a node moves exactly the keys that land on (or
// leave) that node's arcs, whatever its position: the property jump hash lacks under arbitrary removal.
//
// Rings are immutable: membership changes (management API, start-up) build a new one, which costs a
// sort of nodes*vnodes points and happens rarely. Health does not rebuild the ring: the balancer skips
// unhealthy nodes while walking, which yields the same order as a ring built over the healthy nodes.
import { murmur3 } from './hash.js';

export class Ring {
  readonly nodes: readonly string[];
  readonly vnodes: number;
  readonly #points: Uint32Array;
  readonly #owners: Uint32Array;

  constructor(nodes: Iterable<string>, vnodes: number) {
    if (!Number.isInteger(vnodes) || vnodes < 1) throw new RangeError(`vnodes must be >= 1, got ${vnodes}`);
    this.nodes = [...new Set(nodes)].sort();
    this.vnodes = vnodes;
    const entries: Array<[number, number]> = [];
    this.nodes.forEach((node, index) => {
      for (let i = 0; i < vnodes; i++) entries.push([murmur3(`${node}#${i}`), index]);
    });
    // Ties (two labels with one hash) break on the node's sorted position, so the order is a pure
    // function of the membership.
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.#points = Uint32Array.from(entries, (entry) => entry[0]);
    this.#owners = Uint32Array.from(entries, (entry) => entry[1]);
  }

  get size(): number {
    return this.nodes.length;
  }

  with(node: string): Ring {
    return new Ring([...this.nodes, node], this.vnodes);
  }

  without(node: string): Ring {
    return new Ring(
      this.nodes.filter((existing) => existing !== node),
      this.vnodes,
    );
  }

  /** The node owning `key`, or undefined on an empty ring. */
  home(key: string): string | undefined {
    if (this.#points.length === 0) return undefined;
    return this.nodes[this.#owners[this.#start(murmur3(key))]!];
  }

  /**
   * Every node once, in the order met walking clockwise from the key's point: the home node first,
   * then the nodes a busy or failed home spills to. `accept` filters (e.g. healthy only) without
   * changing the relative order of the rest.
   */
  walk(key: string, accept: (node: string) => boolean = () => true): string[] {
    const total = this.#points.length;
    const order: string[] = [];
    if (total === 0) return order;
    const seen = new Uint8Array(this.nodes.length);
    let distinct = 0;
    const start = this.#start(murmur3(key));
    for (let step = 0; step < total && distinct < this.nodes.length; step++) {
      const owner = this.#owners[(start + step) % total]!;
      if (seen[owner] === 1) continue;
      seen[owner] = 1;
      distinct++;
      const node = this.nodes[owner]!;
      if (accept(node)) order.push(node);
    }
    return order;
  }

  /** Index of the first point >= hash, wrapping to 0 past the last point. */
  #start(hash: number): number {
    const points = this.#points;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return low === points.length ? 0 : low;
  }
}
