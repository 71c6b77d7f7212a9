// Load with a fault in the middle: `calls` calls over the routes, `concurrency` at a time, and after
// `faultAfter` of them have completed the fault runs (kill or stop a node) while the load goes on.
// Every call keeps its start and end on one clock, its status and the node that says it ran it, and
// the calls in flight at the fault are kept, so a property can tell what the fault could cost.
import type { FnClient } from '../../src/common/fn-client.js';
import { execute } from '../../src/harness/execute.js';
import type { SuiteFile } from '../engine/suite-file.js';

export interface TimedCall {
  path: string;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  status: number | undefined;
  /** The node that answered, by its own word; undefined for a failed call. */
  node: string | undefined;
  error: string | undefined;
}

export interface FaultedLoad {
  calls: TimedCall[];
  /** When the fault was started, and when it was done (the node gone), on the calls' clock. */
  faultAt: number;
  faultDoneAt: number;
  /** Paths of the calls in flight when the fault started. */
  inFlightAtFault: string[];
}

/** A load never runs longer than this, whatever `until` says: well inside a test's own timeout. */
const LOAD_DEADLINE_MS = 60_000;

export async function loadWithFault(
  suite: SuiteFile,
  paths: readonly string[],
  options: {
    calls: number;
    concurrency: number;
    query: string;
    /** Who sends the calls: the suite's client of the balancer unless another (a shorter timeout). */
    client?: FnClient;
    /** After how many completed calls `fault` runs; no fault when absent. */
    faultAfter?: number;
    fault?: () => Promise<void>;
    /**
     * Keep calling past `calls` until this time (on the calls' clock), asked again as calls end: a
     * property that must see calls after a moment it learns late (the node marked down).
     */
    until?: () => number;
  },
): Promise<FaultedLoad> {
  const calls: TimedCall[] = [];
  const inFlight = new Map<number, string>();
  const deadline = performance.now() + LOAD_DEADLINE_MS;
  let started = 0;
  let completed = 0;
  let faultAt = Number.POSITIVE_INFINITY;
  let inFlightAtFault: string[] = [];
  let faultDone: Promise<number> | undefined;
  let faultError: unknown;
  const more = () => {
    const now = performance.now();
    if (now > deadline || faultError !== undefined) return false;
    return started < options.calls || now < (options.until?.() ?? 0);
  };
  const worker = async () => {
    while (more()) {
      const index = started++;
      const path = paths[index % paths.length] as string;
      inFlight.set(index, path);
      const startedAt = performance.now();
      const execution = await execute(options.client ?? suite.lb, path, options.query);
      inFlight.delete(index);
      calls.push({
        path,
        startedAt,
        endedAt: performance.now(),
        ok: execution.ok,
        status: execution.status,
        node: execution.ok ? suite.directory.attribute(execution) : undefined,
        error: execution.ok ? undefined : `${execution.error ?? ''} ${execution.body.slice(0, 200)}`.trim(),
      });
      if (++completed === options.faultAfter && options.fault) {
        faultAt = performance.now();
        inFlightAtFault = [...inFlight.values()];
        // A fault that fails stops the load at once, and its error is the test's.
        faultDone = options.fault().then(
          () => performance.now(),
          (error: unknown) => {
            faultError = error ?? new Error('the fault failed');
            return Number.POSITIVE_INFINITY;
          },
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const faultDoneAt = faultDone ? await faultDone : Number.POSITIVE_INFINITY;
  if (faultError !== undefined) throw faultError;
  return { calls, faultAt, faultDoneAt, inFlightAtFault };
}

/** The node each path is served by, from calls that succeeded before `before` (one clock). */
export function homes(calls: readonly TimedCall[], before = Number.POSITIVE_INFINITY): Map<string, string> {
  const home = new Map<string, string>();
  for (const call of calls)
    if (call.ok && call.node !== undefined && call.startedAt < before) home.set(call.path, call.node);
  return home;
}
