// Every bound the integration suite asserts, in one place, each with the reason it exists and the
// environment variable that overrides it (for a slower machine or another build under test).
// Bounds are two-sided where a trivial system could pass one side.
import type { TopologyKind } from '../helpers/topology/types.js';

export interface Threshold {
  value: number;
  /** Environment variable that overrides `value`. */
  env: string;
  reason: string;
}

function threshold(env: string, value: number, reason: string): Threshold {
  const override = process.env[env];
  if (override !== undefined && override !== '') {
    const parsed = Number(override);
    if (!Number.isFinite(parsed)) throw new Error(`${env}=${JSON.stringify(override)} is not a number`);
    return { value: parsed, env, reason };
  }
  return { value, env, reason };
}

export const THRESHOLDS = {
  stickyMaxNodes: threshold(
    'FNG_STICKY_MAX_NODES',
    1,
    'sequential calls never load a node, so bounded-load routing must keep all of them on the home node',
  ),
  hotMaxContainers: threshold(
    'FNG_HOT_MAX_CONTAINERS',
    1,
    '100 sequential calls to one hot route need one container; more means hot containers are not reused',
  ),
  hotMinHotCalls: threshold(
    'FNG_HOT_MIN_HOT_CALLS',
    99,
    'every call after the first must find the hot container idle (Fn-Cold: false)',
  ),
  stampedeMaxPerNode: threshold(
    'FNG_STAMPEDE_MAX_PER_NODE',
    3,
    'a burst to a fast cold route must queue behind the first containers, not start one per call (the herd)',
  ),
  stampedeMaxCluster: threshold(
    'FNG_STAMPEDE_MAX_CLUSTER',
    10,
    'a naive runner starts one container per concurrent call (100); the herd-proof policy stays near 1-3 per node',
  ),
  scaleOutMinCluster: threshold(
    'FNG_SCALE_OUT_MIN_CLUSTER',
    10,
    'calls of about 1 s outlast a container start, so the policy must scale out; a serial runner starts 1 per node',
  ),
  balanceMaxNodesPerRoute: threshold(
    'FNG_BALANCE_MAX_NODES_PER_ROUTE',
    1,
    'sequential calls of each route must stay on its home node',
  ),
  balanceMaxOverMean: threshold(
    'FNG_BALANCE_MAX_OVER_MEAN',
    1.5,
    'the ring must spread routes evenly: historic jump hash gave its busiest node 2.5x the mean',
  ),
  balanceMinNodeShare: threshold(
    'FNG_BALANCE_MIN_NODE_SHARE',
    0.5,
    'every node must carry at least half the mean load: an idle node means routes pile up elsewhere',
  ),
  spillMinNodes: threshold(
    'FNG_SPILL_MIN_NODES',
    2,
    'a slow route under 32 callers must spill off its saturated home node (bounded load)',
  ),
  spillMaxNodes: threshold(
    'FNG_SPILL_MAX_NODES',
    4,
    'spilling must stay on the next nodes of the ring walk, not spray over the cluster',
  ),
  failoverMaxAfterDown: threshold(
    'FNG_FAILOVER_MAX_AFTER_DOWN',
    0,
    'once the balancer has marked a node down, no call may fail because of it',
  ),
  membershipAddMaxMoved: threshold(
    'FNG_MEMBERSHIP_ADD_MAX_MOVED',
    1 / 6 + 0.05,
    'adding a 6th node to 5 should move about 1/6 of routes (consistent hashing), not reshuffle them',
  ),
} as const;

export interface TimeBudget {
  /** Milliseconds for the test on each kind of topology. */
  ms: Record<TopologyKind, number>;
  env: string;
  reason: string;
}

function timeBudget(env: string, ms: Record<TopologyKind, number>, reason: string): TimeBudget {
  const override = process.env[env];
  if (override === undefined || override === '') return { ms, env, reason };
  const parsed = Number(override);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`${env}=${JSON.stringify(override)} is not a duration in ms`);
  return { ms: { processes: parsed, containers: parsed, external: parsed }, env, reason };
}

/**
 * Time budgets (test timeouts, not assertions: every bound above is the same on every topology).
 * They differ per topology kind where a test's length is set by how fast instances start.
 */
export const TIME_BUDGETS = {
  balance: timeBudget(
    'FNG_BALANCE_BUDGET_MS',
    { processes: 120_000, containers: 360_000, external: 360_000 },
    'the balance test starts 500 cold containers: a process starts in about 0.05 s, a Docker container ' +
      'in about 0.35 s alone and at about 6 per second with 8 starting at once on a 2-core machine ' +
      '(measured 143 s for the whole test there)',
  ),
} as const;
