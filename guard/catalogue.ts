// The guard's catalogue: every property it judges, which component a failure implicates, what it
// needs from the topology, and the file that judges it (tests/guard/<id>.test.ts). A property whose
// needs are not met is skipped with the reason, never passed.
import type { Scale } from './engine/workload.js';
import type { Capability } from './topology/types.js';

export type Component = 'balancer' | 'node';

export interface Property {
  id: PropertyId;
  title: string;
  implicates: Component;
  /** What every test of the property needs; a test may need more (GuardFile.test's `needs`). */
  needs: readonly Capability[];
  /** Judged by which node served each call, so it needs nodes that can be told apart. */
  byNode: boolean;
  /** One line for --list and the README's table of properties (npm run docs:guard writes it). */
  summary: string;
  /** The faults it injects on the system under test, when it injects any. */
  faults?: string;
  /** What it costs the system under test at each scale (engine/workload.ts), for --list and the run's estimate. */
  cost: Record<Scale, Cost>;
}

/**
 * A property's typical cost at one scale: seconds on a 2-core machine with this project's nodes and
 * balancer (the processes and containers topologies), the calls it sends through the balancer and
 * the function containers it may start at most. Properties that place keys (membership, recovery,
 * malformed) cost more on nodes whose 404 names no node (real Fn servers): `onRoutes` says how much.
 */
export interface Cost {
  seconds: number;
  calls: number;
  containers: number;
  onRoutes?: { seconds: number; containers: number };
}

/** Placement over routes made for it (100, 50 at quick scale): each pass a cold call per route (guard/measure/placement.ts). */
const PLACED_ON_ROUTES = { seconds: 600, containers: 700 };
const PLACED_ON_ROUTES_QUICK = { seconds: 300, containers: 350 };

export const PROPERTY_IDS = [
  'sticky',
  'hot-reuse',
  'herd',
  'scale-out',
  'balance',
  'spill',
  'overhead',
  'failover',
  'graceful-stop',
  'frozen',
  'recovery',
  'membership',
  'no-duplicate',
  'malformed',
  'api',
] as const;

export type PropertyId = (typeof PROPERTY_IDS)[number];

