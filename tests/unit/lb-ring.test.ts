// The ring's guarantees, with the default virtual-node count: an even split of keys, and only the
// keys of a node that leaves (or ~1/N of all keys for a node that joins) change owner.
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/lb/flags.js';
import { Ring } from '../../src/lb/ring.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `/r/app${i % 37}/route-${i}`);
const defaults = parseFlags([]);
if (defaults.kind !== 'ok') throw new Error('default flags do not parse');
const VNODES = defaults.options.vnodes;

// Node sets shaped like real deployments: test ports on 127.0.0.1 and a host-per-node cluster.
const NODE_SETS = [
  ['127.0.0.1:40001', '127.0.0.1:40002', '127.0.0.1:40003', '127.0.0.1:40004', '127.0.0.1:40005'],
  ['fn-node-1:8080', 'fn-node-2:8080', 'fn-node-3:8080', 'fn-node-4:8080', 'fn-node-5:8080'],
  ['10.0.3.17:8080', '10.0.3.18:8080', '10.0.7.2:8080', '10.0.9.44:8080', '10.0.12.5:8080'],
];

function owners(ring: Ring): string[] {
  return KEYS.map((key) => ring.home(key) as string);
}

describe.each(NODE_SETS)('ring over 5 nodes (%s, ...)', (...nodes) => {
  const ring = new Ring(nodes, VNODES);
  const before = owners(ring);

  it('gives every node a share of 10,000 keys within 20% of the mean', () => {
    const mean = KEYS.length / nodes.length;
    for (const node of nodes) {
      const share = before.filter((owner) => owner === node).length;
      expect(
        Math.abs(share - mean) / mean,
        `node ${node} owns ${share} keys, mean ${mean}, bound +-20%`,
      ).toBeLessThanOrEqual(0.2);
    }
  });

  it.each([
    ['first', 0],
    ['middle', 2],
    ['last', 4],
  ])('removing the %s node moves only that node’s keys', (_label, index) => {
    const removed = ring.nodes[index] as string;
    const after = owners(ring.without(removed));
    let movedOthers = 0;
    let movedOwn = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === removed) movedOwn += after[i] === removed ? 0 : 1;
      else if (after[i] !== before[i]) movedOthers++;
    }
    expect(movedOthers, `keys of other nodes that moved when ${removed} left`).toBe(0);
    // Two-sided: the removed node's keys really went elsewhere (and it had some).
    expect(movedOwn).toBe(before.filter((owner) => owner === removed).length);
    expect(movedOwn).toBeGreaterThan(0);
  });

  it('adding a 6th node moves at most 1/6 + 3% of keys, all of them to the new node', () => {
    const added = 'node-six.example:8080';
    const after = owners(ring.with(added));
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (after[i] === before[i]) continue;
      moved++;
      expect(after[i], `key ${KEYS[i]} moved between old nodes`).toBe(added);
    }
    const fraction = moved / KEYS.length;
    expect(fraction, `moved ${moved} of ${KEYS.length}, bound 1/6 + 3%`).toBeLessThanOrEqual(1 / 6 + 0.03);
    expect(fraction, 'the new node took almost nothing: ring not balanced').toBeGreaterThan(1 / 6 - 0.05);
  });
});

describe('ring walk', () => {
  const nodes = ['a:1', 'b:1', 'c:1', 'd:1', 'e:1'];
  const ring = new Ring(nodes, VNODES);

  it('lists every node once, home first', () => {
    for (const key of KEYS.slice(0, 200)) {
      const walk = ring.walk(key);
      expect(walk[0]).toBe(ring.home(key));
      expect([...walk].sort()).toEqual(nodes);
    }
  });

  it('skipping a node keeps the order of the others, as a ring without it would', () => {
    const smaller = ring.without('c:1');
    for (const key of KEYS.slice(0, 200)) {
      expect(ring.walk(key, (node) => node !== 'c:1')).toEqual(smaller.walk(key));
    }
  });

  it('spreads the second node of the walk: a busy home spills to different nodes per key', () => {
    const seconds = new Map<string, number>();
    for (const key of KEYS.filter((k) => ring.home(k) === 'a:1')) {
      const second = ring.walk(key)[1] as string;
      seconds.set(second, (seconds.get(second) ?? 0) + 1);
    }
    expect([...seconds.keys()].sort()).toEqual(['b:1', 'c:1', 'd:1', 'e:1']);
  });

  it('an empty ring has no home', () => {
    expect(new Ring([], VNODES).home('/r/a/b')).toBeUndefined();
    expect(new Ring([], VNODES).walk('/r/a/b')).toEqual([]);
  });
});

describe('incremental membership changes', () => {
  it('a ring grown and shrunk one node at a time is the ring built from scratch', () => {
    // Few points per node make hash ties likely enough to exercise the tie rule on 300 nodes.
    const vnodes = 64;
    const nodes = Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}:8080`);
    let grown = new Ring([], vnodes);
    for (const node of [...nodes].reverse()) grown = grown.with(node);
    const scratch = new Ring(nodes, vnodes);
    expect(grown.nodes).toEqual(scratch.nodes);
    expect(grown.layout()).toEqual(scratch.layout());

    let shrunk = scratch;
    for (const node of nodes.filter((_, i) => i % 3 === 0)) shrunk = shrunk.without(node);
    const rest = new Ring(
      nodes.filter((_, i) => i % 3 !== 0),
      vnodes,
    );
    expect(shrunk.layout()).toEqual(rest.layout());
    for (const key of KEYS.slice(0, 500)) expect(shrunk.walk(key)).toEqual(rest.walk(key));
  });

  it('adding a node already on the ring or removing an unknown one changes nothing', () => {
    const ring = new Ring(['a:1', 'b:1'], 16);
    expect(ring.with('a:1')).toBe(ring);
    expect(ring.without('z:1')).toBe(ring);
  });
});
