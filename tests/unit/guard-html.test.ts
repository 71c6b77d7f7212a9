// fnlb-guard.html (guard/report/html.ts) as text, on a report built from the guard's real checks and
// figures (support/guard-reports.ts): one page that loads nothing, every text of the report escaped,
// one machine-readable measured value per check equal to the JSON's, failed checks first, a timeline
// per faulted test and bars per distribution, a failed setup's one line; the schema takes figures;
// the reporter's files (written, cleared, named in the summary). The same page in a real browser:
// tests/browser/guard-html.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { htmlReport } from '../../guard/report/html.js';
import { markdownSummary } from '../../guard/report/report.js';
import { setupFailureReport, writeSetupFailureReports } from '../../guard/report/setup-failure.js';
import { writeReports } from '../../guard/report/write.js';
import { beginReports, HTML_FILE, REPORT_FILE } from '../../guard/run/report-files.js';
import { resolveSettings } from '../../guard/settings/resolve.js';
import { reportProblems } from '../integration/support/report-schema.js';
import { failoverTimeline, HOSTILE, sampleReport } from './support/guard-reports.js';

const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';
const FAILURE = {
  role: 'balancer',
  address: '127.0.0.1:1',
  step: 'checking that it answers',
  message: `balancer 127.0.0.1:1 refused the connection ${HOSTILE}`,
  cause: 'connect ECONNREFUSED',
} as const;
const TIMES = { startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:00:01.000Z' };

/** The tags of a page (its text is escaped, so every '<' opens one): name and attributes. */
function tags(html: string): Array<{ name: string; attributes: Map<string, string> }> {
  return [...html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*\/?>/g)].map((match) => ({
    name: (match[1] as string).toLowerCase(),
    attributes: new Map(
      [...(match[2] as string).matchAll(/([\w:-]+)(?:="([^"]*)")?/g)].map(
        (attribute) => [attribute[1] as string, attribute[2] ?? ''] as const,
      ),
    ),
  }));
}

/** The page's value of an attribute as the browser reads it. */
const attributeText = (value: string) =>
  value.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name] as string,
  );

describe('fnlb-guard.html', () => {
  const report = sampleReport();
  const html = htmlReport(report);

  it('is one page that loads nothing: no script, no URL, a policy that refuses every load', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    const found = tags(html);
    const names = new Set(found.map((tag) => tag.name));
    for (const loader of ['script', 'link', 'img', 'iframe', 'object', 'embed', 'image', 'use'])
      expect(names).not.toContain(loader);
    for (const { name, attributes } of found) {
      for (const [attribute, value] of attributes) {
        expect(attribute, `<${name}>`).not.toMatch(/^(on.*|src|srcset|xlink:href|style|action)$/);
        if (attribute === 'href') expect(value).toMatch(/^#[\w-]+$/);
        // A URL only where nothing loads it: the SVG namespace, or a report's text in a data attribute.
        if (value.includes(':/') && !attribute.startsWith('data-'))
          expect([attribute, value]).toEqual(['xmlns', SVG_NAMESPACE]);
      }
    }
    const css = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    expect(css).not.toMatch(/url\(|@import|@font-face/);
  });

  it('escapes every text of the report, in text and in attributes', () => {
    expect(html).not.toContain('<img');
    expect(html).not.toContain(HOSTILE);
    const escaped = HOSTILE.replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;');
    // The node's name (run, distribution, timeline), the balancer, a skip reason, the missing
    // capability, commitOf, a setting, the kill's label, context.
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(10);
    expect(html).toContain('a line &amp; another &lt;one&gt;');
    expect(html).toContain(`data-name="${escaped}:8085" data-count="0"`);
  });

  it('holds one measured value per check, the JSON’s own, failed checks first', () => {
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    const bodies = [...html.matchAll(/<tbody class="test"[^>]*>[\s\S]*?<\/tbody>/g)].map(([body]) => body);
    expect(bodies).toHaveLength(json.tests.length);
    bodies.forEach((body, index) => {
      const test = json.tests[index] as (typeof json.tests)[number];
      const head = tags(body)[0]?.attributes;
      expect(head?.get('data-property')).toBe(test.property);
      expect(attributeText(head?.get('data-test') ?? '')).toBe(test.test);
      expect(head?.get('data-verdict')).toBe(test.verdict);
      const rows = [
        ...body.matchAll(
          /<tr class="check (\w+)" data-check="(\d+)"[^>]*>.*?data-measured="([^"]*)".*?data-bound="([^"]*)"/g,
        ),
      ];
      const shown = rows.map(([, state, check, measured, bound]) => ({
        check: Number(check),
        failed: state === 'failed',
        measured: JSON.parse(measured as string),
        bound: JSON.parse(bound as string),
      }));
      expect(shown.map((row) => row.check).sort()).toEqual(test.checks.map((_, check) => check));
      for (const row of shown) {
        expect(row.measured).toBe(test.checks[row.check]?.measured);
        expect(row.bound).toBe(test.checks[row.check]?.bound);
      }
      const failedFirst = shown.map((row) => row.failed);
      expect(failedFirst).toEqual([...failedFirst].sort((a, b) => Number(b) - Number(a)));
    });
    // A ratio keeps every digit; a measure JSON cannot hold (a load over a mean of 0) is null.
    expect(html).toContain('data-measured="0.166"');
    expect(html).toMatch(/data-measured="null">Infinity</);
    expect(html).toContain('<td class="num" data-measured="37">at least 37</td>');
    expect(html).toContain('&lt;= 2 (set by FNG_STICKY_MAX_NODES)');
    expect(html).toMatch(/<tr class="check undecided"[^>]*><td class="mark">\?\?<\/td>/);
  });

  it('draws a timeline of a faulted load: a mark per call, the failed ones red, a line per moment', () => {
    const timeline = failoverTimeline();
    const failed = timeline.calls.filter(([, , ok]) => ok === 0).length;
    expect(failed).toBeGreaterThan(0);
    const figure = /<figure data-figure="timeline"[\s\S]*?<\/figure>/.exec(html)?.[0] ?? '';
    expect(figure).toContain(
      `data-calls="${timeline.calls.length}" data-failed="${failed}" data-events="${timeline.events.length}"`,
    );
    expect(figure.match(/<rect class="mark[ "]/g)).toHaveLength(timeline.calls.length);
    expect(figure.match(/<rect class="mark failed"[^>]*fill="#c0392b"/g)).toHaveLength(failed);
    expect(figure.match(/<line class="event"/g)).toHaveLength(timeline.events.length);
    // One lane per node, and one for the call no node was named for.
    expect(figure).toContain('>no node named</text>');
    expect(figure).toContain('>marked down</text>');
    expect(figure).toContain('>0 s</text>');
    const noUnnamed = htmlReport({
      ...report,
      tests: [
        {
          ...(report.tests[0] as (typeof report.tests)[number]),
          figures: { timeline: { ...timeline, calls: [[0, 0, 1]] } },
        },
      ],
    });
    expect(noUnnamed).not.toContain('no node named');
  });

  it('draws each distribution as bars with their counts', () => {
    const figures = [...html.matchAll(/<figure data-figure="distribution">[\s\S]*?<\/figure>/g)].map(
      ([f]) => f,
    );
    expect(figures).toHaveLength(2);
    expect(figures[1]).toContain('<title>nodes per route (routes)</title>');
    expect(
      [...(figures[1] as string).matchAll(/data-name="([^"]*)" data-count="(\d+)"/g)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    ).toEqual([
      ['1 node', 499],
      ['2 nodes', 1],
    ]);
    expect(html).toContain('(<a href="#figures-1">figures</a>)');
    expect(html).toContain('<section id="figures-1">');
  });

  it('has no figures section when no test drew any, and shows a failed setup as its one line', () => {
    const plain = htmlReport({ ...report, tests: report.tests.map(({ figures: _, ...test }) => test) });
    expect(plain).not.toContain('<h2>Figures</h2>');
    expect(plain).toContain('<h2>Verdicts</h2>');
    const failed = htmlReport(setupFailureReport(FAILURE, TIMES));
    expect(failed).toContain('<body data-verdict="error">');
    expect(failed).toContain(
      '<p class="line">balancer 127.0.0.1:1 refused the connection &lt;img src=&quot;http://127.0.0.1:9/x.png&quot;',
    );
    expect(failed).not.toContain('<h2>Verdicts</h2>');
    expect(failed).not.toContain('<h2>Settings</h2>');
  });
});

