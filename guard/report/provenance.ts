// What a report says about the run that wrote it besides its verdicts: the guard that judged (its
// version, and its commit when it runs from a checkout), the commit the run was started for and where
// that came from (under the Action, GITHUB_SHA is the caller's repository: the build under test, not
// the guard), the settings in force, and the baseline it was compared with. The reporter
// (reporter.ts) and a failed setup (setup-failure.ts) name them the same way.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE } from '../../src/common/package-root.js';
import { readBaseline } from '../engine/baseline.js';
import type { GuardSettings } from '../settings/resolve.js';
import { type BoundKey, SETTINGS, type SettingKey } from '../settings/table.js';
import type { GuardReport } from './report.js';

function gitHead(dir: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: dir,
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** The guard itself: its version, and its commit when the package is a git checkout (not an install). */
export function guardOfRun(): GuardReport['guard'] {
  const checkout = existsSync(join(PACKAGE.root, '.git'));
  return { name: 'fnlb-guard', version: PACKAGE.version, commit: checkout ? gitHead(PACKAGE.root) : null };
}

/**
 * The commit the run was started for and what it is: the commit setting (--commit, or GITHUB_SHA:
 * the repository whose job runs the guard), else the HEAD of the directory the run started in when
 * that is a checkout (a balancer's repository running the guard on its build), else none.
 */
export function commitOfRun(
  settings: Pick<GuardSettings, 'commit' | 'origin'>,
  cwd: string,
): Pick<GuardReport, 'commit' | 'commitOf'> {
  if (settings.commit !== undefined) {
    return { commit: settings.commit, commitOf: `${settings.origin.commit ?? 'the commit setting'}` };
  }
  const head = gitHead(cwd);
  return head === null
    ? { commit: null, commitOf: null }
    : { commit: head, commitOf: `git HEAD of ${cwd}, where the run started` };
}

/** Credentials a value may carry: a URL's password, and KEY=value pairs whose key names a secret. */
function redacted(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .replace(/(\/\/[^/:@\s]*):[^@\s/]*@/g, '$1:***@')
    .replace(/\b([A-Za-z0-9_]*(?:PASS|PASSWORD|TOKEN|SECRET|KEY)[A-Za-z0-9_]*)=(\S+)/gi, '$1=***');
}

/**
 * The settings in force and where each came from; secrets (the management token) are not shown, nor
 * passwords in URLs or secret-named variables in a value (a database URL, the nodes' environment).
 */
export function settingsOfRun(settings: GuardSettings): GuardReport['settings'] {
  const shown: NonNullable<GuardReport['settings']> = {};
  for (const [key, entry] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const value = settings[key];
    if (value === undefined) continue;
    const secret = 'secret' in entry && entry.secret;
    shown[key] = {
      value: secret ? '(set, not shown)' : redacted(value),
      from: settings.origin[key] ?? 'default',
    };
  }
  for (const [key, bound] of Object.entries(settings.bounds)) {
    shown[key] = { value: bound.value, from: settings.origin[key as BoundKey] ?? 'default' };
  }
  return shown;
}

export function baselineOfRun(settings: Pick<GuardSettings, 'baseline'>): GuardReport['baseline'] {
  const path = settings.baseline;
  if (path === undefined) return null;
  try {
    const baseline = readBaseline(path);
    return { path, startedAt: baseline.startedAt, commit: baseline.commit };
  } catch {
    // The tests that compare with it fail with the reason; the report still names it.
    return { path, startedAt: null, commit: null };
  }
}

/** Everything a report names about its run besides the verdicts. */
export function provenanceOfRun(
  settings: GuardSettings,
  cwd: string,
): Pick<GuardReport, 'guard' | 'commit' | 'commitOf' | 'settings' | 'baseline'> {
  return {
    guard: guardOfRun(),
    ...commitOfRun(settings, cwd),
    settings: settingsOfRun(settings),
    baseline: baselineOfRun(settings),
  };
}
