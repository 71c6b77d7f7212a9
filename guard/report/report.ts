// The guard's report: the versioned shape of reports/fnlb-guard.json (REPORT_SCHEMA; docs/guard.md "Reports"
// documents every field), the overall verdict, and the two renderings of its table: text for the
// console and Markdown for a CI job's summary page. One row per property test: the verdict, the
// property, the component it implicates, and the check that decided it (the first failed one, else the
// first) with its measured value beside its bound, marked when an environment variable set the bound.
// A run whose setup failed (the balancer or a node could not be reached, the probe app was refused,
// the settings contradict each other) judged nothing: its report says `error` and why (setupError),
// and its renderings are that one line.

import type { Component, PropertyId } from '../catalogue.js';
import { boundWithSource, type Check, failedChecks, measuredText } from '../engine/checks.js';
import { HTML_FILE } from '../run/report-files.js';
import type { SetupFailure } from '../topology/setup-error.js';
import type { TopologyInfo } from '../topology/types.js';
import type { Figures } from './figures.js';

/**
 * 2: checks carry `kind` and `tolerance`; the report names its `commit` and `baseline`. A reader of
 * version 1 reads version 2 (fields were only added). Added within 2: the verdict `error` with
 * `setupError`, written by a run whose setup failed (where no report was written before).
 */
export const REPORT_SCHEMA = 'fnguard-report/2';

/** A test's verdict. */
export type Verdict = 'pass' | 'fail' | 'skipped';
/** The run's verdict: a test's, or `error` when the setup failed and nothing was judged. */
export type RunVerdict = Verdict | 'error';

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
  /** What the test measured for a person to look at: a timeline of a faulted load, distributions. */
  figures?: Figures;
}

export interface GuardReport {
  schema: typeof REPORT_SCHEMA;
  startedAt: string;
  finishedAt: string;
  /** The guard that judged: its version, and its commit when it ran from a git checkout. */
  guard?: { name: string; version: string; commit: string | null };
  /**
   * The commit the run was started for, null when unknown: the commit setting (--commit or
   * GITHUB_SHA: under the Action, the caller's repository), else git's HEAD where the run started.
   * `commitOf` says which, so a baseline tells a change of the build under test from the guard's.
   */
  commit: string | null;
  commitOf?: string | null;
  /** The settings in force (bounds included) and where each came from; secrets are not shown. */
  settings?: Record<string, { value: unknown; from: string }>;
  /** The run compared with (FNG_BASELINE), null when none. */
  baseline: { path: string; startedAt: string | null; commit: string | null } | null;
  topology: Pick<
    TopologyInfo,
    'kind' | 'lbUrl' | 'nodes' | 'balancer' | 'nodeBuild' | 'capabilities' | 'missing'
  > | null;
  tests: ReportedTest[];
  /**
   * error when the setup failed (setupError says why; tests is empty), else fail when any test
   * failed, pass when at least one passed and none failed, else skipped.
   */
  verdict: RunVerdict;
  /**
   * Only with the verdict error: who failed (`role`: balancer, node, topology or settings), its
   * `address` (host:port, the topology's kind, or the setting's spelling), the `step` the guard was
   * at, the one-line `message` fnlb-guard printed, and the `cause` the step met, when there was one.
   */
  setupError?: SetupFailure;
}

/** The guard that judged, as the summary names it. */
function guardLine(report: GuardReport): string {
  if (report.guard === undefined) return 'guard version unknown';
  const commit = report.guard.commit ? ` at ${report.guard.commit.slice(0, 12)}` : '';
  return `${report.guard.name} ${report.guard.version}${commit}`;
}

export function overallVerdict(tests: readonly ReportedTest[]): Verdict {
  if (tests.some((test) => test.verdict === 'fail')) return 'fail';
  return tests.some((test) => test.verdict === 'pass') ? 'pass' : 'skipped';
}

/** The check that decided a test: its first failed one, else its first. */
function decidingCheck(test: ReportedTest): Check | undefined {
  return failedChecks(test.checks)[0] ?? test.checks[0];
}

interface Row {
  verdict: string;
  property: string;
  implicates: string;
  check: string;
  measured: string;
  bound: string;
}

function rows(report: GuardReport): Row[] {
  return report.tests.map((test) => {
    // A test that failed with every check passing failed for its reason (an error), not a check.
    const failedCheck = failedChecks(test.checks).length > 0;
    const check =
      test.verdict === 'skipped' || (test.verdict === 'fail' && !failedCheck)
        ? undefined
        : decidingCheck(test);
    return {
      verdict: test.verdict === 'pass' ? 'pass' : test.verdict === 'fail' ? 'FAIL' : 'skip',
      property: test.property,
      implicates: test.implicates,
      check: check?.name ?? test.reason ?? test.test,
      measured: check ? measuredText(check) : '',
      bound: check ? boundWithSource(check) : '',
    };
  });
}

/** The end-of-run table for the console. */
export function verdictTable(report: GuardReport): string {
  if (report.setupError) return `guard verdict: error\n${report.setupError.message}`;
  const lines = rows(report).map((row) => {
    const judged = row.measured === '' ? row.check : `${row.check}: ${row.measured} ${row.bound}`;
    return [row.verdict.padEnd(4), row.property.padEnd(13), row.implicates.padEnd(8), judged].join('  ');
  });
  return [`guard verdict: ${report.verdict}`, ...lines].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The table as Markdown, with what was under test, for $GITHUB_STEP_SUMMARY. */
export function markdownSummary(report: GuardReport): string {
  if (report.setupError) {
    return [
      '### fnlb-guard: error',
      '',
      `Nothing was judged: ${escapeCell(report.setupError.message)}`,
      '',
    ].join('\n');
  }
  const under = report.topology
    ? `balancer **${escapeCell(report.topology.balancer.label)}**, nodes **${escapeCell(report.topology.nodeBuild)}**, topology ${report.topology.kind}`
    : 'no topology (the run did not start one)';
  const lines = [
    `### fnlb-guard: ${report.verdict}`,
    '',
    `${under}; ${guardLine(report)}; run for commit ${report.commit ?? 'unknown'}${report.commitOf ? ` (${escapeCell(report.commitOf)})` : ''}${report.baseline ? `; compared with ${escapeCell(report.baseline.path)} (commit ${report.baseline.commit ?? 'unknown'})` : ''}`,
    '',
    '| verdict | property | implicates | check | measured | bound |',
    '|---|---|---|---|---|---|',
    ...rows(report).map(
      (row) =>
        `| ${row.verdict} | ${row.property} | ${row.implicates} | ${escapeCell(row.check)} | ${row.measured} | ${escapeCell(row.bound)} |`,
    ),
    '',
    `Every check, with the timelines and distributions: open \`${HTML_FILE}\` in the run's reports (the CI artifact).`,
    '',
  ];
  return lines.join('\n');
}
