// Two projects: `unit` runs in seconds with no processes or servers beyond the test itself;
// `integration` drives real fn-node/fnlb processes and a real Postgres started once per run.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
          include: ['tests/integration/**/*.test.ts'],
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
