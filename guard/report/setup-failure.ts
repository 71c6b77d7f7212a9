// A run whose setup failed judged nothing, and says so everywhere a pipeline looks: fnlb-guard.json
// with the verdict `error` and its setupError (and fnlb-guard.html showing it), junit.xml with one
// errored testcase (a JUnit dashboard shows red, never "0 tests, 0 failures"), the CI summary, and one
// line from fnlb-guard. The guard's setup (run/setup.ts) writes the reports and tells fnlb-guard,
// which runs it in the same process, that it failed (announceSetupFailure), so the command can keep
// Vitest's account of the error off its stderr and print the one line instead; fnlb-guard writes them
// itself for contradicting settings.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { JUNIT_FILE } from '../run/report-files.js';
import type { GuardSettings } from '../settings/resolve.js';
import type { SetupFailure } from '../topology/setup-error.js';
import { provenanceOfRun } from './provenance.js';
import { type GuardReport, REPORT_SCHEMA } from './report.js';
import { writeReports } from './write.js';

export interface RunTimes {
  startedAt: string;
  finishedAt: string;
}

/** The report of a run that judged nothing because its setup failed. */
export function setupFailureReport(
  failure: SetupFailure,
  times: RunTimes,
  provenance: Pick<GuardReport, 'guard' | 'commit' | 'commitOf' | 'settings' | 'baseline'> = {
    commit: null,
    baseline: null,
  },
): GuardReport {
  return {
    schema: REPORT_SCHEMA,
    ...times,
    ...provenance,
    topology: null,
    tests: [],
    verdict: 'error',
    setupError: failure,
  };
}

function xmlEscape(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      // Characters XML 1.0 cannot hold at all (the control characters but tab, newline and return).
      // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is removed
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}

/** The testcase's name, the same in every run that fails there (a dashboard follows a test by it). */
function caseName(failure: SetupFailure): string {
  return failure.role === 'settings' ? 'settings' : 'setup';
}

/** junit.xml of a run whose setup failed: one testsuite with one testcase, errored with the reason. */
export function setupFailureJunit(failure: SetupFailure, times: RunTimes): string {
  const seconds = Math.max(0, (Date.parse(times.finishedAt) - Date.parse(times.startedAt)) / 1000);
  const time = Number.isFinite(seconds) ? seconds.toFixed(3) : '0';
  const detail = [
    `role: ${failure.role}`,
    `address: ${failure.address}`,
    `step: ${failure.step}`,
    ...(failure.cause === undefined ? [] : [`cause: ${failure.cause}`]),
  ].join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8" ?>',
    `<testsuites name="fnlb-guard" tests="1" failures="0" errors="1" time="${time}">`,
    `    <testsuite name="fnlb-guard setup" timestamp="${xmlEscape(times.startedAt)}" hostname="${xmlEscape(hostname())}" tests="1" failures="0" errors="1" skipped="0" time="${time}">`,
    `        <testcase classname="fnlb-guard" name="${xmlEscape(caseName(failure))}" time="${time}">`,
    `            <error message="${xmlEscape(failure.message)}" type="SetupError">${xmlEscape(detail)}</error>`,
    '        </testcase>',
    '    </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Writes the reports of a failed setup into `reports` (and the CI summary, when one is named). */
export function writeSetupFailureReports(
  settings: Pick<GuardSettings, 'reports'> & Partial<Pick<GuardSettings, 'summary'>>,
  report: GuardReport & { setupError: SetupFailure },
): void {
  writeReports(settings, report);
  writeFileSync(join(settings.reports, JUNIT_FILE), setupFailureJunit(report.setupError, report));
}

/** The guard's setup, when it failed: its reports, named as the reporter names a run's. */
export function writeSetupFailure(
  settings: GuardSettings,
  failure: SetupFailure,
  startedAt: string,
  /** Where the run started (its commit is the one the run was for, when no setting names one). */
  cwd: string,
): void {
  const report = setupFailureReport(
    failure,
    { startedAt, finishedAt: new Date().toISOString() },
    provenanceOfRun(settings, cwd),
  );
  writeSetupFailureReports(settings, { ...report, setupError: failure });
}

// The word between the setup and fnlb-guard: the same process, but the setup is loaded by Vitest's
// module runner and the command from dist/, so they share no module, only the global object.
const ANNOUNCED = Symbol.for('fnlb-guard.setup-failure');
type Announcements = { [ANNOUNCED]?: SetupFailure };

/** Tells fnlb-guard, when it is the one running the setup, that the setup failed and why. */
export function announceSetupFailure(failure: SetupFailure): void {
  (globalThis as Announcements)[ANNOUNCED] = failure;
}

/** The failure the setup announced in this process, if it did. */
export function announcedSetupFailure(): SetupFailure | undefined {
  return (globalThis as Announcements)[ANNOUNCED];
}
