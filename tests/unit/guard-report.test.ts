// The guard's report renderings and its baseline comparison, on reports built from real checks
// (guard/engine/checks.ts): a baseline holding a better value fails exactly the check it measured better,
// per-node checks are compared by their worst node whatever the nodes are called, timings only when
// asked, and a file that is not a report, or a run at another scale, is refused naming it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baselineChecks, parseBaseline, readBaseline } from '../../guard/engine/baseline.js';
import { atLeast, atMost, type Check, required, stickinessChecks } from '../../guard/engine/checks.js';
import { commitOfRun, provenanceOfRun, settingsOfRun } from '../../guard/report/provenance.js';
import {
  type GuardReport,
  markdownSummary,
  overallVerdict,
  REPORT_SCHEMA,
  type ReportedTest,
  verdictTable,
} from '../../guard/report/report.js';
import { resolveSettings } from '../../guard/settings/resolve.js';
import { PACKAGE } from '../../src/common/package-root.js';

/** The table's bounds, as a run that sets none has them. */
const { bounds } = resolveSettings().settings;

function reported(property: ReportedTest['property'], test: string, checks: Check[]): ReportedTest {
  return {
    property,
    title: property,
    implicates: 'balancer',
    test,
    verdict: checks.every((check) => check.ok) ? 'pass' : 'fail',
    checks,
    context: [],
  };
}

function report(tests: ReportedTest[]): GuardReport {
  return {
    schema: REPORT_SCHEMA,
    startedAt: '2026-12-01T00:00:00.000Z',
    finishedAt: '2026-12-01T00:01:00.000Z',
    guard: { name: 'fnlb-guard', version: '9.9.9', commit: null },
    commit: 'abc123',
    commitOf: 'GITHUB_SHA',
    baseline: null,
    topology: null,
    tests,
    verdict: overallVerdict(tests),
  };
}

const STICKY = 'reaches one node';

describe('guard report', () => {
  it('decides a row by a check that failed for certain and writes a lower bound as one', () => {
    const lost = '3 containers were gone before the engine could be asked whose they were';
    const undecidedMinimum = {
      ...atLeast('containers started on a:1', 2, required(10, 'scale out')),
      atLeast: lost,
    };
    const exceededMaximum = {
      ...atMost('containers started on b:1', 37, bounds.stampedeMaxPerNode),
      atLeast: lost,
    };
    const table = verdictTable(report([reported('herd', 'queues', [undecidedMinimum, exceededMaximum])]));
    expect(table).toContain('containers started on b:1: at least 37 <= 3');
    expect(table).not.toContain('a:1');
  });

  it('renders each test with its deciding check beside its bound, in text and Markdown', () => {
    const passing = reported('sticky', STICKY, stickinessChecks(bounds, { 'a:1': 100 }, 100));
    const failing = reported('balance', 'spreads', [
      atMost('busiest node over the mean', 2.5, bounds.balanceMaxOverMean),
    ]);
    const skipped: ReportedTest = {
      ...passing,
      property: 'failover',
      verdict: 'skipped',
      reason: 'needs kill',
      checks: [],
    };
    const built = report([passing, failing, skipped]);
    expect(built.verdict).toBe('fail');
    const text = verdictTable(built);
    expect(text).toContain('guard verdict: fail');
    expect(text).toMatch(/pass\s+sticky\s+balancer\s+nodes serving the route: 1 <= 1/);
    expect(text).toMatch(/FAIL\s+balance\s+balancer\s+busiest node over the mean: 2\.500 <= 1\.500/);
    expect(text).toMatch(/skip\s+failover\s+balancer\s+needs kill/);
    const markdown = markdownSummary(built);
    expect(markdown).toContain('### fnlb-guard: fail');
    expect(markdown).toContain(
      '| FAIL | balance | balancer | busiest node over the mean | 2.500 | <= 1.500 |',
    );
    expect(markdown).toContain('fnlb-guard 9.9.9; run for commit abc123 (GITHUB_SHA)');
  });

  it('marks a bound an environment variable set', () => {
    const check = atMost('nodes serving the route', 2, {
      ...bounds.stickyMaxNodes,
      value: 2,
      overridden: true,
    });
    const text = verdictTable(report([reported('sticky', STICKY, [check])]));
    expect(text).toContain('2 <= 2 (set by FNG_STICKY_MAX_NODES)');
  });
});

