// This repository's test run (`npm test`): four projects. `unit` runs in seconds with no processes
// or servers beyond the test itself; `browser` opens the guard's HTML report in a headless chromium
// (tests/browser: no topology, skipped where no chromium is installed); `reliability` (fuzz, chaos and
// a short soak of this project's own fn-node and fnlb, tests/reliability) starts its own processes and
// Postgres servers; `integration` drives real fn-node and balancer processes or containers, a real
// Postgres started once per run, and the guard's topology under test: its white-box files
// (tests/integration) and the guard's properties (tests/guard), with the guard's own setup and
// reporter (guard/run/project.ts), so what users run is what this repository tests. Vitest runs the
// groups one after another (sequence.groupOrder: unit and browser, reliability, integration), so the
// reliability suite's load and faults never share the two cores with the integration files. Every
// global setup runs before the first group: the topology is up, idle, while reliability runs.
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { GUARD_PROJECT, GUARD_REPORTER } from './guard/run/project.js';
import { SETTINGS } from './guard/settings/table.js';

// The output of every process the white-box files start (helpers/run-logs.ts), for CI artifacts; the
// guard's setup keeps its own in the same place unless its logs setting says otherwise.
process.env.FNG_LOGS ??= join(process.env.FNG_REPORTS || SETTINGS.reports.default, 'logs');

export default defineConfig({
  test: {
    // The guard's verdicts (table, fnlb-guard.json, the CI summary) come from the checks its tests
    // recorded, when the run has any; a run without them writes no report and touches none.
    reporters: ['default', GUARD_REPORTER],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...GUARD_PROJECT,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', ...GUARD_PROJECT.include],
          globalSetup: ['tests/integration/global-setup.ts', ...GUARD_PROJECT.globalSetup],
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'reliability',
          include: ['tests/reliability/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/reliability/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
