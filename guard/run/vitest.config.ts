// The guard's own Vitest configuration: what `npm run test:guard` runs, and anyone who runs the
// property files with Vitest directly. Its settings come from the environment (the table's
// variables), resolved once here and handed to the run; `fnlb-guard` resolves its flags the same way and
// runs the same options without this file.
import { defineConfig } from 'vitest/config';
import { resolveSettings, SettingsError } from '../settings/resolve.js';
import { guardRunOptions } from './project.js';

function settingsOrExit() {
  try {
    return resolveSettings({ env: process.env });
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    process.stderr.write(`fnlb-guard: ${error.message}\n`);
    process.exit(2);
  }
}

const { settings, notices } = settingsOrExit();
for (const notice of notices) process.stderr.write(`fnlb-guard: ${notice}\n`);
const { root, ...test } = guardRunOptions(settings);

export default defineConfig({ root, test });
