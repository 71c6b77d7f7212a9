// Bounded-load choice, driven directly (no network): sequential traffic stays home, a hot route
// spills along its own walk only as far as the bound forces, offline nodes get nothing, and a node
// reporting long queueing is avoided until its report fades.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/lb/backend.js';
import { Balancer, WAIT_MS_PER_LOAD_UNIT } from '../../src/lb/balancer.js';

const NODES = ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.4:8080', '10.0.0.5:8080'];
const TIMEOUTS = { connectMs: 1000, headersMs: 1000, bodyMs: 1000 };

let balancer: Balancer;

function fiveOnline(options: { c?: number; floor?: number } = {}): Balancer {
  balancer = new Balancer({
    c: options.c ?? 1.25,
    floor: options.floor ?? 8,
    vnodes: 2000,
    maxNodes: 1000,
    timeouts: TIMEOUTS,
  });
  for (const node of NODES) online(balancer, node);
  return balancer;
}

afterEach(async () => {
  await balancer?.close();
});

describe('bounded-load balancer', () => {
  it('computes bound = max(floor, ceil(c * (total_in_flight + 1) / online))', () => {
    const b = fiveOnline();
    expect(b.bound()).toBe(8);
    const home = b.choose('/r/app/x') as Backend;
    for (let i = 0; i < 32; i++) b.begin(home, '/r/app/x');
    expect(b.bound()).toBe(Math.ceil((1.25 * 33) / 5));
    b.get(NODES[0] as string)?.setState('offline');
    expect(b.bound()).toBe(Math.ceil((1.25 * 33) / 4));
  });

  it('sends sequential traffic of a route to its home node every time', () => {
    const b = fiveOnline();
    const homes = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const chosen = b.choose('/r/app/route') as Backend;
      b.begin(chosen, '/r/app/route');
      b.end(chosen, '/r/app/route');
      homes.add(chosen.address);
    }
    expect(homes.size).toBe(1);
    expect([...homes][0]).toBe(b.walk('/r/app/route')[0]?.address);
  });

  it('spills 32 concurrent calls of one route over exactly 4 nodes of its walk, 8 each', () => {
    const b = fiveOnline();
    const walk = b.walk('/r/app/hot').map((backend) => backend.address);
    const counts = new Map<string, number>();
    for (let i = 0; i < 32; i++) {
      const chosen = b.choose('/r/app/hot') as Backend;
      b.begin(chosen, '/r/app/hot');
      counts.set(chosen.address, (counts.get(chosen.address) ?? 0) + 1);
    }
    expect(counts).toEqual(new Map(walk.slice(0, 4).map((node) => [node, 8])));
    // Steady state: a call that ends frees its node, and the next call goes back there.
    const third = b.get(walk[2] as string) as Backend;
    b.end(third, '/r/app/hot');
    expect(b.choose('/r/app/hot')?.address).toBe(walk[2]);
  });

  it('keeps a light route home while other routes load the cluster', () => {
    const b = fiveOnline();
    for (let i = 0; i < 40; i++) {
      const chosen = b.choose(`/r/app/busy-${i % 10}`) as Backend;
      b.begin(chosen, `/r/app/busy-${i % 10}`);
    }
    const light = b.walk('/r/app/light')[0] as Backend;
    expect(b.load(light)).toBeLessThan(b.bound());
    expect(b.choose('/r/app/light')).toBe(light);
  });

  it('lets a route (nearly) idle on its home go there past the bound (up to twice it), and spills a busy one', () => {
    const b = fiveOnline();
    const idle = '/r/app/tail';
    const [home, next] = b.walk(idle) as [Backend, Backend];
    // Other routes fill the home node to the bound (8 with 5 idle nodes): a busy route spills...
    for (let i = 0; i < 8; i++) b.begin(home, `/r/app/other-${i}`);
    expect(b.load(home)).toBeGreaterThanOrEqual(b.bound());
    b.begin(home, '/r/app/other-0');
    expect(b.choose('/r/app/other-0'), 'a route with two calls in flight there spills').not.toBe(home);
    // ...and the idle one stays where its hot container is.
    expect(b.choose(idle), 'a route idle there stays home').toBe(home);
    b.begin(home, idle);
    expect(b.choose(idle), 'one call in flight: a second container at home, or a short queue').toBe(home);
    b.begin(home, idle);
    expect(b.choose(idle), 'two in flight: busy there, it spills like any other').toBe(next);
    b.end(home, idle);
    b.end(home, idle);
    // Twice the bound caps it: past that even an idle route goes on.
    for (let i = 0; i < 8; i++) b.begin(home, `/r/app/more-${i}`);
    expect(b.load(home)).toBeGreaterThanOrEqual(2 * b.bound());
    expect(b.choose(idle)).toBe(next);
  });

  it('gives a node reporting queueing no allowance for idle routes', () => {
    const b = fiveOnline();
    const [home, next] = b.walk('/r/app/tail') as [Backend, Backend];
    for (let i = 0; i < 8; i++) b.begin(home, `/r/app/other-${i}`);
    home.wait.add(2 * WAIT_MS_PER_LOAD_UNIT, Date.now());
    expect(b.choose('/r/app/tail')).toBe(next);
  });

  it('never picks an offline or unknown node, nor an excluded one', () => {
    const b = fiveOnline();
    const walk = b.walk('/r/app/x');
    (walk[0] as Backend).setState('offline');
    b.add('10.0.0.6:8080');
    for (let i = 0; i < 200; i++) {
      const chosen = b.choose(`/r/app/k${i}`) as Backend;
      expect(chosen.online).toBe(true);
      expect(chosen.address).not.toBe('10.0.0.6:8080');
    }
    expect(b.choose('/r/app/x')).toBe(walk[1]);
    expect(b.choose('/r/app/x', new Set([walk[1]?.address as string]))).toBe(walk[2]);
    for (const backend of b.backends()) backend.setState('offline');
    expect(b.choose('/r/app/x')).toBeUndefined();
  });

  it('says whether an online node is left outside a set of tried ones, as a non-empty walk would', () => {
    const b = fiveOnline();
    const tried = new Set(NODES.slice(0, 4));
    expect(b.hasOnline(tried)).toBe(true);
    b.get(NODES[4] as string)?.setState('offline');
    expect(b.hasOnline(tried)).toBe(false);
    expect(b.walk('/r/app/x', tried)).toEqual([]);
    tried.delete(NODES[0] as string);
    expect(b.hasOnline(tried)).toBe(true);
    expect(b.walk('/r/app/x', tried).map((backend) => backend.address)).toEqual([NODES[0]]);
  });

  it('avoids a node reporting seconds of queueing, keeps one reporting a cold start, and forgives', () => {
    const b = fiveOnline();
    const [home, next] = b.walk('/r/app/q') as [Backend, Backend];
    const now = Date.now();
    home.wait.add(500, now);
    expect(b.choose('/r/app/q'), 'a 0.5 s wait (container start) must not move traffic').toBe(home);
    // A node that keeps reporting 12 s waits (one report moves the average 30% of the way).
    for (let i = 0; i < 6; i++) home.wait.add(12 * WAIT_MS_PER_LOAD_UNIT, Date.now());
    expect(b.load(home)).toBeGreaterThanOrEqual(8);
    expect(b.choose('/r/app/q'), 'a node queueing for seconds is avoided').toBe(next);
    expect(b.load(home, Date.now() + 10_000), 'the report fades within seconds').toBeLessThan(1);
  });

  it('falls back to the least loaded node when the wait term puts every node over the bound', () => {
    const b = fiveOnline();
    const now = Date.now();
    const walk = b.walk('/r/app/all');
    walk.forEach((backend, i) => {
      backend.wait.add((20 - i) * WAIT_MS_PER_LOAD_UNIT, now);
    });
    expect(b.choose('/r/app/all')).toBe(walk[4]);
  });

  it('moves only the removed node’s keys when a node is deleted', () => {
    const b = fiveOnline();
    const keys = Array.from({ length: 500 }, (_, i) => `/r/app/m${i}`);
    const before = keys.map((key) => b.choose(key)?.address);
    const gone = NODES[2] as string;
    void b.remove(gone)?.close();
    keys.forEach((key, i) => {
      if (before[i] !== gone) expect(b.choose(key)?.address).toBe(before[i]);
    });
  });
});

function online(balancer: Balancer, node: string): void {
  const added = balancer.add(node);
  if (added.kind === 'added') added.backend.setState('online');
}
