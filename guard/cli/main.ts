#!/usr/bin/env node
// fnguard: the guard as a command. Puts the flags' build under test (flags.ts), runs the suite's
// property files (tests/guard) through Vitest's Node API on the package's own Vitest config, and exits
// by the verdict of the report the guard's reporter wrote: 0 every property judged holds, 1 one
// failed, 2 a flag is wrong, 3 the system under test could not be started or reached (no report), or
// nothing at all could be judged. `--list` prints the catalogue of properties and bounds.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE } from '../../src/common/package-root.js';
import { PROPERTIES, PROPERTY_IDS } from '../catalogue.js';
import { clearLastReport, parseBaseline } from '../engine/baseline.js';
import type { GuardReport } from '../report/report.js';
import { parseGuardFlags, USAGE, UsageError } from './flags.js';

const EXIT = { pass: 0, fail: 1, usage: 2, unreachable: 3 } as const;

// The bounds read their environment variables when loaded: a bad value is a usage error, named.
let THRESHOLDS: typeof import('../settings/bounds.js').THRESHOLDS;
try {
  ({ THRESHOLDS } = await import('../settings/bounds.js'));
} catch (error) {
  process.stderr.write(`fnguard: ${(error as Error).message}\n`);
  process.exit(2);
}

function catalogueText(): string {
  const lines = ['Properties (tests/guard/<property>.test.ts):'];
  for (const id of PROPERTY_IDS) {
    const property = PROPERTIES[id];
    const needs = property.needs.length > 0 ? `; needs ${property.needs.join(', ')}` : '';
    lines.push(
      `  ${id.padEnd(13)} implicates the ${property.implicates}${needs}`,
      `                ${property.summary}`,
    );
  }
  lines.push('', 'Bounds (--bound KEY=VALUE or the variable; compared with a baseline: counts, ratios):');
  for (const [key, bound] of Object.entries(THRESHOLDS)) {
    lines.push(
      `  ${key} (${bound.env}) = ${bound.value}${bound.overridden ? ' (set)' : ''}; ${bound.kind}, baseline tolerance ${bound.tolerance}`,
      `                ${bound.reason}`,
    );
  }
  return lines.join('\n');
}

function usage(message: string): never {
  process.stderr.write(`fnguard: ${message}\n(fnguard --help for the flags)\n`);
  process.exit(EXIT.usage);
}

let request: ReturnType<typeof parseGuardFlags>;
try {
  request = parseGuardFlags(process.argv.slice(2), {
    bounds: Object.fromEntries(Object.entries(THRESHOLDS).map(([key, bound]) => [key, bound.env])),
    properties: PROPERTY_IDS,
  });
} catch (error) {
  if (error instanceof UsageError) usage(error.message);
  throw error;
}
if (request.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(EXIT.pass);
}
if (request.list) {
  process.stdout.write(`${catalogueText()}\n`);
  process.exit(EXIT.pass);
}

// Paths are the caller's, not the package's: Vitest runs with the package as its root.
const reportsDir = resolve(request.reportsDir);
const env: Record<string, string> = { ...request.env, FNG_REPORTS: reportsDir };
if (env.FNG_BASELINE !== undefined) {
  env.FNG_BASELINE = resolve(env.FNG_BASELINE);
  try {
    parseBaseline(env.FNG_BASELINE, readFileSync(env.FNG_BASELINE, 'utf8'));
  } catch (error) {
    usage(`--baseline: ${(error as Error).message}`);
  }
}
const reportFile = join(reportsDir, 'fnguard.json');
clearLastReport(reportFile, env);
// The compiled build is this package's own: the suite need not build it again.
Object.assign(process.env, env, { FNG_BUILD: '0' });

const { startVitest } = await import('vitest/node');
const files =
  request.only.length > 0 ? request.only.map((id) => `tests/guard/${id}.test.ts`) : ['tests/guard/'];
let unhandled = 0;
try {
  const vitest = await startVitest('test', files, {
    root: PACKAGE.root,
    config: join(PACKAGE.root, 'vitest.config.ts'),
    project: ['integration'],
    watch: false,
  });
  unhandled = vitest.state.getUnhandledErrors().length;
  await vitest.close();
} catch (error) {
  process.stderr.write(`fnguard: the suite could not run: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(EXIT.unreachable);
}

if (!existsSync(reportFile)) {
  process.stderr.write(
    'fnguard: no property was judged: the system under test could not be started or reached (see above)\n',
  );
  process.exit(EXIT.unreachable);
}
const report = JSON.parse(readFileSync(reportFile, 'utf8')) as GuardReport;
if (report.verdict === 'skipped') {
  process.stderr.write('fnguard: every property was skipped: nothing could be judged here (reasons above)\n');
  process.exit(EXIT.unreachable);
}
if (unhandled > 0) {
  process.stderr.write(`fnguard: ${unhandled} error(s) outside any test (above): the run does not pass\n`);
  process.exit(EXIT.fail);
}
process.exit(report.verdict === 'pass' ? EXIT.pass : EXIT.fail);