describe('baseline comparison', () => {
  const baselineOf = (tests: ReportedTest[]) => parseBaseline('base.json', JSON.stringify(report(tests)));

  it('fails a check the baseline measured better by more than its tolerance, inside the absolute bound', () => {
    const bound2 = { ...bounds.stickyMaxNodes, value: 2, overridden: true };
    const baseline = baselineOf([reported('sticky', STICKY, [atMost('nodes serving the route', 1, bound2)])]);
    const now = [atMost('nodes serving the route', 2, bound2)];
    expect(now[0]?.ok).toBe(true);
    const compared = baselineChecks(baseline, 'sticky', STICKY, now, false);
    expect(compared).toHaveLength(1);
    expect(compared[0]).toMatchObject({ ok: false, measured: 2, bound: 1, op: '<=' });
    expect(compared[0]?.reason).toContain('base.json');
    // The same value as the baseline's passes; so does a better one.
    expect(
      baselineChecks(baseline, 'sticky', STICKY, [atMost('nodes serving the route', 1, bound2)], false)[0]
        ?.ok,
    ).toBe(true);
  });

  it('holds a later run to no lower bound, nor to anything a skipped test measured', () => {
    const lost = '2 containers were gone before the engine could be asked whose they were';
    const lower = { ...atMost('containers started on a:1', 2, bounds.stampedeMaxPerNode), atLeast: lost };
    const skipped: ReportedTest = {
      ...reported('herd', 'queues', [atMost('containers started on b:1', 1, bounds.stampedeMaxPerNode)]),
      verdict: 'skipped',
      reason: lost,
    };
    const baseline = baselineOf([reported('scale-out', 'scales', [lower]), skipped]);
    expect(baseline.measures.size).toBe(0);
  });

  it('allows the tolerance, in the direction of the bound', () => {
    const share = bounds.balanceMinNodeShare;
    const baseline = baselineOf([reported('balance', 'spreads', [atLeast('idlest node share', 0.9, share)])]);
    const within = baselineChecks(
      baseline,
      'balance',
      'spreads',
      [atLeast('idlest node share', 0.9 - share.tolerance + 0.001, share)],
      false,
    );
    const beyond = baselineChecks(
      baseline,
      'balance',
      'spreads',
      [atLeast('idlest node share', 0.9 - share.tolerance - 0.001, share)],
      false,
    );
    expect(within[0]?.ok).toBe(true);
    expect(beyond[0]?.ok).toBe(false);
  });

  it('compares per-node checks by their worst node, whatever the nodes are called', () => {
    const bound = bounds.hotMaxContainers;
    const baseline = baselineOf([
      reported('hot-reuse', 'reuses', [
        atMost('containers started on 127.0.0.1:4001', 1, bound),
        atMost('containers started on 127.0.0.1:4002', 1, bound),
      ]),
    ]);
    const now = [
      atMost('containers started on 10.0.0.7:8080', 1, { ...bound, value: 5 }),
      atMost('containers started on 10.0.0.8:8080', 3, { ...bound, value: 5 }),
    ];
    const compared = baselineChecks(baseline, 'hot-reuse', 'reuses', now, false);
    expect(compared).toHaveLength(1);
    expect(compared[0]).toMatchObject({
      name: 'containers started on <node> against the baseline',
      measured: 3,
      ok: false,
    });
  });

  it('compares timings only when asked, and never a bound the test set itself', () => {
    const recovery = bounds.recoveryMaxIntervals;
    const baseline = baselineOf([
      reported('recovery', 'comes back', [
        atMost('intervals until routed again', 1, recovery),
        atLeast('calls succeeded', 10, required(10, 'every call')),
      ]),
    ]);
    const now = [
      atMost('intervals until routed again', 3, recovery),
      atLeast('calls succeeded', 5, required(5, 'every call')),
    ];
    expect(baselineChecks(baseline, 'recovery', 'comes back', now, false)).toEqual([]);
    const timed = baselineChecks(baseline, 'recovery', 'comes back', now, true);
    expect(timed.map((check) => check.name)).toEqual(['intervals until routed again against the baseline']);
    expect(timed[0]?.ok).toBe(false);
  });

  it("compares the balancer's added latency by default: milliseconds added fail within the absolute bound", () => {
    const added = (ms: number) => atMost('ms added to the median call at 1 caller', ms, bounds.overheadP50Ms);
    const baseline = baselineOf([reported('overhead', 'adds little', [added(0.4)])]);
    const slower = baselineChecks(baseline, 'overhead', 'adds little', [added(1.4)], false);
    expect(added(1.4).ok, 'within the absolute bound').toBe(true);
    expect(slower).toHaveLength(1);
    expect(slower[0]).toMatchObject({ ok: false, bound: 0.4 + bounds.overheadP50Ms.tolerance });
    expect(baselineChecks(baseline, 'overhead', 'adds little', [added(0.7)], false)[0]?.ok).toBe(true);
  });

  it('compares only runs of the same scale: a quick baseline is refused by a full run, and the other way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fnlb-guard-baseline-'));
    try {
      const quickSettings = settingsOfRun(resolveSettings({ env: { FNG_SCALE: 'quick' } }).settings);
      const quick = join(dir, 'quick.json');
      writeFileSync(quick, JSON.stringify({ ...report([]), settings: quickSettings }));
      expect(readBaseline(quick, 'quick').scale).toBe('quick');
      expect(() => readBaseline(quick, 'full')).toThrow(
        `baseline ${quick}: it ran at scale quick and this run is full`,
      );
      // A report that names no scale is from before there was one: every run then was full.
      const older = join(dir, 'older.json');
      writeFileSync(older, JSON.stringify(report([])));
      expect(readBaseline(older, 'full').scale).toBe('full');
      expect(() => readBaseline(older, 'quick')).toThrow(/it ran at scale full and this run is quick/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not a report, naming it', () => {
    expect(() => parseBaseline('x.json', 'not json')).toThrow(/baseline x\.json: not JSON/);
    expect(() => parseBaseline('x.json', '{"tests":[]}')).toThrow(
      /baseline x\.json: not an fnlb-guard report/,
    );
    expect(() => parseBaseline('x.json', '{"schema":"fnguard-report/2"}')).toThrow(/no "tests" array/);
  });
});