const catalogue: Record<PropertyId, Omit<Property, 'id'>> = {
  sticky: {
    title: 'stickiness',
    implicates: 'balancer',
    needs: [],
    byNode: true,
    summary:
      '100 sequential calls to a route reach one node; every spelling of its path (trailing or doubled /, query, %-escapes, absolute-form) reaches that node',
    cost: {
      full: { seconds: 5, calls: 150, containers: 40 },
      quick: { seconds: 3, calls: 54, containers: 20 },
    },
  },
  'hot-reuse': {
    title: 'hot reuse',
    implicates: 'node',
    needs: ['nodeCounters'],
    byNode: true,
    summary: 'each node starts one container for the sequential calls it received and answers the rest hot',
    cost: {
      full: { seconds: 1, calls: 100, containers: 5 },
      quick: { seconds: 1, calls: 30, containers: 5 },
    },
  },
  herd: {
    title: 'no stampede',
    implicates: 'node',
    needs: ['nodeCounters'],
    byNode: true,
    summary:
      'a burst of 100 concurrent calls to a cold 5 ms route starts a few containers on each node, judged against the calls that node received',
    cost: {
      full: { seconds: 3, calls: 100, containers: 100 },
      quick: { seconds: 2, calls: 60, containers: 60 },
    },
  },
  'scale-out': {
    title: 'scale-out',
    implicates: 'node',
    needs: ['nodeCounters'],
    byNode: true,
    summary: 'the same burst to a 1 s route starts containers in proportion to the calls each node received',
    cost: {
      full: { seconds: 10, calls: 100, containers: 100 },
      quick: { seconds: 9, calls: 60, containers: 60 },
    },
  },
  balance: {
    title: 'balance',
    implicates: 'balancer',
    needs: [],
    byNode: true,
    summary: '500 routes x 4 sequential calls: each route on one node, no node far above or below the mean',
    cost: {
      full: { seconds: 125, calls: 2000, containers: 500 },
      quick: { seconds: 50, calls: 400, containers: 200 },
    },
  },
  spill: {
    title: 'spill',
    implicates: 'balancer',
    needs: [],
    byNode: true,
    summary: 'a hot 200 ms route under 24 callers spreads over a few nodes, not one and not all',
    cost: {
      full: { seconds: 15, calls: 240, containers: 24 },
      quick: { seconds: 15, calls: 240, containers: 24 },
    },
  },
  overhead: {
    title: 'overhead',
    implicates: 'balancer',
    needs: [],
    byNode: true,
    summary:
      'a hot 1 ms call through the balancer against the same call straight to its node, paired: at most 2 ms more at the median and 15 ms at the 99th percentile, one caller and eight',
    cost: {
      full: { seconds: 10, calls: 4000, containers: 8 },
      quick: { seconds: 4, calls: 1200, containers: 8 },
    },
  },
  failover: {
    title: 'failover',
    implicates: 'balancer',
    needs: ['kill', 'restore'],
    byNode: true,
    summary: 'a node SIGKILLed under load costs at most its calls in flight, and none once it is marked down',
    faults: 'kills a node (SIGKILL), then starts it again',
    cost: {
      full: { seconds: 30, calls: 1050, containers: 50 },
      quick: { seconds: 12, calls: 420, containers: 25 },
    },
  },
  'graceful-stop': {
    title: 'graceful stop',
    implicates: 'balancer',
    needs: ['stop', 'restore'],
    byNode: true,
    summary: 'a node stopped with SIGTERM under load costs no call',
    faults: 'stops a node (SIGTERM), then starts it again',
    cost: {
      full: { seconds: 30, calls: 1050, containers: 50 },
      quick: { seconds: 15, calls: 420, containers: 25 },
    },
  },
  frozen: {
    title: 'frozen node',
    implicates: 'balancer',
    needs: ['freeze'],
    byNode: true,
    summary:
      'a node frozen under load (SIGSTOP, docker pause) costs at most the calls it had or was sent until taken out, is taken out within 4 health intervals, and gets exactly its routes back once thawed',
    faults: 'freezes a node, then thaws it',
    cost: {
      full: { seconds: 40, calls: 1090, containers: 50 },
      quick: { seconds: 35, calls: 440, containers: 25 },
    },
  },
  recovery: {
    title: 'recovery',
    implicates: 'balancer',
    needs: ['kill', 'start'],
    byNode: true,
    summary: 'a killed node started again gets exactly its own routes back within 3 health intervals',
    faults: 'kills a node and starts it again',
    cost: {
      full: { seconds: 40, calls: 2500, containers: 0, onRoutes: { seconds: 400, containers: 400 } },
      quick: { seconds: 5, calls: 500, containers: 0, onRoutes: { seconds: 200, containers: 200 } },
    },
  },
  membership: {
    title: 'membership',
    implicates: 'balancer',
    needs: ['mgmtWrite'],
    byNode: true,
    summary:
      'a 6th node takes at most 1/6 + 5% of 1000 routes, all onto itself; removing a node moves only its routes',
    faults: 'adds a 6th node, then takes a node out of the balancer and back',
    cost: {
      full: { seconds: 40, calls: 5000, containers: 1, onRoutes: PLACED_ON_ROUTES },
      quick: { seconds: 10, calls: 1000, containers: 1, onRoutes: PLACED_ON_ROUTES_QUICK },
    },
  },
  'no-duplicate': {
    title: 'no duplicate execution',
    implicates: 'balancer',
    needs: ['nodeStats'],
    byNode: true,
    summary:
      "a call whose function answers 503, 500 or 502, or outlives the balancer's timeout, runs exactly once",
    cost: {
      full: { seconds: 26, calls: 40, containers: 4 },
      quick: { seconds: 24, calls: 7, containers: 4 },
    },
  },
  malformed: {
    title: 'malformed requests',
    implicates: 'balancer',
    needs: [],
    byNode: true,
    summary:
      'OPTIONS *, a foreign absolute-form target, a bad escape, a 16 KiB path, a control character, a short body: 4xx or closed, and every node still serves',
    cost: {
      full: { seconds: 15, calls: 2100, containers: 8, onRoutes: { seconds: 300, containers: 300 } },
      quick: { seconds: 6, calls: 450, containers: 8, onRoutes: { seconds: 150, containers: 150 } },
    },
  },
  api: {
    title: 'Fn v1 API',
    implicates: 'node',
    needs: [],
    byNode: false,
    summary: 'Fn v1 shapes, defaults and error codes through the balancer; bad input gets the right 4xx JSON',
    cost: {
      full: { seconds: 2, calls: 20, containers: 1 },
      quick: { seconds: 2, calls: 20, containers: 1 },
    },
  },
};

/** The catalogue's typical seconds of the properties `ids` (all of them by default) at `scale`. */
export function typicalSeconds(ids: readonly PropertyId[] = PROPERTY_IDS, scale: Scale = 'full'): number {
  return ids.reduce((sum, id) => sum + PROPERTIES[id].cost[scale].seconds, 0);
}

export const PROPERTIES: Record<PropertyId, Property> = Object.fromEntries(
  PROPERTY_IDS.map((id) => [id, { id, ...catalogue[id] }]),
) as Record<PropertyId, Property>;
