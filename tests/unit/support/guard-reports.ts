// A guard report as a run writes it, built from the guard's real check functions
// (guard/engine/checks.ts) and figures (a timeline from timelineOf, distributions): every verdict, a
// failed and an undecided check, a bound set by a variable, a ratio, a measure JSON writes as null,
// a skip reason, and text that holds markup wherever a report carries text (node names, reasons,
// context, settings, event labels). For the HTML report's unit tests and its test in a real browser.
import {
  atMost,
  balanceChecks,
  type Check,
  failoverChecks,
  gracefulStopChecks,
  herdChecks,
  membershipAddChecks,
  stickinessChecks,
} from '../../../guard/engine/checks.js';
import { type Figures, timelineOf } from '../../../guard/report/figures.js';
import { settingsOfRun } from '../../../guard/report/provenance.js';
import {
  type GuardReport,
  overallVerdict,
  REPORT_SCHEMA,
  type ReportedTest,
} from '../../../guard/report/report.js';
import { resolveSettings } from '../../../guard/settings/resolve.js';

/** Markup a report's text may carry: it must reach the page as text, never as an element. */
export const HOSTILE = `<img src="http://127.0.0.1:9/x.png" onerror="alert('&')">`;

export const NODES = ['127.0.0.1:8082', '127.0.0.1:8083', '127.0.0.1:8084', `${HOSTILE}:8085`];

const { settings } = resolveSettings({ env: { FNG_STICKY_MAX_NODES: '2', FNLB_ARGS: HOSTILE } });
const { bounds } = settings;

function test(
  property: ReportedTest['property'],
  name: string,
  checks: Check[],
  more: Partial<ReportedTest> = {},
): ReportedTest {
  return {
    property,
    title: property,
    implicates: 'balancer',
    test: name,
    verdict: checks.every((check) => check.ok) ? 'pass' : 'fail',
    checks,
    context: [],
    ...more,
  };
}

/**
 * A load of 10 calls a second to every node for 12 s; the last node is killed at 3 s, its calls fail
 * until the balancer marks it down at 4.5 s, it is started again at 8 s; one call answered with no
 * node named.
 */
export function failoverTimeline(): NonNullable<Figures['timeline']> {
  const killed = NODES[3];
  const calls = Array.from({ length: 480 }, (_, index) => {
    const startedAt = 1_000_000 + index * 25;
    const node = NODES[index % NODES.length];
    const at = startedAt - 1_000_000;
    const down = node === killed && at >= 3000 && at < 8000;
    return {
      startedAt,
      node: index === 7 ? null : down && at >= 4500 ? NODES[0] : node,
      ok: !(down && at < 4500),
    };
  });
  return timelineOf(NODES, calls, [
    { at: 1_003_000, label: `SIGKILL ${killed}` },
    { at: 1_004_500, label: 'marked down' },
    { at: 1_008_000, label: 'started again' },
    { at: 1_008_100, label: 'back in the ring' },
  ]);
}

/** Tests of every kind a run reports. */
export function sampleTests(): ReportedTest[] {
  const timeline = failoverTimeline();
  const failed = timeline.calls.filter(([, , ok]) => ok === 0).length;
  const lost = '3 containers were gone before the engine could be asked whose they were';
  const herd = herdChecks(
    bounds,
    {
      [NODES[0] as string]: { received: 50, started: 37, hot: 13, startedAtLeast: lost },
      [NODES[1] as string]: { received: 50, started: 1, hot: 49, startedAtLeast: lost },
    },
    100,
  );
  return [
    test('sticky', 'stay on one node', stickinessChecks(bounds, { [NODES[1] as string]: 100 }, 100)),
    test(
      'balance',
      'spreads 500 routes',
      balanceChecks(bounds, {
        routes: 500,
        nodesPerRoute: [1, 1, 2, 1],
        loadPerNode: { [NODES[0] as string]: 900, [NODES[1] as string]: 500, [NODES[2] as string]: 600 },
        calls: 2000,
      }),
      {
        figures: {
          distributions: [
            {
              title: 'routes per node',
              unit: 'routes',
              counts: {
                [NODES[0] as string]: 225,
                [NODES[1] as string]: 125,
                [NODES[2] as string]: 150,
                [NODES[3] as string]: 0,
              },
            },
            { title: 'nodes per route', unit: 'routes', counts: { '1 node': 499, '2 nodes': 1 } },
          ],
        },
      },
    ),
    test(
      'balance',
      'no node served',
      balanceChecks(bounds, {
        routes: 1,
        nodesPerRoute: [],
        loadPerNode: { [NODES[0] as string]: 0 },
        calls: 4,
      }),
    ),
    test('herd', 'queues a cold burst', herd, { implicates: 'node' }),
    test(
      'failover',
      'a killed node costs its calls in flight',
      failoverChecks(bounds, {
        failed,
        inFlightOnKilledNode: 16,
        failedAfterMarkedDown: 0,
      }),
      {
        context: [
          `calls per node: ${JSON.stringify({ [NODES[3] as string]: 30 })}`,
          'a line & another <one>',
        ],
        figures: { timeline },
      },
    ),
    test(
      'graceful-stop',
      'a stopped node costs no call',
      gracefulStopChecks(bounds, { failed: 0, servedByStopped: 0 }),
      {
        verdict: 'skipped',
        reason: `no stop command for ${HOSTILE}`,
      },
    ),
    test('membership', 'a 6th node takes its share', membershipAddChecks(bounds, 166, 1000)),
    test('sticky', 'spellings', [atMost('path spellings that failed', 1, bounds.stickyMaxNodes)]),
  ];
}

/** A run that judged, as fnlb-guard.json holds it. */
export function sampleReport(): GuardReport {
  const tests = sampleTests();
  return {
    schema: REPORT_SCHEMA,
    startedAt: '2026-12-01T00:00:00.000Z',
    finishedAt: '2026-12-01T00:06:12.000Z',
    guard: { name: 'fnlb-guard', version: '9.9.9', commit: 'c0ffee' },
    commit: 'abc123',
    commitOf: `GITHUB_SHA ${HOSTILE}`,
    settings: settingsOfRun(settings),
    baseline: { path: 'baseline/fnlb-guard.json', startedAt: '2026-11-30T00:00:00.000Z', commit: 'feed' },
    topology: {
      kind: 'processes',
      lbUrl: 'http://127.0.0.1:8081',
      nodes: NODES,
      balancer: { label: `fnlb ${HOSTILE}`, hcIntervalS: 1, upstreamTimeoutS: 20 },
      nodeBuild: 'fn-node',
      capabilities: { mgmtApi: true, kill: true, stop: false } as NonNullable<
        GuardReport['topology']
      >['capabilities'],
      missing: { stop: `no stop command for ${HOSTILE}` },
    },
    tests,
    verdict: overallVerdict(tests),
  };
}
