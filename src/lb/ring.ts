// Consistent-hash ring with virtual nodes. Each node owns `vnodes` points on a 32-bit circle, placed
// by hashing "<node>#<i>"; a key belongs to the first point at or after its own hash. A node's points
// depend on its name only, so adding or removing a node moves exactly the keys that land on (or
// leave) that node's arcs, whatever its position: the property jump hash lacks under arbitrary removal.
// Two points with one hash (they happen: 2M points on a 32-bit circle) are ordered by node name, so
// the ring is a pure function of its membership, however it was reached.
//
// Rings are immutable: a membership change makes a new one. The first is built with one numeric sort;
// adding or removing one node afterwards copies the arrays in blocks around that node's own points
// (each found by binary search), so a change to a ring of 1000 nodes (2M points) costs a few memcpy's
// worth of milliseconds instead of a full sort. Points name their owner by a slot number that never
// changes while the node stays, so nothing else has to be rewritten. Health does not touch the ring:
// the balancer skips unhealthy nodes while walking, which yields the same order as a ring built over
// the healthy nodes.
import { murmur3 } from './hash.js';

/** A node's points on the circle, sorted. */
function pointsOf(node: string, vnodes: number): Uint32Array {
  const points = new Uint32Array(vnodes);
  for (let i = 0; i < vnodes; i++) points[i] = murmur3(`${node}#${i}`);
  return points.sort();
}

/** Slots fit in 20 bits, so a point and its slot pack into one float64 for the initial sort. */
const MAX_SLOTS = 1 << 20;

interface Layout {
  /** Node name by slot; undefined for a slot whose node left. */
  slots: ReadonlyArray<string | undefined>;
  points: Uint32Array;
  owners: Uint32Array;
}

export class Ring {
  readonly vnodes: number;
  /** Member names, sorted. */
  readonly nodes: readonly string[];
  readonly #slots: ReadonlyArray<string | undefined>;
  readonly #points: Uint32Array;
  readonly #owners: Uint32Array;
  /** Walk scratch: a slot is seen in the current walk when its stamp equals #stamp. */
  #seen: Uint32Array;
  #stamp = 0;

  /** `layout` is internal: with() and without() hand over the arrays they built. */
  constructor(nodes: Iterable<string>, vnodes: number, layout?: Layout) {
    if (!Number.isInteger(vnodes) || vnodes < 1) throw new RangeError(`vnodes must be >= 1, got ${vnodes}`);
    this.vnodes = vnodes;
    if (layout !== undefined) {
      this.#slots = layout.slots;
      this.#points = layout.points;
      this.#owners = layout.owners;
      this.nodes = layout.slots.filter((name): name is string => name !== undefined).sort();
    } else {
      const sorted = [...new Set(nodes)].sort();
      if (sorted.length > MAX_SLOTS) throw new RangeError(`at most ${MAX_SLOTS} nodes`);
      this.nodes = sorted;
      this.#slots = sorted;
      // Slots are sorted positions here, so sorting point * 2^20 + slot orders ties by name.
      const packed = new Float64Array(sorted.length * vnodes);
      sorted.forEach((node, slot) => {
        const points = pointsOf(node, vnodes);
        for (let i = 0; i < vnodes; i++) packed[slot * vnodes + i] = (points[i] as number) * MAX_SLOTS + slot;
      });
      packed.sort();
      this.#points = new Uint32Array(packed.length);
      this.#owners = new Uint32Array(packed.length);
      for (let i = 0; i < packed.length; i++) {
        const value = packed[i] as number;
        const slot = value % MAX_SLOTS;
        this.#owners[i] = slot;
        this.#points[i] = (value - slot) / MAX_SLOTS;
      }
    }
    this.#seen = new Uint32Array(this.#slots.length);
  }

  get size(): number {
    return this.nodes.length;
  }

