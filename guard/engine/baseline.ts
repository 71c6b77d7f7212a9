// The comparison with a baseline run. The baseline setting names an earlier run's fnlb-guard.json; each
// check of this run that the baseline also measured (same property, test and check) and whose kind is
// compared (counts and ratios; timings too with baselineTimings) gets a second check beside it: no
// worse than the baseline's value by more than the check's tolerance (settings/table.ts). So a balancer
// whose hot route went from 1 node to 2 fails even inside an absolute bound of 2. Checks named after a
// node (host:port) are compared by their worst node, since node addresses change between runs. Only
// runs of the same scale are compared (workload.ts): a quick run's measures over fewer calls are not
// a full run's.
import { readFileSync } from 'node:fs';
import { withinBound } from '../../src/common/bound-check.js';
import type { Check } from './checks.js';
import type { Scale } from './workload.js';

export interface BaselineMeasure {
  measured: number;
  op: Check['op'];
}

export interface Baseline {
  path: string;
  /** When the baseline run started and which commit it ran, as its report says. */
  startedAt: string | null;
  commit: string | null;
  /** The scale the baseline ran at: full for reports that name none (every run was full before). */
  scale: string;
  measures: Map<string, BaselineMeasure>;
}

const NODE_NAME = /[A-Za-z0-9_.-]+:\d{1,5}\b/g;
const MAX_BASELINE_BYTES = 16 * 1024 * 1024;

function measureName(check: Pick<Check, 'name'>): string {
  return check.name.replace(NODE_NAME, '<node>');
}

function measureKey(property: string, test: string, name: string): string {
  return `${property}\u0000${test}\u0000${name}`;
}

/** The worse of two values under a bound of this direction. */
function worse(op: Check['op'], a: number, b: number): number {
  return op === '<=' ? Math.max(a, b) : Math.min(a, b);
}

/** Whether a check is compared with a baseline at all. */
function compared(check: Pick<Check, 'kind'>, timings: boolean): boolean {
  return (
    check.kind === 'count' ||
    check.kind === 'ratio' ||
    check.kind === 'latency' ||
    (check.kind === 'timing' && timings)
  );
}

interface ReportShape {
  schema?: unknown;
  startedAt?: unknown;
  commit?: unknown;
  settings?: { scale?: { value?: unknown } };
  tests?: Array<{ property?: unknown; test?: unknown; verdict?: unknown; checks?: Array<Partial<Check>> }>;
}

/** Reads a report written by an earlier run; throws naming the file and what is wrong with it. */
export function parseBaseline(path: string, text: string): Baseline {
  let report: ReportShape;
  try {
    report = JSON.parse(text) as ReportShape;
  } catch (error) {
    throw new Error(`baseline ${path}: not JSON (${(error as Error).message})`);
  }
  if (typeof report?.schema !== 'string' || !report.schema.startsWith('fnguard-report/')) {
    throw new Error(`baseline ${path}: not an fnlb-guard report (no "schema": "fnguard-report/N")`);
  }
  if (!Array.isArray(report.tests)) throw new Error(`baseline ${path}: no "tests" array`);
  const measures = new Map<string, BaselineMeasure>();
  for (const test of report.tests) {
    if (typeof test?.property !== 'string' || typeof test.test !== 'string') continue;
    // A skipped test's checks decided nothing (a lower bound left it open): no baseline for them.
    if (test.verdict === 'skipped') continue;
    for (const check of Array.isArray(test.checks) ? test.checks : []) {
      const { name, measured, op, kind } = check;
      // A lower bound is not the value a later run may be held to.
      if (check.atLeast !== undefined) continue;
      // Reports before measure kinds (schema 1) say nothing of what may be compared: nothing is.
      if (typeof name !== 'string' || typeof measured !== 'number' || (op !== '<=' && op !== '>=')) continue;
      if (kind === undefined || kind === 'own') continue;
      const key = measureKey(test.property, test.test, measureName({ name }));
      const seen = measures.get(key);
      measures.set(key, { op, measured: seen ? worse(op, seen.measured, measured) : measured });
    }
  }
  return {
    path,
    startedAt: typeof report.startedAt === 'string' ? report.startedAt : null,
    commit: typeof report.commit === 'string' ? report.commit : null,
    scale: typeof report.settings?.scale?.value === 'string' ? report.settings.scale.value : 'full',
    measures,
  };
}

const loaded = new Map<string, Baseline>();

/**
 * The baseline file at `path`, read once per process; throws naming the file and what is wrong,
 * including a baseline run at another scale than `scale`, the run's.
 */
export function readBaseline(path: string, scale?: Scale): Baseline {
  let baseline = loaded.get(path);
  if (baseline === undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`baseline ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    if (text.length > MAX_BASELINE_BYTES) throw new Error(`baseline ${path}: larger than 16 MiB`);
    baseline = parseBaseline(path, text);
    loaded.set(path, baseline);
  }
  if (scale !== undefined && baseline.scale !== scale) {
    throw new Error(
      `baseline ${path}: it ran at scale ${baseline.scale} and this run is ${scale}: measures over other workloads are not comparable (compare with a ${scale} run)`,
    );
  }
  return baseline;
}

/** The checks that compare this test's checks with the baseline's measures of the same ones. */
export function baselineChecks(
  baseline: Baseline,
  property: string,
  test: string,
  checks: readonly Check[],
  timings: boolean,
): Check[] {
  const worst = new Map<string, Check>();
  for (const check of checks) {
    if (!compared(check, timings)) continue;
    const name = measureName(check);
    const seen = worst.get(name);
    if (seen === undefined || worse(check.op, seen.measured, check.measured) !== seen.measured) {
      worst.set(name, check);
    }
  }
  const result: Check[] = [];
  for (const [name, check] of worst) {
    const base = baseline.measures.get(measureKey(property, test, name));
    if (base === undefined || base.op !== check.op) continue;
    const bound = check.op === '<=' ? base.measured + check.tolerance : base.measured - check.tolerance;
    result.push({
      name: `${name} against the baseline`,
      measured: check.measured,
      op: check.op,
      bound,
      reason: `no worse than the baseline run (${baseline.path}: ${base.measured}) by more than its tolerance ${check.tolerance}`,
      kind: 'own',
      tolerance: 0,
      ok: withinBound(check.measured, check.op, bound),
      ...(check.atLeast !== undefined ? { atLeast: check.atLeast } : {}),
    });
  }
  return result;
}
