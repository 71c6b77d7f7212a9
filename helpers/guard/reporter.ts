// The guard's Vitest reporter: turns the checks each guard test recorded in its task meta (never the
// console output) into the run's verdicts: a table at the end of the run and reports/fnguard.json
// (schema below; the directory is FNG_REPORTS, default `reports`). A property test is pass, fail, or
// skipped with its reason; a test that failed before it judged anything (a setup error) is a fail
// with that error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';
import type { Check } from '../checks.js';
import type { TopologyInfo } from '../topology/types.js';
import type { GuardMeta } from './guard.js';
import { type Component, PROPERTIES, type PropertyId } from './properties.js';

export const REPORT_SCHEMA = 'fnguard-report/1';

export type Verdict = 'pass' | 'fail' | 'skipped';

export interface ReportedTest {
  property: PropertyId;
  title: string;
  implicates: Component;
  test: string;
  verdict: Verdict;
  /** Why it was skipped, or the error of a test that failed without a failed check. */
  reason?: string;
  checks: Check[];
  context: string[];
}

export interface GuardReport {
  schema: typeof REPORT_SCHEMA;
  startedAt: string;
  finishedAt: string;
  topology: Pick<
    TopologyInfo,
    'kind' | 'lbUrl' | 'nodes' | 'balancer' | 'nodeBuild' | 'capabilities' | 'missing'
  > | null;
  tests: ReportedTest[];
  /** fail when any test failed, pass when at least one passed and none failed, else skipped. */
  verdict: Verdict;
}

function propertyOfFile(moduleId: string): PropertyId | undefined {
  if (!/[\\/]tests[\\/]guard[\\/]/.test(moduleId)) return undefined;
  const id = basename(moduleId).replace(/\.test\.ts$/, '');
  return id in PROPERTIES ? (id as PropertyId) : undefined;
}

/** The first error of a hook of the test's suites or file (a failed beforeAll skips the tests). */
function hookError(test: TestCase): string | undefined {
  for (let entity: TestSuite | TestModule = test.parent; ; entity = entity.parent) {
    const message = entity.errors()[0]?.message;
    if (message !== undefined) return message.split('\n')[0];
    if (entity.type === 'module') return undefined;
  }
}

function reportTest(test: TestCase, property: PropertyId): ReportedTest | undefined {
  const meta = test.meta().guard as GuardMeta | undefined;
  const result = test.result();
  const base = {
    property,
    title: PROPERTIES[property].title,
    implicates: meta?.implicates ?? PROPERTIES[property].implicates,
    test: test.name,
    checks: meta?.checks ?? [],
    context: meta?.context ?? [],
  };
  switch (result.state) {
    case 'passed':
      return { ...base, verdict: 'pass' };
    case 'failed': {
      const failedCheck = base.checks.some((check) => !check.ok);
      const error = result.errors[0]?.message?.split('\n')[0];
      return { ...base, verdict: 'fail', ...(failedCheck || !error ? {} : { reason: error }) };
    }
    case 'skipped': {
      // Skipped by the guard (a need not met), or because the file's setup failed: that is a failure.
      const setupError = meta?.skipped === undefined ? hookError(test) : undefined;
      if (setupError !== undefined)
        return { ...base, verdict: 'fail', reason: `the file's setup failed: ${setupError}` };
      return {
        ...base,
        verdict: 'skipped',
        reason: meta?.skipped ?? result.note ?? 'not selected in this run',
      };
    }
    default:
      return undefined;
  }
}

export function overallVerdict(tests: readonly ReportedTest[]): Verdict {
  if (tests.some((test) => test.verdict === 'fail')) return 'fail';
  return tests.some((test) => test.verdict === 'pass') ? 'pass' : 'skipped';
}

function cell(test: ReportedTest): string {
  const failing = test.checks.find((check) => !check.ok) ?? test.checks[0];
  if (failing === undefined) return test.reason ?? '';
  const measured = Number.isInteger(failing.measured)
    ? String(failing.measured)
    : failing.measured.toFixed(3);
  const bound = Number.isInteger(failing.bound) ? String(failing.bound) : failing.bound.toFixed(3);
  const overridden = failing.overriddenBy ? ` (${failing.overriddenBy})` : '';
  return `${failing.name}: ${measured} ${failing.op} ${bound}${overridden}`;
}

/** The end-of-run table: one line per property test. */
export function verdictTable(report: GuardReport): string {
  const rows = report.tests.map((test) => [
    test.verdict === 'pass' ? 'pass' : test.verdict === 'fail' ? 'FAIL' : 'skip',
    test.property,
    test.implicates,
    test.verdict === 'skipped' ? (test.reason ?? '') : cell(test),
  ]);
  const widths = [4, Math.max(8, ...rows.map((row) => row[1]?.length ?? 0)), 8];
  const lines = rows.map((row) =>
    row.map((text, index) => (index < widths.length ? text.padEnd(widths[index] ?? 0) : text)).join('  '),
  );
  return [`guard verdict: ${report.verdict}`, ...lines].join('\n');
}

export default class GuardReporter implements Reporter {
  #vitest: Vitest | undefined;
  readonly #startedAt = new Date().toISOString();

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const tests: ReportedTest[] = [];
    for (const module of testModules) {
      const property = propertyOfFile(module.moduleId);
      if (property === undefined) continue;
      const reported = [...module.children.allTests()].flatMap((test) => reportTest(test, property) ?? []);
      tests.push(...reported);
      // A hook that failed after the tests ran (the file's teardown): the run is not clean either.
      const moduleError = module.errors()[0]?.message?.split('\n')[0];
      if (moduleError !== undefined && !reported.some((test) => test.verdict === 'fail')) {
        tests.push({
          property,
          title: PROPERTIES[property].title,
          implicates: PROPERTIES[property].implicates,
          test: "the file's hooks",
          verdict: 'fail',
          reason: moduleError,
          checks: [],
          context: [],
        });
      }
    }
    if (tests.length === 0) return;
    const topology = this.#topology();
    const report: GuardReport = {
      schema: REPORT_SCHEMA,
      startedAt: this.#startedAt,
      finishedAt: new Date().toISOString(),
      topology: topology
        ? {
            kind: topology.kind,
            lbUrl: topology.lbUrl,
            nodes: topology.nodes,
            balancer: topology.balancer,
            nodeBuild: topology.nodeBuild,
            capabilities: topology.capabilities,
            missing: topology.missing,
          }
        : null,
      tests,
      verdict: overallVerdict(tests),
    };
    const dir = resolve(process.env.FNG_REPORTS || 'reports');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'fnguard.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${verdictTable(report)}\nreport: ${join(dir, 'fnguard.json')}\n`);
  }

  #topology(): TopologyInfo | undefined {
    for (const project of this.#vitest?.projects ?? []) {
      const provided = project.getProvidedContext() as { topology?: TopologyInfo };
      if (provided.topology) return provided.topology;
    }
    return undefined;
  }
}
