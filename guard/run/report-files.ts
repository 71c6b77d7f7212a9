// Where a run's reports go (the reports and logs settings), made ready when the run begins: the
// reports the last run wrote are removed, so a run that judges nothing leaves none behind to be read as
// its verdict; a baseline that is that very file (--baseline reports/fnlb-guard.json) is copied aside
// first and the settings point at the copy; the logs directory keeps this run's logs only.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepRunLogsIn } from '../../helpers/run-logs.js';
import type { GuardSettings } from '../settings/resolve.js';

export const REPORT_FILE = 'fnlb-guard.json';
export const JUNIT_FILE = 'junit.xml';
/** The report for a person to look at (guard/report/html.ts), beside fnlb-guard.json. */
export const HTML_FILE = 'fnlb-guard.html';

export function reportFile(settings: Pick<GuardSettings, 'reports'>): string {
  return join(settings.reports, REPORT_FILE);
}

export function htmlFile(settings: Pick<GuardSettings, 'reports'>): string {
  return join(settings.reports, HTML_FILE);
}

/** Clears the last run's reports (and logs); answers the settings to run with. */
export function beginReports(settings: GuardSettings): GuardSettings {
  const file = reportFile(settings);
  let baseline = settings.baseline;
  if (baseline === file && existsSync(file)) {
    baseline = join(mkdtempSync(join(tmpdir(), 'fnguard-baseline-')), REPORT_FILE);
    copyFileSync(file, baseline);
  }
  rmSync(file, { force: true });
  rmSync(join(settings.reports, JUNIT_FILE), { force: true });
  rmSync(join(settings.reports, HTML_FILE), { force: true });
  keepRunLogsIn(settings.logs);
  return { ...settings, baseline };
}
