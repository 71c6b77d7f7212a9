#!/usr/bin/env node
// fnlb-guard: the guard as a command. Resolves the settings once from its flags, the environment and,
// with --action, the GitHub Action's inputs (settings/resolve.ts), runs the property files through
// Vitest's Node API with the guard's own run options (run/project.ts: its setup, reporters and the
// settings handed to every worker), and exits by the verdict of the report the guard's reporter
// wrote: 0 every property judged holds, 1 one failed, 2 a flag or variable is wrong, 3 the system
// under test could not be started or reached (no report), or nothing at all could be judged. With
// --action it also writes the Action's outputs (report, verdict).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { readBaseline } from '../engine/baseline.js';
import type { GuardReport } from '../report/report.js';
import { guardRunOptions, propertyFiles } from '../run/project.js';
import { reportFile } from '../run/report-files.js';
import { catalogueText, settingsText, usageText } from '../settings/render.js';
import { type Resolved, resolveSettings, SettingsError, type Switches } from '../settings/resolve.js';

const EXIT = { pass: 0, fail: 1, usage: 2, unreachable: 3 } as const;

const SWITCHES: Switches = {
  list: { doc: 'the properties, what each needs, and every bound with its value in force' },
  'show-settings': { doc: 'every setting this run would use, and where its value came from' },
  action: {
    doc: "read the GitHub Action's inputs (INPUT_*) too and write its outputs: what action.yml runs",
  },
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
  fail(`${error.message}\n(fnlb-guard --help for the settings)`, EXIT.usage);
}
const { settings, notices, switches } = resolved;
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
    readBaseline(settings.baseline);
  } catch (error) {
    fail(`${settings.origin.baseline}: ${(error as Error).message}`, EXIT.usage);
  }
}

/** The verdict the run's report holds, and the exit status it means. */
async function run(): Promise<{ status: number; verdict: string }> {
  const { startVitest } = await import('vitest/node');
  const { root, ...options } = guardRunOptions(settings);
  let unhandled = 0;
  try {
    // No configuration file: the guard's run options are all there is, whatever the caller's directory holds.
    const vitest = await startVitest('test', propertyFiles(settings.only), {
      ...options,
      root,
      config: false,
      watch: false,
    });
    unhandled = vitest.state.getUnhandledErrors().length;
    await vitest.close();
  } catch (error) {
    process.stderr.write(`fnlb-guard: the suite could not run: ${(error as Error).stack ?? String(error)}\n`);
    return { status: EXIT.unreachable, verdict: 'error' };
  }
  const file = reportFile(settings);
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
    appendFileSync(settings.outputs, `report=${reportFile(settings)}\nverdict=${verdict}\n`);
  }
}
process.exit(status);
