// Every bound the integration suite asserts, in one place, each with the reason it exists and the
// environment variable that overrides it (for a slower machine or another build under test).
// Bounds are two-sided where a trivial system could pass one side.
import type { TopologyKind } from '../topology/types.js';

/**
 * What a measured value is, for the comparison with a baseline run (guard/engine/baseline.ts):
 * counts and ratios are compared by default; timings only when asked (FNG_BASELINE_TIMINGS=1), since
 * the machines that run pipelines are noisy; `own`, a bound the test sets itself from what it did
 * (every call it made must succeed), never.
 */
export type MeasureKind = 'count' | 'ratio' | 'timing' | 'own';

export interface Threshold {
  value: number;
  /** Environment variable that overrides `value`. */
  env: string;
  reason: string;
  /** True when the environment variable set `value`. */
  overridden: boolean;
  kind: MeasureKind;
  /** How much worse than the baseline's measure a run may be, in the measure's unit, before it fails. */
  tolerance: number;
}

function threshold(
  env: string,
  value: number,
  reason: string,
  kind: MeasureKind,
  tolerance: number,
): Threshold {
  const override = process.env[env];
  if (override !== undefined && override !== '') {
    const parsed = Number(override);
    if (!Number.isFinite(parsed)) throw new Error(`${env}=${JSON.stringify(override)} is not a number`);
    return { value: parsed, env, reason, overridden: true, kind, tolerance };
  }
  return { value, env, reason, overridden: false, kind, tolerance };
}

export const THRESHOLDS = {
  stickyMaxNodes: threshold(
    'FNG_STICKY_MAX_NODES',
    1,
    'sequential calls never load a node, so bounded-load routing must keep all of them on the home node',
    'count',
    0,
  ),
  hotMaxContainers: threshold(
    'FNG_HOT_MAX_CONTAINERS',
    1,
    'sequential calls to one hot route need one container per node that got them; more means hot containers are not reused',
    'count',
    0,
  ),
  hotMaxColdCalls: threshold(
    'FNG_HOT_MAX_COLD_CALLS',
    1,
    'only the first call a node gets for the route may be cold: every later one must find the hot container idle',
    'count',
    0,
  ),
  stampedeMaxPerNode: threshold(
    'FNG_STAMPEDE_MAX_PER_NODE',
    3,
    'a burst to a fast cold route must queue behind the first containers, not start one per call (the herd)',
    'count',
    1,
  ),
  stampedeMaxShare: threshold(
    'FNG_STAMPEDE_MAX_SHARE',
    0.1,
    'a node that receives a larger burst may start more, but at most one container per 10 calls: a naive runner starts one per call',
    'ratio',
    0.05,
  ),
  scaleOutMinShare: threshold(
    'FNG_SCALE_OUT_MIN_SHARE',
    0.1,
    'calls of about 1 s outlast a container start, so a node must start at least one container per 10 calls it received; a serial runner starts 1',
    'ratio',
    0.05,
  ),
  balanceMaxNodesPerRoute: threshold(
    'FNG_BALANCE_MAX_NODES_PER_ROUTE',
    1,
    'sequential calls of each route must stay on its home node',
    'count',
    0,
  ),
  balanceMaxOverMean: threshold(
    'FNG_BALANCE_MAX_OVER_MEAN',
    1.5,
    'the ring must spread routes evenly: historic jump hash gave its busiest node 2.5x the mean',
    'ratio',
    0.1,
  ),
  balanceMinNodeShare: threshold(
    'FNG_BALANCE_MIN_NODE_SHARE',
    0.5,
    'every node must carry at least half the mean load: an idle node means routes pile up elsewhere',
    'ratio',
    0.1,
  ),
  spillMinNodes: threshold(
    'FNG_SPILL_MIN_NODES',
    2,
    'a slow route under 24 callers must spill off its saturated home node (bounded load)',
    'count',
    1,
  ),
  spillMaxNodes: threshold(
    'FNG_SPILL_MAX_NODES',
    4,
    'spilling must stay on the next nodes of the ring walk, not spray over the cluster',
    'count',
    1,
  ),
  failoverMaxAfterDown: threshold(
    'FNG_FAILOVER_MAX_AFTER_DOWN',
    0,
    'once the balancer has marked a node down, no call may fail because of it',
    'count',
    0,
  ),
  gracefulMaxFailed: threshold(
    'FNG_GRACEFUL_MAX_FAILED',
    0,
    'a node stopped with SIGTERM finishes its calls and refuses new ones as refused (Fn-Refused), which the balancer sends elsewhere',
    'count',
    0,
  ),
  recoveryMaxIntervals: threshold(
    'FNG_RECOVERY_MAX_INTERVALS',
    3,
    'a node that answers again must pass a health check and get its routes back within a few intervals',
    'timing',
    1,
  ),
  membershipAddMaxMoved: threshold(
    'FNG_MEMBERSHIP_ADD_MAX_MOVED',
    1 / 6 + 0.05,
    'adding a 6th node to 5 should move about 1/6 of routes (consistent hashing), not reshuffle them',
    'ratio',
    0.005,
  ),
  discoveryMaxIntervals: threshold(
    'FNG_DISCOVERY_MAX_INTERVALS',
    2,
    'a node that appears in DNS must be online after the next read and its first health check',
    'timing',
    1,
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
  return { ms: { processes: parsed, containers: parsed, swarm: parsed, external: parsed }, env, reason };
}

/**
 * Time budgets (test timeouts, not assertions: every bound above is the same on every topology).
 * They differ per topology kind where a test's length is set by how fast instances start.
 */
export const TIME_BUDGETS = {
  balance: timeBudget(
    'FNG_BALANCE_BUDGET_MS',
    { processes: 120_000, containers: 360_000, swarm: 360_000, external: 360_000 },
    'the balance test starts 500 cold containers: a process starts in about 0.05 s, a Docker container ' +
      'in about 0.35 s alone and at about 6 per second with 8 starting at once on a 2-core machine ' +
      '(measured 143 s for the whole test there)',
  ),
} as const;
