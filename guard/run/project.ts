// The guard's run as Vitest sees it: which files are the properties, the setup that starts what the
// topology needs, the timeouts, one file at a time, and the reporters that turn checks into
// verdicts. Its own configuration (vitest.config.ts beside this file, which `fnlb-guard`, the Action and
// `npm run test:guard` run) and this repository's (the `guard` project of `npm test`) both take it
// from here, so what a user runs and what the repository tests are the same project.
import { join } from 'node:path';
import { PACKAGE } from '../../src/common/package-root.js';
import type { GuardSettings } from '../settings/resolve.js';

/** Paths relative to the package root, the root of every run. */
export const PROPERTY_FILES = 'tests/guard';
const SETUP = 'guard/run/setup.ts';
const REPORTER = 'guard/report/reporter.ts';

/** The property files of the given ids, or the folder of them all. */
export function propertyFiles(only: readonly string[] | undefined): string[] {
  return only === undefined ? [`${PROPERTY_FILES}/`] : only.map((id) => `${PROPERTY_FILES}/${id}.test.ts`);
}

/** The guard's test options, without what depends on the run's settings. */
export const GUARD_PROJECT = {
  include: [`${PROPERTY_FILES}/**/*.test.ts`],
  environment: 'node' as const,
  globalSetup: [join(PACKAGE.root, SETUP)],
  testTimeout: 120_000,
  hookTimeout: 120_000,
  // Two cores: the properties load the topology, and one file's faults must not land in another's.
  fileParallelism: false,
};

/** The guard's own run: the project, the settings handed to it, and its reporters. */
export function guardRunOptions(settings: GuardSettings) {
  return {
    root: PACKAGE.root,
    ...GUARD_PROJECT,
    provide: { guardSettings: settings },
    reporters: ['default', join(PACKAGE.root, REPORTER)],
  };
}

/** The guard's reporter, for a configuration that runs the guard among other projects. */
export const GUARD_REPORTER = join(PACKAGE.root, REPORTER);
