// fnlb-guard.html: the run's report for a person to look at, written beside fnlb-guard.json from the
// same GuardReport. One self-contained HTML5 page: inline CSS and inline SVG (the project's own
// drawing, src/common/svg.ts), no script, no URL but the SVG namespace's name, which nothing loads
// (its Content-Security-Policy refuses every load besides), so a copy opened from a CI artifact
// fetches nothing. It shows the verdict, the guard
// and the commit judged, what was under test, every check of every test (failed ones first), the
// skip reasons and context lines, each test's figures (a timeline of calls by node with the fault and
// the balancer's reaction, distributions as bars), and the settings in force; a run whose setup
// failed shows that one line. Every text from the report is escaped.
//
// Machine-readable attributes, so a tool (and tests/browser/guard-html.test.ts) can read the numbers
// back and compare them with fnlb-guard.json:
// - `<body data-verdict>`: the run's verdict;
// - every test is a `<tbody class="test" data-property data-test data-verdict>` of the verdict table
//   (its property id, its test name, its verdict, as in the JSON's tests[]);
// - every check is a `<tr class="check" data-check data-ok>` in its test's tbody, `data-check` its index
//   in that test's checks[] (rows are ordered failed first, so the index, not the position, names it),
//   with a `<td data-measured>` and a `<td data-bound>` holding the JSON of the check's `measured` and
//   `bound` exactly as fnlb-guard.json has them (`37`, `0.8333333333333334`, `null`);
// - a test's figures: `<figure data-figure="timeline" data-calls data-failed data-events>` (how many
//   calls, failed calls and moments it draws; in its SVG each call is a `rect.mark`, a failed one
//   `rect.mark.failed`, each moment a `line.event`) and `<figure data-figure="distribution">`, each
//   bar a `rect` with `data-name` and `data-count`.
import { formatMeasure } from '../../src/common/bound-check.js';
import { barRows, escapeXml, stripChart, svgOpen, text } from '../../src/common/svg.js';
import { boundWithSource, type Check, failedChecks, measuredText, undecided } from '../engine/checks.js';
import type { Distribution, Timeline } from './figures.js';
import type { GuardReport, ReportedTest } from './report.js';

