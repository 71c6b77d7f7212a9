// What a report says about the run that wrote it besides its verdicts: the suite's commit and the
// baseline it was compared with. The reporter (reporter.ts) and a failed setup (setup-failure.ts)
// name them the same way.
import { execFileSync } from 'node:child_process';
import { readBaseline } from '../engine/baseline.js';
import type { GuardSettings } from '../settings/resolve.js';
import type { GuardReport } from './report.js';

/** The commit the report names: the commit setting, else git's; null outside a checkout. */
export function suiteCommit(commit: string | undefined, root: string): string | null {
  if (commit !== undefined) return commit;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
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
