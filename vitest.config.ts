// Two projects: `unit` runs in seconds with no processes or servers beyond the test itself;
// `integration` drives real fn-node and balancer processes or containers, a real Postgres started once
// per run, and the topology under test: its white-box files (tests/integration) and the guard, one
// file per property (tests/guard).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The guard's verdicts (table and reports/fnguard.json) come from the checks the tests recorded.
    reporters: ['default', './helpers/guard/reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
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
        },
      },
    ],
  },
});