/** The lane of calls no node of the timeline served (none named, or a name it does not list). */
const NO_NODE = 'no node named';
const FIGURE_WIDTH = 960;

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 24px auto; max-width: 1200px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
code, pre { font: 12.5px/1.4 ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; white-space: pre-wrap; margin: 4px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; }
th { background: #f3f4f6; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.bound { white-space: nowrap; font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dt { color: #555; }
dd { margin: 0; }
.verdict { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; color: #fff; }
.verdict.pass { background: #1f7a3a; }
.verdict.fail, .verdict.error { background: #c0392b; }
.verdict.skipped { background: #6b7280; }
tbody.test > tr.head > td { border-top: 2px solid #d1d5db; background: #fafafa; }
tr.check.failed { background: #fdecea; }
tr.check.failed .mark { color: #c0392b; font-weight: 700; }
tr.check.undecided .mark { color: #b45309; font-weight: 700; }
.mark { white-space: nowrap; }
.muted { color: #555; }
.setup-error { border: 2px solid #c0392b; background: #fdecea; padding: 12px 16px; border-radius: 6px; }
.setup-error h2 { margin-top: 0; }
.setup-error p.line { font-size: 16px; font-weight: 600; margin: 0 0 8px; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e5e7eb; }
figcaption { color: #555; }
`;

const esc = escapeXml;
/** An attribute value: the text escaped, in double quotes. */
const attr = (value: string) => `"${esc(value)}"`;

function verdictBadge(verdict: string): string {
  return `<span class="verdict ${verdict}">${verdict}</span>`;
}

function dl(entries: ReadonlyArray<[string, string]>): string {
  return `<dl>${entries.map(([term, html]) => `<dt>${esc(term)}</dt><dd>${html}</dd>`).join('')}</dl>`;
}

function runSection(report: GuardReport): string {
  const { guard, topology, baseline } = report;
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  const offered = topology
    ? Object.entries(topology.capabilities)
        .filter(([, has]) => has)
        .map(([name]) => name)
    : [];
  const entries: Array<[string, string]> = [
    [
      'guard',
      guard
        ? `${esc(guard.name)} ${esc(guard.version)}${guard.commit ? ` at <code>${esc(guard.commit)}</code>` : ''}`
        : 'version unknown',
    ],
    [
      'run for commit',
      `${report.commit ? `<code>${esc(report.commit)}</code>` : 'unknown'}${report.commitOf ? ` <span class="muted">(${esc(report.commitOf)})</span>` : ''}`,
    ],
    [
      'started',
      `${esc(report.startedAt)}, finished ${esc(report.finishedAt)}${Number.isFinite(seconds) ? ` (${Math.round(seconds)} s)` : ''}`,
    ],
  ];
  if (topology) {
    entries.push(
      ['topology', `${esc(topology.kind)}, balancer at <code>${esc(topology.lbUrl)}</code>`],
      ['balancer', esc(topology.balancer.label)],
      ['nodes', topology.nodes.map((node) => `<code>${esc(node)}</code>`).join(', ') || 'none'],
      ['node build', esc(topology.nodeBuild)],
      ['offered', offered.length > 0 ? esc(offered.join(', ')) : 'nothing optional'],
      ...Object.entries(topology.missing).map(([name, why]): [string, string] => [
        `missing: ${name}`,
        esc(why),
      ]),
    );
  }
  entries.push([
    'baseline',
    baseline
      ? `<code>${esc(baseline.path)}</code> (started ${esc(baseline.startedAt ?? 'unknown')}, commit ${esc(baseline.commit ?? 'unknown')})`
      : 'none',
  ]);
  return `<h2>The run</h2>${dl(entries)}`;
}

function setupErrorSection(failure: NonNullable<GuardReport['setupError']>): string {
  return [
    '<section class="setup-error">',
    '<h2>The setup failed: nothing was judged</h2>',
    `<p class="line">${esc(failure.message)}</p>`,
    dl([
      ['role', esc(failure.role)],
      ['address', `<code>${esc(failure.address)}</code>`],
      ['step', esc(failure.step)],
      ...(failure.cause === undefined
        ? []
        : [['cause', `<pre>${esc(failure.cause)}</pre>`] as [string, string]]),
    ]),
    '</section>',
  ].join('\n');
}

/** The JSON of a number, as fnlb-guard.json writes it (NaN and infinities as null). */
const json = (value: number) => attr(JSON.stringify(value));

function checkRow(check: Check, index: number): string {
  const failed = failedChecks([check]).length > 0;
  const state = failed ? 'failed' : undecided(check) ? 'undecided' : 'ok';
  const mark = { failed: 'FAIL', undecided: '??', ok: 'ok' }[state];
  const notes = [
    esc(check.reason),
    ...(check.atLeast === undefined
      ? []
      : [`<span class="muted">measured at least: ${esc(check.atLeast)}</span>`]),
  ];
  return [
    `<tr class="check ${state}" data-check="${index}" data-ok="${check.ok}">`,
    `<td class="mark">${mark}</td>`,
    `<td colspan="3">${esc(check.name)}</td>`,
    `<td class="num" data-measured=${json(check.measured)}>${esc(measuredText(check))}</td>`,
    `<td class="bound" data-bound=${json(check.bound)}>${esc(boundWithSource(check))}</td>`,
    `<td>${notes.join('<br>')}</td>`,
    '</tr>',
  ].join('');
}

function testRows(test: ReportedTest, index: number): string {
  const failed = failedChecks(test.checks);
  const ordered = [...failed, ...test.checks.filter((check) => !failed.includes(check))].map((check) =>
    checkRow(check, test.checks.indexOf(check)),
  );
  const drawn = test.figures?.timeline !== undefined || (test.figures?.distributions?.length ?? 0) > 0;
  const head = [
    '<tr class="head">',
    `<td>${verdictBadge(test.verdict)}</td>`,
    `<td><code>${esc(test.property)}</code><br><span class="muted">${esc(test.title)}</span></td>`,
    `<td>${esc(test.implicates)}</td>`,
    `<td colspan="4">${esc(test.test)}${drawn ? ` (<a href="#figures-${index}">figures</a>)` : ''}`,
    test.reason === undefined
      ? ''
      : `<br><strong>${test.verdict === 'skipped' ? 'skipped' : 'failed'}:</strong> ${esc(test.reason)}`,
    '</td></tr>',
  ].join('');
  const context =
    test.context.length === 0
      ? ''
      : `<tr class="context"><td></td><td colspan="6"><details><summary>context (${test.context.length} lines)</summary><pre>${esc(test.context.join('\n'))}</pre></details></td></tr>`;
  return [
    `<tbody class="test" data-property=${attr(test.property)} data-test=${attr(test.test)} data-verdict=${attr(test.verdict)}>`,
    head,
    ...ordered,
    context,
    '</tbody>',
  ].join('\n');
}

function verdictsSection(report: GuardReport): string {
  return [
    '<h2>Verdicts</h2>',
    '<table class="verdicts">',
    '<thead><tr><th>verdict</th><th>property</th><th>implicates</th><th>test / check</th><th>measured</th><th>bound</th><th>reason</th></tr></thead>',
    ...report.tests.map(testRows),
    '</table>',
  ].join('\n');
}

function timelineFigure(timeline: Timeline): string {
  const unnamed = timeline.calls.some(([, node]) => timeline.nodes[node] === undefined);
  const lanes = [...timeline.nodes, ...(unnamed ? [NO_NODE] : [])];
  const failed = timeline.calls.filter(([, , ok]) => ok === 0).length;
  const svg = stripChart(
    {
      title: 'Calls over time, by the node that served them',
      lanes,
      marks: timeline.calls.map(([atMs, node, ok]) => ({
        atS: atMs / 1000,
        lane: timeline.nodes[node] === undefined ? timeline.nodes.length : node,
        failed: ok === 0,
      })),
      events: timeline.events.map((event) => ({ atS: event.atMs / 1000, label: event.label })),
      legend: 'blue: a call that succeeded; red: a call that failed; dashed: a moment of the run',
    },
    FIGURE_WIDTH,
  );
  return [
    `<figure data-figure="timeline" data-calls="${timeline.calls.length}" data-failed="${failed}" data-events="${timeline.events.length}">`,
    svg,
    `<figcaption>${timeline.calls.length} calls, ${failed} failed; seconds from the load's first call; ${esc(timeline.events.map((event) => `${event.label} at ${formatMeasure(event.atMs / 1000)} s`).join('; ') || 'no moment recorded')}</figcaption>`,
    '</figure>',
  ].join('\n');
}

function distributionFigure(distribution: Distribution): string {
  const entries = Object.entries(distribution.counts);
  const title = `${distribution.title} (${distribution.unit})`;
  const top = 48;
  const bars = barRows(
    entries.map(([name, count]) => ({
      label: name,
      value: count,
      attributes: `data-name=${attr(name)} data-count="${count}"`,
    })),
    top,
    FIGURE_WIDTH,
  );
  const height = top + Math.max(1, entries.length) * 30 + 12;
  return [
    '<figure data-figure="distribution">',
    ...svgOpen(FIGURE_WIDTH, height, title),
    text(16, 26, title, 'font-size="15" font-weight="600" fill="#222222"'),
    ...bars,
    '</svg>',
    '</figure>',
  ].join('\n');
}

function figuresSection(report: GuardReport): string {
  const drawn = report.tests.flatMap((test, index) => {
    const { timeline, distributions = [] } = test.figures ?? {};
    if (timeline === undefined && distributions.length === 0) return [];
    return [
      `<section id="figures-${index}">`,
      `<h3>${verdictBadge(test.verdict)} <code>${esc(test.property)}</code>: ${esc(test.test)}</h3>`,
      ...(timeline ? [timelineFigure(timeline)] : []),
      ...distributions.map(distributionFigure),
      '</section>',
    ];
  });
  return drawn.length === 0 ? '' : ['<h2>Figures</h2>', ...drawn].join('\n');
}

function settingsSection(settings: NonNullable<GuardReport['settings']>): string {
  const rows = Object.entries(settings).map(
    ([key, { value, from }]) =>
      `<tr><td><code>${esc(key)}</code></td><td><code>${esc(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))}</code></td><td>${esc(from)}</td></tr>`,
  );
  return [
    '<h2>Settings</h2>',
    '<table class="settings"><thead><tr><th>setting</th><th>value</th><th>from</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

function counts(report: GuardReport): string {
  const of = (verdict: ReportedTest['verdict']) =>
    report.tests.filter((test) => test.verdict === verdict).length;
  return `${report.tests.length} tests: ${of('pass')} pass, ${of('fail')} fail, ${of('skipped')} skipped`;
}

/** The report as one self-contained HTML page (fnlb-guard.html). */
export function htmlReport(report: GuardReport): string {
  const title = `fnlb-guard: ${report.verdict}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    `<body data-verdict=${attr(report.verdict)}>`,
    `<h1>fnlb-guard: ${verdictBadge(report.verdict)}</h1>`,
    report.setupError
      ? setupErrorSection(report.setupError)
      : `<p class="muted">${esc(counts(report))}; the same numbers are in fnlb-guard.json.</p>`,
    runSection(report),
    ...(report.setupError ? [] : [verdictsSection(report), figuresSection(report)]),
    ...(report.settings ? [settingsSection(report.settings)] : []),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
