// The balancer's added latency, measured in pairs: each caller alternates a call straight to the
// route's node and the same call through the balancer, so both see the same machine, the same node and
// the same hot containers at the same moment, and a busy machine slows both sides alike. What is
// judged is the difference of their percentiles.

import { execute } from '../../src/harness/execute.js';
import { percentile } from '../../src/harness/stats.js';
import type { SuiteFile } from '../engine/suite-file.js';

export interface PairedLatency {
  concurrency: number;
  /** Milliseconds, sorted, of the successful calls each way. */
  direct: number[];
  through: number[];
  failed: number;
  /** Calls through the balancer that another node than the route's served. */
  elsewhere: number;
}

/** `calls` calls each way, `concurrency` callers at a time, each alternating direct and through. */
export async function pairedLatency(
  suite: SuiteFile,
  home: string,
  path: string,
  query: string,
  calls: number,
  concurrency: number,
): Promise<PairedLatency> {
  const route = suite.invokePath(path);
  const direct: number[] = [];
  const through: number[] = [];
  let failed = 0;
  let elsewhere = 0;
  let started = 0;
  const caller = async (first: number) => {
    // Half the callers start with the balancer, so neither side always follows the other.
    for (let turn = first; started < calls; turn++) {
      started++;
      for (const viaBalancer of turn % 2 === 0 ? [false, true] : [true, false]) {
        const execution = await execute(viaBalancer ? suite.lb : suite.node(home), route, query);
        if (!execution.ok) {
          failed++;
          continue;
        }
        (viaBalancer ? through : direct).push(execution.responseSeconds * 1000);
        if (viaBalancer && suite.directory.attribute(execution) !== home) elsewhere++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => caller(index)));
  const ascending = (a: number, b: number) => a - b;
  return { concurrency, direct: direct.sort(ascending), through: through.sort(ascending), failed, elsewhere };
}

/** The balancer's added milliseconds at percentile p (50, 99); NaN when a side has no call. */
export function addedMs(measured: PairedLatency, p: number): number {
  if (measured.direct.length === 0 || measured.through.length === 0) return Number.NaN;
  return percentile(measured.through, p) - percentile(measured.direct, p);
}