  /** The ring with `node` added in a new slot, its points copied in between the old ones. */
  with(node: string): Ring {
    if (this.nodes.includes(node)) return this;
    // The slot of a node that left is reused, so nodes coming and going do not grow the ring.
    const hole = this.#slots.indexOf(undefined);
    const slot = hole >= 0 ? hole : this.#slots.length;
    if (slot >= MAX_SLOTS) throw new RangeError(`at most ${MAX_SLOTS} nodes`);
    const added = pointsOf(node, this.vnodes);
    const old = this.#points;
    const points = uninitialized(old.length + added.length);
    const owners = uninitialized(points.length);
    let from = 0;
    let to = 0;
    for (const point of added) {
      let at = lowerBound(old, point, from);
      // Among equal points, the new one goes before the first whose node sorts after it.
      while (at < old.length && old[at] === point && (this.#slots[this.#owners[at]!] as string) < node) at++;
      points.set(old.subarray(from, at), to);
      owners.set(this.#owners.subarray(from, at), to);
      to += at - from;
      points[to] = point;
      owners[to] = slot;
      to++;
      from = at;
    }
    points.set(old.subarray(from), to);
    owners.set(this.#owners.subarray(from), to);
    const slots = [...this.#slots];
    slots[slot] = node;
    return new Ring([], this.vnodes, { slots, points, owners });
  }

  /** The ring without `node`: the arrays copied in blocks around that node's points. */
  without(node: string): Ring {
    const slot = this.#slots.indexOf(node);
    if (slot < 0) return this;
    const old = this.#points;
    const points = uninitialized(old.length - this.vnodes);
    const owners = uninitialized(points.length);
    let from = 0;
    let to = 0;
    for (const point of pointsOf(node, this.vnodes)) {
      let at = lowerBound(old, point, from);
      while (this.#owners[at] !== slot) at++;
      points.set(old.subarray(from, at), to);
      owners.set(this.#owners.subarray(from, at), to);
      to += at - from;
      from = at + 1;
    }
    points.set(old.subarray(from), to);
    owners.set(this.#owners.subarray(from), to);
    const slots = [...this.#slots];
    slots[slot] = undefined;
    return new Ring([], this.vnodes, { slots, points, owners });
  }

  /** The node owning `key`, or undefined on an empty ring. */
  home(key: string): string | undefined {
    if (this.#points.length === 0) return undefined;
    return this.#slots[this.#owners[this.#start(murmur3(key))]!];
  }

  /**
   * Visits every node once, in the order met walking clockwise from the key's point: the home node
   * first, then the nodes a busy or failed home spills to; stops when `visit` returns true.
   */
  visit(key: string, visit: (node: string) => boolean): void {
    const total = this.#points.length;
    if (total === 0) return;
    const seen = this.#seen;
    // A new stamp per walk instead of clearing the array; on wrap-around, clear once.
    this.#stamp = (this.#stamp + 1) >>> 0;
    if (this.#stamp === 0) {
      seen.fill(0);
      this.#stamp = 1;
    }
    const stamp = this.#stamp;
    const members = this.nodes.length;
    let distinct = 0;
    const start = this.#start(murmur3(key));
    for (let step = 0; step < total && distinct < members; step++) {
      const owner = this.#owners[(start + step) % total]!;
      if (seen[owner] === stamp) continue;
      seen[owner] = stamp;
      distinct++;
      if (visit(this.#slots[owner] as string)) return;
    }
  }

  /** Every node once in walk order (see visit); `accept` filters without changing the order of the rest. */
  walk(key: string, accept: (node: string) => boolean = () => true): string[] {
    const order: string[] = [];
    this.visit(key, (node) => {
      if (accept(node)) order.push(node);
      return false;
    });
    return order;
  }

  /** Points with their owners' names, for tests comparing an incremental ring with a fresh one. */
  layout(): { points: Uint32Array; owners: string[] } {
    return {
      points: this.#points,
      owners: Array.from(this.#owners, (owner) => this.#slots[owner] as string),
    };
  }

  /** Index of the first point >= hash, wrapping to 0 past the last point. */
  #start(hash: number): number {
    const at = lowerBound(this.#points, hash, 0);
    return at === this.#points.length ? 0 : at;
  }
}

/** Every element of these arrays is written before it is read: skip zero-filling megabytes. */
function uninitialized(length: number): Uint32Array {
  const bytes = Buffer.allocUnsafeSlow(length * 4);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
}

/** Index of the first element >= value in sorted `array`, searching from `from`. */
function lowerBound(array: Uint32Array, value: number, from: number): number {
  let low = from;
  let high = array.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((array[mid] as number) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
