// fnlb-guard.html in a real headless browser (Debian's chromium, driven by puppeteer-core): the page
// the reporter writes for a report built from the guard's real checks and figures
// (tests/unit/support/guard-reports.ts) loads from file:// with no console error, no page error and
// no request beyond itself, draws its SVGs, and shows every check's measured value and every test of
// the fnlb-guard.json written beside it, one to one. The same detection catches a page that loads an
// image by URL or throws, so a clean result means something. Skipped, saying so, where no chromium is
// installed (scripts/install-browser.sh installs it). Its own Vitest project (`browser`): it needs no
// topology, and `npm test` runs it.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measuredText } from '../../guard/engine/checks.js';
import type { GuardReport } from '../../guard/report/report.js';
import { setupFailureReport } from '../../guard/report/setup-failure.js';
import { writeReports } from '../../guard/report/write.js';
import { sampleReport } from '../unit/support/guard-reports.js';

/** Debian's chromium on the PATH, if it is installed. */
function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, 'chromium'), constants.X_OK);
      return join(dir, 'chromium');
    } catch {}
  }
  return undefined;
}

const CHROMIUM = findChromium();

/**
 * Opens `file` and answers the page with what went wrong while it loaded: every request but the page
 * itself (refused), every console error and every uncaught page error.
 */