describe("the report's provenance", () => {
  it('names the guard by its version, apart from the commit the run was for, and where that came from', () => {
    const { settings } = resolveSettings({ env: { GITHUB_SHA: 'feedbeef', FNLB_MGMT_TOKEN: 's3cret' } });
    const provenance = provenanceOfRun(settings, tmpdir());
    expect(provenance.guard).toMatchObject({ name: 'fnlb-guard', version: PACKAGE.version });
    expect(provenance).toMatchObject({ commit: 'feedbeef', commitOf: 'GITHUB_SHA' });
    expect(provenance.settings?.mgmtToken, 'a secret is said to be set, never shown').toEqual({
      value: '(set, not shown)',
      from: 'FNLB_MGMT_TOKEN',
    });
    expect(provenance.settings?.stickyMaxNodes).toEqual({ value: 1, from: 'default' });
  });

  it("shows no password of a URL and no secret-named variable of the nodes' environment", () => {
    const { settings } = resolveSettings({
      env: {
        FN_TEST_DB_URL: 'postgres://fn:hunter2@db:5432/fn',
        FN_NODE_ENV: 'DB_URL=postgres://a:b@c/d FN_API_TOKEN=t0ken LOG_LEVEL=info',
      },
    });
    const shown = JSON.stringify(provenanceOfRun(settings, tmpdir()).settings);
    expect(shown).not.toMatch(/hunter2|t0ken|a:b@/);
    expect(shown).toContain('postgres://fn:***@db:5432/fn');
    expect(shown).toContain('LOG_LEVEL=info');
  });

  it('has no commit to name outside a checkout when no setting names one', () => {
    const { settings } = resolveSettings({ env: {} });
    expect(commitOfRun(settings, tmpdir())).toEqual({ commit: null, commitOf: null });
  });
});
