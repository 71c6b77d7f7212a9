// Three projects: `unit` runs in seconds with no processes or servers beyond the test itself;
// `integration` drives real fn-node and balancer processes or containers, a real Postgres started once
// per run, and the topology under test: its white-box files (tests/integration) and the guard, one
// file per property (tests/guard); `reliability` (fuzz, chaos and a short soak of this project's own
// fn-node and fnlb, tests/reliability) starts its own processes and Postgres servers. Vitest runs the
// groups one after another (sequence.groupOrder: unit, reliability, integration), so the reliability
// suite's load and faults never share the two cores with the integration files. Every global setup
// runs before the first group: the integration topology is up, idle, while reliability runs.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/** Where the run's reports go: fnguard.json (guard/report/reporter.ts) and Vitest's JUnit XML. */
const REPORTS = process.env.FNG_REPORTS || 'reports';
// The output of every process and container the run starts (helpers/run-logs.ts), for CI artifacts:
// the run's own, so an earlier run's log files go first (only those: the directory may hold others).
if (process.env.FNG_LOGS === undefined) {
  const logs = join(REPORTS, 'logs');
  process.env.FNG_LOGS = logs;
  if (existsSync(logs)) {
    for (const file of readdirSync(logs))
      if (file.endsWith('.log')) rmSync(join(logs, file), { force: true });
  }
}

export default defineConfig({
  test: {
    // The guard's verdicts (table, reports/fnguard.json, the CI summary) come from the checks the
    // tests recorded; junit.xml lists every test of the run for CI systems that read it.
    reporters: [
      'default',
      ['junit', { outputFile: join(REPORTS, 'junit.xml') }],
      './guard/report/reporter.ts',
    ],
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
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/guard/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: integration files start real processes, so run them one at a time.
          fileParallelism: false,
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