async function openChecked(browser: Browser, file: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const own = pathToFileURL(file).href;
  const problems: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url() === own) return void request.continue();
    problems.push(`request ${request.url()}`);
    void request.abort();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message ?? error}`));
  await page.goto(own, { waitUntil: 'load' });
  return { page, problems };
}

describe.skipIf(CHROMIUM === undefined)(
  `fnlb-guard.html in headless chromium${CHROMIUM === undefined ? ' (skipped: no chromium on the PATH; scripts/install-browser.sh installs it)' : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'fnguard-browser-'));
    let browser: Browser;
    let page: Page;
    let problems: string[];
    /** The report as written (Infinity and all), and as fnlb-guard.json holds it. */
    const source = sampleReport();
    let report: GuardReport;

    beforeAll(async () => {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        // Chromium's sandbox refuses to run as root (CI machines run as root).
        args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      });
      const written = writeReports({ reports: join(dir, 'reports') }, source);
      report = JSON.parse(readFileSync(written.json, 'utf8'));
      ({ page, problems } = await openChecked(browser, written.html));
    });
    afterAll(async () => {
      await browser?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('loads from file:// with no console error, page error or request beyond itself', () => {
      expect(problems).toEqual([]);
    });

    it('draws every SVG, and the timeline’s failed calls, with a size', async () => {
      const sizes = await page.$$eval('svg, rect.mark.failed', (elements) =>
        elements.map((element) => {
          const box = element.getBoundingClientRect();
          return box.width * box.height;
        }),
      );
      const figures = report.tests.flatMap((test) => [
        ...(test.figures?.timeline ? [test.figures.timeline] : []),
        ...(test.figures?.distributions ?? []),
      ]);
      const failedCalls = report.tests
        .flatMap((test) => test.figures?.timeline?.calls ?? [])
        .filter(([, , ok]) => ok === 0);
      expect(sizes).toHaveLength(figures.length + failedCalls.length);
      expect(sizes.every((size) => size > 0)).toBe(true);
    });

    it('shows every test and every check’s measured value of fnlb-guard.json, one to one', async () => {
      const shown = await page.$$eval('tbody.test', (bodies) =>
        bodies.map((body) => ({
          property: body.dataset.property,
          test: body.dataset.test,
          verdict: body.dataset.verdict,
          checks: [...body.querySelectorAll('tr.check')].map((row) => {
            const measured = row.querySelector('[data-measured]');
            return {
              index: Number(row.dataset.check),
              measured: JSON.parse(measured?.dataset.measured ?? '"missing"'),
              text: measured?.textContent,
              bound: JSON.parse(row.querySelector('[data-bound]')?.dataset.bound ?? '"missing"'),
            };
          }),
        })),
      );
      const measuredCells = await page.$$eval('[data-measured]', (cells) => cells.length);
      expect(measuredCells).toBe(report.tests.reduce((sum, test) => sum + test.checks.length, 0));
      expect(shown.map(({ property, test, verdict }) => ({ property, test, verdict }))).toEqual(
        report.tests.map(({ property, test, verdict }) => ({ property, test, verdict })),
      );
      shown.forEach((test, index) => {
        const checks = report.tests[index]?.checks ?? [];
        expect([...test.checks].sort((a, b) => a.index - b.index)).toEqual(
          checks.map((check, at) => ({
            index: at,
            measured: check.measured,
            // As the run measured it: JSON writes what it cannot hold (Infinity) as null.
            text: measuredText(source.tests[index]?.checks[at] ?? check),
            bound: check.bound,
          })),
        );
      });
      expect(await page.$eval('body', (body) => body.dataset.verdict)).toBe(report.verdict);
    });

    it('draws each timeline’s calls and moments and each distribution’s counts as the JSON has them', async () => {
      const timelines = await page.$$eval('figure[data-figure="timeline"]', (figures) =>
        figures.map((figure) => ({
          calls: figure.querySelectorAll('rect.mark').length,
          failed: figure.querySelectorAll('rect.mark.failed').length,
          events: figure.querySelectorAll('line.event').length,
        })),
      );
      expect(timelines).toEqual(
        report.tests.flatMap(({ figures }) =>
          figures?.timeline
            ? [
                {
                  calls: figures.timeline.calls.length,
                  failed: figures.timeline.calls.filter(([, , ok]) => ok === 0).length,
                  events: figures.timeline.events.length,
                },
              ]
            : [],
        ),
      );
      const distributions = await page.$$eval('figure[data-figure="distribution"]', (figures) =>
        figures.map((figure) =>
          Object.fromEntries(
            [...figure.querySelectorAll('rect[data-name]')].map((bar) => [
              bar.getAttribute('data-name'),
              Number(bar.getAttribute('data-count')),
            ]),
          ),
        ),
      );
      expect(distributions).toEqual(
        report.tests.flatMap(({ figures }) => (figures?.distributions ?? []).map((each) => each.counts)),
      );
    });

    it('shows a failed setup’s one line', async () => {
      const failure = {
        role: 'node',
        address: '127.0.0.1:2',
        step: 'creating the probe app',
        message: 'node 127.0.0.1:2 answered HTTP 500 while creating the probe app: <b>&</b>',
      } as const;
      const written = writeReports(
        { reports: join(dir, 'setup') },
        setupFailureReport(failure, { startedAt: report.startedAt, finishedAt: report.finishedAt }),
      );
      const opened = await openChecked(browser, written.html);
      expect(opened.problems).toEqual([]);
      expect(await opened.page.$eval('.setup-error .line', (line) => line.textContent)).toBe(failure.message);
      await opened.page.close();
    });

    it('catches what it must: a request by URL (also one the page’s policy refuses) and a thrown script', async () => {
      const html = readFileSync(join(dir, 'reports', 'fnlb-guard.html'), 'utf8');
      const pages = {
        'report-with-image.html': html.replace(
          '</body>',
          '<img src="http://127.0.0.1:9/x.png" alt=""></body>',
        ),
        'image.html': '<!DOCTYPE html><title>t</title><img src="http://127.0.0.1:9/x.png" alt="">',
        'throws.html': '<!DOCTYPE html><title>t</title><script>throw new Error("boom")</script>',
      };
      const caught: Record<string, string[]> = {};
      for (const [name, content] of Object.entries(pages)) {
        writeFileSync(join(dir, name), content);
        const opened = await openChecked(browser, join(dir, name));
        caught[name] = opened.problems;
        await opened.page.close();
      }
      // Chromium words the refusal its own way from version to version; it names the URL and the policy.
      expect(caught['report-with-image.html']).toContainEqual(
        expect.stringMatching(/^console error: .*http:\/\/127\.0\.0\.1:9\/x\.png.*Content Security Policy/),
      );
      expect(caught['image.html']).toContain('request http://127.0.0.1:9/x.png');
      expect(caught['throws.html']).toContainEqual(expect.stringContaining('page error: boom'));
    });
  },
);
