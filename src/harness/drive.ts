// Load driving: `calls` calls through the balancer, `concurrency` in flight at once, spread over the
// routes by callPlan. Bounded twice: by count, and by a deadline after which no call starts (each
// call in flight is bounded by its own timeout), so a run always ends. An abort signal (Ctrl-C) stops
// new calls the same way.
import type { FnClient } from '../common/fn-client.js';
import { seededRandom } from '../common/seeded-random.js';
import type { NodeDirectory } from './attribution.js';
import { type Execution, execute } from './execute.js';

/** One call as the report keeps it; null where nothing was known, so the JSON keeps every key. */
export interface CallRecord {
  index: number;
  /** The invoked path, /r/<app><path>. */
  route: string;
  /** Node address that served the call, or the raw id of a node not in -nodes; null if nothing said. */
  node: string | null;
  ok: boolean;
  status: number | null;
  error: string | null;
  cold: boolean;
  responseSeconds: number;
  /** In-function duration the primes function reported. */
  durationSeconds: number | null;
  /** Response body of a failed call (truncated), for the `JSON:` line and the report. */
  body: string | null;
}

export type StopReason = 'completed' | 'deadline' | 'interrupted';

export interface DriveOptions {
  client: FnClient;
  routes: readonly string[];
  calls: number;
  /** Appended to every invoked path, for example `?max=1000&loops=1`. */
  query: string;
  concurrency: number;
  deadlineMs: number;
  directory: NodeDirectory;
  signal: AbortSignal;
  onCall?: (record: CallRecord) => void;
}

export interface DriveResult {
  /** In call order; shorter than `calls` when the run stopped early. */
  records: CallRecord[];
  stop: StopReason;
}

const FAILED_BODY_CHARS = 2000;

/** Fixed, so two runs with the same flags make the same calls in the same order. */
const PLAN_SEED = 0x5eed;

/**
 * The route index of each call: every route gets calls/routes calls (the first calls%routes one
 * more), in a seeded shuffle. Not simply i mod routes: with that order a round-robin balancer over
 * k nodes sends every call of a route to the same node whenever k divides the number of routes
 * (100 calls, 50 routes, 5 nodes), and the broken balancer would look perfectly sticky.
 */
export function callPlan(routes: number, calls: number, seed = PLAN_SEED): number[] {
  const plan = Array.from({ length: calls }, (_, i) => i % routes);
  const next = seededRandom(seed);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [plan[i], plan[j]] = [plan[j] as number, plan[i] as number];
  }
  return plan;
}

export function toRecord(
  index: number,
  route: string,
  execution: Execution,
  directory: NodeDirectory,
): CallRecord {
  return {
    index,
    route,
    node: directory.attribute(execution) ?? null,
    ok: execution.ok,
    status: execution.status ?? null,
    error: execution.error ?? null,
    cold: execution.cold,
    responseSeconds: execution.responseSeconds,
    durationSeconds: execution.durationSeconds ?? null,
    body: execution.ok ? null : execution.body.slice(0, FAILED_BODY_CHARS),
  };
}

export async function drive(options: DriveOptions): Promise<DriveResult> {
  const deadline = performance.now() + options.deadlineMs;
  const records: CallRecord[] = [];
  const plan = callPlan(options.routes.length, options.calls);
  let next = 0;
  let stop: StopReason = 'completed';
  const worker = async () => {
    while (next < options.calls) {
      if (options.signal.aborted) {
        stop = 'interrupted';
        return;
      }
      if (performance.now() >= deadline) {
        if (stop === 'completed') stop = 'deadline';
        return;
      }
      const index = next++;
      const route = options.routes[plan[index] as number] as string;
      const execution = await execute(options.client, route, options.query);
      const record = toRecord(index, route, execution, options.directory);
      records.push(record);
      options.onCall?.(record);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.calls) }, worker));
  records.sort((a, b) => a.index - b.index);
  return { records, stop };
}
