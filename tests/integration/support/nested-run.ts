// A guard run inside a test: some of the guard's files, in a child process running the guard's own
// configuration (guard/run/vitest.config.ts, what `npm run test:guard` runs) or the fnlb-guard command,
// with the topology and the balancer under test the environment names, reporting to a scratch
// directory. The verdicts come from that run's fnlb-guard.json, as a pipeline would read them, never
// from its output.
// Used to show the guard's verdicts on deliberately broken balancers, on other balancers and on an
// external deployment, and to run the fnlb-guard command as a pipeline would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuardReport, Verdict } from '../../../guard/report/report.js';
import { propertyFiles } from '../../../guard/run/project.js';
import { distPath, PACKAGE } from '../../../src/common/package-root.js';

/** A nested run is stopped (SIGTERM: its exit hooks stop what it started) after this long. */
const NESTED_RUN_TIMEOUT_MS = 240_000;
/** For the test around a nested run: long enough to see the nested run end, even by its timeout. */
export const NESTED_TEST_TIMEOUT_MS = NESTED_RUN_TIMEOUT_MS + 60_000;

/**
 * The outer run's environment without what chooses or bounds a guard run (FN_*, FNG_*, FNLB_*): a
 * nested run's verdicts must depend on what its test asks for, not on how the outer run was invoked;
 * nor may it write to the outer CI job's summary or outputs (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT).
 */
function baseEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !/^(FN|FNG|FNLB)_|^GITHUB_(STEP_SUMMARY|OUTPUT)$/.test(entry[0]),
    ),
  );
}
const OUTPUT_LIMIT = 1024 * 1024;

export interface NestedRun {
  code: number | null;
  /** The run's output, its last megabyte, for failure messages. */
  output: string;
  report: GuardReport;
  /** The run's reports/junit.xml, when it wrote one. */
  junit: string | undefined;
  /** "property: test name" -> verdict. */
  verdicts: Record<string, Verdict>;
  /** Names of the checks that failed, over every test. */
  failedChecks: string[];
}

export interface NestedOptions {
  /** Run through the fnlb-guard command with these flags (--only and --reports are added), not Vitest. */
  command?: string[];
}

/** Runs the guard files of `properties` with `env` over the test's own environment. */
export async function runNestedGuard(
  properties: readonly string[],
  env: Record<string, string>,
  options: NestedOptions = {},
): Promise<NestedRun> {
  const reports = mkdtempSync(join(tmpdir(), 'fnguard-nested-'));
  try {
    const vitest = join(PACKAGE.root, 'node_modules/vitest/vitest.mjs');
    const args = options.command
      ? [
          distPath('guard/cli/main.js'),
          ...options.command,
          '--only',
          properties.join(','),
          '--reports',
          reports,
        ]
      : [vitest, 'run', '--config', 'guard/run/vitest.config.ts', ...propertyFiles(properties)];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: PACKAGE.root,
        env: { ...baseEnvironment(), ...env, FNG_REPORTS: reports },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: NESTED_RUN_TIMEOUT_MS,
      });
      let text = '';
      const keep = (chunk: Buffer) => {
        text = (text + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.once('error', reject);
      // 'close' comes once the output is drained too.
      child.once('close', (exitCode, signal) =>
        resolve({
          code: exitCode,
          output: signal
            ? `${text}\n[nested run stopped by ${signal} after ${NESTED_RUN_TIMEOUT_MS} ms]`
            : text,
        }),
      );
    });
    let report: GuardReport;
    try {
      report = JSON.parse(readFileSync(join(reports, 'fnlb-guard.json'), 'utf8')) as GuardReport;
    } catch {
      throw new Error(`the nested guard run left no report (exit ${code}):\n${output.slice(-4000)}`);
    }
    const junitFile = join(reports, 'junit.xml');
    return {
      code,
      output,
      report,
      junit: existsSync(junitFile) ? readFileSync(junitFile, 'utf8') : undefined,
      verdicts: Object.fromEntries(
        report.tests.map((test) => [`${test.property}: ${test.test}`, test.verdict]),
      ),
      failedChecks: report.tests.flatMap((test) =>
        test.checks.filter((check) => !check.ok).map((check) => check.name),
      ),
    };
  } finally {
    rmSync(reports, { recursive: true, force: true });
  }
}
