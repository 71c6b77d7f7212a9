// The guard's Vitest reporter: turns the checks each guard test recorded in its task meta (never the
// console output) into the run's verdicts: a line per property file as it ends, and at the end of the
// run a table, <reports>/fnlb-guard.json (report.ts), <reports>/fnlb-guard.html (html.ts: the same
// report for a person, with each test's figures), <reports>/junit.xml (Vitest's JUnit report of every
// test of the run, for CI systems that read it) and, when the summary setting names a file (GitHub's
// job summary), the table in Markdown appended to it. The settings are the run's, as its setup handed
// them to the property files; a run without property files writes nothing. A property test is pass,
// fail, or skipped with its reason; a test that failed before it judged anything (a setup error) is a
// fail with that error.
import { basename, join } from 'node:path';
import type { ProvidedContext } from 'vitest';
import {
  JUnitReporter,
  type Reporter,
  type TestCase,
  type TestModule,
  type TestSpecification,
  type TestSuite,
  type Vitest,
} from 'vitest/node';
import { PROPERTIES, type PropertyId } from '../catalogue.js';
import { failedChecks } from '../engine/checks.js';
import type { GuardMeta } from '../engine/property.js';
import '../run/context.js';
import { JUNIT_FILE } from '../run/report-files.js';
import { progressLine } from './progress.js';
import { provenanceOfRun } from './provenance.js';
import {
  type GuardReport,
  overallVerdict,
  REPORT_SCHEMA,
  type ReportedTest,
  verdictTable,
} from './report.js';
import { writeReports } from './write.js';

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
    ...(meta?.figures ? { figures: meta.figures } : {}),
  };
  switch (result.state) {
    case 'passed':
      return { ...base, verdict: 'pass' };
    case 'failed': {
      const failedCheck = failedChecks(base.checks).length > 0;
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

/** A property file's tests as reported, plus a failed entry when its teardown failed after them. */
function moduleTests(module: TestModule, property: PropertyId): ReportedTest[] {
  const reported = [...module.children.allTests()].flatMap((test) => reportTest(test, property) ?? []);
  // A hook that failed after the tests ran (the file's teardown): the run is not clean either.
  const moduleError = module.errors()[0]?.message?.split('\n')[0];
  if (moduleError !== undefined && !reported.some((test) => test.verdict === 'fail')) {
    reported.push({
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
  return reported;
}

export default class GuardReporter implements Reporter {
  #vitest: Vitest | undefined;
  readonly #startedAt = new Date().toISOString();
  /** The properties this run is to judge, and those it has, for the progress line. */
  #planned: PropertyId[] = [];
  readonly #done: PropertyId[] = [];
  #runStart = Date.now();

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.#runStart = Date.now();
    this.#planned = specifications.flatMap((spec) => propertyOfFile(spec.moduleId) ?? []);
  }

  onTestModuleEnd(module: TestModule): void {
    const property = propertyOfFile(module.moduleId);
    if (property === undefined) return;
    const tests = moduleTests(module, property);
    const verdict = overallVerdict(tests);
    const counts = (['pass', 'fail', 'skipped'] as const)
      .map((kind) => `${tests.filter((test) => test.verdict === kind).length} ${kind}`)
      .join(', ');
    this.#done.push(property);
    const planned = this.#planned.includes(property) ? this.#planned : [...this.#planned, property];
    const elapsedS = (Date.now() - this.#runStart) / 1000;
    const scale = this.#provided().guardSettings?.scale;
    const line = progressLine(property, `${verdict} (${counts})`, this.#done, planned, elapsedS, scale);
    process.stdout.write(`[fnlb-guard] ${line}\n`);
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    const tests: ReportedTest[] = [];
    for (const module of testModules) {
      const property = propertyOfFile(module.moduleId);
      if (property !== undefined) tests.push(...moduleTests(module, property));
    }
    const { topology, guardSettings: settings } = this.#provided();
    // No settings: the guard's setup never ran (a run of other projects, or one it refused to start).
    if (tests.length === 0 || settings === undefined) return;
    const report: GuardReport = {
      schema: REPORT_SCHEMA,
      startedAt: this.#startedAt,
      finishedAt: new Date().toISOString(),
      ...provenanceOfRun(settings, process.cwd()),
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
    const written = writeReports(settings, report);
    process.stdout.write(`\n${verdictTable(report)}\nreport: ${written.json}\nhtml: ${written.html}\n`);
    // Vitest's own JUnit reporter, started only now: as a reporter of its own it would open (and
    // empty) its file when any run starts, a unit run too.
    if (this.#vitest !== undefined) {
      const junit = new JUnitReporter({ outputFile: join(settings.reports, JUNIT_FILE) });
      await junit.onInit(this.#vitest);
      await junit.onTestRunEnd(testModules);
    }
  }

  /** What the guard's setup handed its project: the run's settings and the topology. */
  #provided(): Partial<ProvidedContext> {
    for (const project of this.#vitest?.projects ?? []) {
      const provided: Partial<ProvidedContext> = project.getProvidedContext();
      if (provided.guardSettings) return provided;
    }
    return {};
  }
}
