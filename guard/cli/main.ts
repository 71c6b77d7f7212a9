#!/usr/bin/env node
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
// fnlb-guard: the guard as a command. Resolves the settings once from its flags, the environment and,
// with --action, the GitHub Action's inputs (settings/resolve.ts), runs the property files through
// Vitest's Node API with the guard's own run options (run/project.ts: its setup, reporters and the
// settings handed to every worker), and exits by the verdict of the report the guard's reporter
// wrote: 0 every property judged holds, 1 one failed, 2 a flag or variable is wrong, 3 the system
// under test could not be started or reached, or nothing at all could be judged. With --action it
// also writes the Action's outputs (report, html, verdict).
// A setup that fails (report/setup-failure.ts) ends in one line on stderr naming who failed, its
// address and the step (`fnlb-guard: balancer 127.0.0.1:1 refused the connection while checking that
// it answers`), with both reports written with the verdict error; Vitest's own account of that error
// is kept off stderr. Settings that contradict each other are one line too, with both reports.
import { PACKAGE } from '../../src/common/package-root.js';
import { readBaseline } from '../engine/baseline.js';
import type { GuardReport } from '../report/report.js';
import {
  announcedSetupFailure,
  setupFailureReport,
  writeSetupFailureReports,
} from '../report/setup-failure.js';
import { guardRunOptions, propertyFiles } from '../run/project.js';
import { htmlFile, reportFile } from '../run/report-files.js';
import { catalogueText, settingsText, usageText } from '../settings/render.js';
import { type Resolved, resolveSettings, SettingsError, type Switches } from '../settings/resolve.js';
import { oneLine, type SetupFailure } from '../topology/setup-error.js';

const EXIT = { pass: 0, fail: 1, usage: 2, unreachable: 3 } as const;

const SWITCHES: Switches = {
  list: { doc: 'the properties, what each needs, and every bound with its value in force' },
  'show-settings': { doc: 'every setting this run would use, and where its value came from' },
  action: {
    doc: "read the GitHub Action's inputs (INPUT_*) too and write its outputs: what action.yml runs",
  },
  version: { doc: "the guard's name and version" },
  help: { doc: 'this text', short: 'h' },
};

function fail(message: string, status: number): never {
  process.stderr.write(`fnlb-guard: ${message}\n`);
  process.exit(status);
}

const argv = process.argv.slice(2);
let resolved: Resolved;
try {
  resolved = resolveSettings({
    argv,
    switches: SWITCHES,
    env: process.env,
    actionInputs: argv.includes('--action'),
    cwd: process.cwd(),
  });
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  if (error.where !== undefined) reportSettingsError(error.message, error.where);
  fail(`${error.message} (fnlb-guard --help for the settings)`, EXIT.usage);
}

/** Settings that contradict each other still leave both reports, errored, where the run would write them. */
function reportSettingsError(message: string, where: { setting: string; reports: string }): void {
  const failure: SetupFailure = {
    role: 'settings',
    address: where.setting,
    step: 'reading the settings',
    message: oneLine(message, Number.POSITIVE_INFINITY),
  };
  const now = new Date().toISOString();
  try {
    const report = setupFailureReport(failure, { startedAt: now, finishedAt: now });
    writeSetupFailureReports({ reports: where.reports }, { ...report, setupError: failure });
  } catch {
    // The message below is the verdict then; reports that cannot be written change nothing of it.
  }
}
const { settings, notices, switches } = resolved;
if (switches.version) {
  process.stdout.write(`fnlb-guard ${PACKAGE.version}\n`);
  process.exit(EXIT.pass);
}
if (switches.help) {
  process.stdout.write(`${usageText(SWITCHES)}\n`);
  process.exit(EXIT.pass);
}
if (switches.list) {
  process.stdout.write(`${catalogueText(settings)}\n`);
  process.exit(EXIT.pass);
}
if (switches['show-settings']) {
  process.stdout.write(`${settingsText(settings)}\n`);
  process.exit(EXIT.pass);
}
for (const notice of notices) process.stderr.write(`fnlb-guard: ${notice}\n`);
if (settings.baseline !== undefined) {
  try {
    readBaseline(settings.baseline, settings.scale);
  } catch (error) {
    fail(`${settings.origin.baseline}: ${(error as Error).message}`, EXIT.usage);
  }
}

/**
 * Vitest's error stream: the command's own stderr, until the guard's setup says it failed; its account
 * of that failure (the error, its stack, "no test files") is then left out for the one line.
 */
const vitestStderr = new Writable({
  write(chunk: Buffer | string, _encoding, done) {
    if (announcedSetupFailure() !== undefined) done();
    else process.stderr.write(chunk, () => done());
  },
});

function readReport(file: string): GuardReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as GuardReport;
  } catch {
    return undefined;
  }
}

/** The verdict the run's report holds, and the exit status it means. */
async function run(): Promise<{ status: number; verdict: string }> {
  const { startVitest } = await import('vitest/node');
  const { root, ...options } = guardRunOptions(settings);
  let unhandled = 0;
  try {
    // No configuration file: the guard's run options are all there is, whatever the caller's directory holds.
    const vitest = await startVitest(
      'test',
      propertyFiles(settings.only),
      { ...options, root, config: false, watch: false },
      undefined,
      { stderr: vitestStderr },
    );
    unhandled = vitest.state.getUnhandledErrors().length;
    await vitest.close();
  } catch (error) {
    if (announcedSetupFailure() === undefined) {
      process.stderr.write(
        `fnlb-guard: the suite could not run: ${(error as Error).stack ?? String(error)}\n`,
      );
      return { status: EXIT.unreachable, verdict: 'error' };
    }
  }
  const file = reportFile(settings);
  const failure = announcedSetupFailure() ?? readReport(file)?.setupError;
  if (failure !== undefined) {
    process.stderr.write(`fnlb-guard: ${failure.message}\n`);
    return { status: EXIT.unreachable, verdict: 'error' };
  }
  if (!existsSync(file)) {
    process.stderr.write(
      'fnlb-guard: no property was judged: the system under test could not be started or reached (see above)\n',
    );
    return { status: EXIT.unreachable, verdict: 'error' };
  }
  const report = JSON.parse(readFileSync(file, 'utf8')) as GuardReport;
  if (report.verdict === 'skipped') {
    process.stderr.write(
      'fnlb-guard: every property was skipped: nothing could be judged here (reasons above)\n',
    );
    return { status: EXIT.unreachable, verdict: report.verdict };
  }
  if (unhandled > 0) {
    process.stderr.write(
      `fnlb-guard: ${unhandled} error(s) outside any test (above): the run does not pass\n`,
    );
    return { status: EXIT.fail, verdict: report.verdict };
  }
  return { status: report.verdict === 'pass' ? EXIT.pass : EXIT.fail, verdict: report.verdict };
}

const { status, verdict } = await run();
if (switches.action) {
  process.stdout.write(`fnlb-guard: verdict ${verdict} (exit ${status}), report ${reportFile(settings)}\n`);
  if (settings.outputs !== undefined) {
    appendFileSync(
      settings.outputs,
      `report=${reportFile(settings)}\nhtml=${htmlFile(settings)}\nverdict=${verdict}\n`,
    );
  }
}
process.exit(status);
