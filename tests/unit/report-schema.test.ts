// fnlb-guard.json's JSON Schema (guard/report/fnlb-guard-report.schema.json) against the reports the
// guard's own code writes: a run that judged, with its provenance, and a run whose setup failed. A
// field the schema does not know is refused, so the schema cannot fall behind the report silently.
// (tests/integration/guard-cli.test.ts holds a real run's report to it too.)
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { atMost, required } from '../../guard/engine/checks.js';
import { provenanceOfRun } from '../../guard/report/provenance.js';
import {
  type GuardReport,
  overallVerdict,
  REPORT_SCHEMA,
  type ReportedTest,
} from '../../guard/report/report.js';
import { setupFailureReport } from '../../guard/report/setup-failure.js';
import { resolveSettings } from '../../guard/settings/resolve.js';
import { reportProblems } from '../integration/support/report-schema.js';

const { settings } = resolveSettings({ env: { GITHUB_SHA: 'feedbeef', FNLB_MGMT_TOKEN: 'secret' } });
const times = { startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:01:00.000Z' };

const judged: ReportedTest = {
  property: 'sticky',
  title: 'stickiness',
  implicates: 'balancer',
  test: 'stay on one node',
  verdict: 'fail',
  checks: [atMost('nodes serving the route', 2, required(1, 'one node'))],
  context: ['calls per node: {"a":50,"b":50}'],
};

function judgedReport(): GuardReport {
  return {
    schema: REPORT_SCHEMA,
    ...times,
    ...provenanceOfRun(settings, tmpdir()),
    topology: {
      kind: 'processes',
      lbUrl: 'http://127.0.0.1:1',
      nodes: ['127.0.0.1:2'],
      balancer: { label: 'fnlb (this project)', hcIntervalS: 1, upstreamTimeoutS: 20 },
      nodeBuild: 'fn-node',
      capabilities: { mgmtApi: true, kill: false } as NonNullable<GuardReport['topology']>['capabilities'],
      missing: { kill: 'not here' },
    },
    tests: [judged],
    verdict: overallVerdict([judged]),
  };
}

describe("fnlb-guard.json's schema", () => {
  it('takes the report of a run that judged, provenance and settings included', () => {
    expect(reportProblems(JSON.parse(JSON.stringify(judgedReport())))).toEqual([]);
  });

  it('takes the report of a run whose setup failed', () => {
    const failure = {
      role: 'balancer',
      address: '127.0.0.1:1',
      step: 'checking that it answers',
      message: 'refused',
    } as const;
    const report = setupFailureReport(failure, times, provenanceOfRun(settings, tmpdir()));
    expect(reportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
  });

  it('refuses a field it does not know and a verdict that is not one', () => {
    const report = { ...judgedReport(), surprise: 1, verdict: 'maybe' };
    const problems = reportProblems(JSON.parse(JSON.stringify(report)));
    expect(problems.some((line) => line.includes('additional properties'))).toBe(true);
    expect(problems.some((line) => line.startsWith('/verdict'))).toBe(true);
  });
});