describe("fnlb-guard.json's figures", () => {
  it('are held to the schema: the sample validates, a malformed timeline or distribution does not', () => {
    const report = JSON.parse(JSON.stringify(sampleReport()));
    expect(reportProblems(report)).toEqual([]);
    const failover = report.tests.find(
      (test: { figures?: { timeline?: unknown } }) => test.figures?.timeline,
    );
    failover.figures.timeline.calls.push([5, 0, 2], [5, -2, 1], [5, 0]);
    failover.figures.extra = 1;
    report.tests[1].figures.distributions[0].counts.x = 1.5;
    const problems = reportProblems(report);
    expect(problems.filter((line) => line.includes('/figures/timeline/calls/'))).toHaveLength(3);
    expect(problems.some((line) => line.includes('/figures must NOT have additional properties'))).toBe(true);
    expect(problems.some((line) => line.includes('/distributions/0/counts/x must be integer'))).toBe(true);
  });
});

describe('the report files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fnguard-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a run writes fnlb-guard.html beside fnlb-guard.json, names it in the summary, and the next run clears it', () => {
    const summary = join(dir, 'summary.md');
    const reports = join(dir, 'judged');
    const written = writeReports({ reports, summary }, sampleReport());
    expect(written).toEqual({ json: join(reports, REPORT_FILE), html: join(reports, HTML_FILE) });
    expect(readFileSync(written.html, 'utf8')).toBe(htmlReport(sampleReport()));
    expect(JSON.parse(readFileSync(written.json, 'utf8')).verdict).toBe('fail');
    expect(readFileSync(summary, 'utf8')).toContain(
      "Every check, with the timelines and distributions: open `fnlb-guard.html` in the run's reports",
    );
    const { settings } = resolveSettings({ env: { FNG_REPORTS: reports, FNG_LOGS: '' } });
    beginReports(settings);
    expect(existsSync(written.html)).toBe(false);
    expect(existsSync(written.json)).toBe(false);
  });

  it('a failed setup writes the html too, showing its line', () => {
    const reports = join(dir, 'failed');
    writeSetupFailureReports({ reports }, { ...setupFailureReport(FAILURE, TIMES), setupError: FAILURE });
    expect(readFileSync(join(reports, HTML_FILE), 'utf8')).toContain('<p class="line">balancer 127.0.0.1:1');
    expect(markdownSummary(setupFailureReport(FAILURE, TIMES))).not.toContain(HTML_FILE);
  });
});
