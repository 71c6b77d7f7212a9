// A run's reports as files: fnlb-guard.json, fnlb-guard.html beside it, and the Markdown summary
// appended to the summary file when one is named (GitHub's job summary). A run that judged (the
// reporter) and a run whose setup failed (setup-failure.ts) write them the same way; each writes its
// own junit.xml.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { htmlFile, reportFile } from '../run/report-files.js';
import type { GuardSettings } from '../settings/resolve.js';
import { htmlReport } from './html.js';
import { type GuardReport, markdownSummary } from './report.js';

/** Writes the report's files into the reports folder; answers where fnlb-guard.json and the html went. */
export function writeReports(
  settings: Pick<GuardSettings, 'reports'> & Partial<Pick<GuardSettings, 'summary'>>,
  report: GuardReport,
): { json: string; html: string } {
  const json = reportFile(settings);
  const html = htmlFile(settings);
  mkdirSync(settings.reports, { recursive: true });
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, htmlReport(report));
  if (settings.summary !== undefined) appendFileSync(settings.summary, markdownSummary(report));
  return { json, html };
}
