// The files generated from the settings table, by their path in the package: `npm run docs:guard`
// (write-docs.ts) writes them, and tests/unit/guard-settings.test.ts fails when a committed one differs.
import { actionYaml } from './action.js';
import { configurationPage } from './render.js';

export const GENERATED: Record<string, () => string> = {
  'action.yml': actionYaml,
  'docs/configuration.md': configurationPage,
};
