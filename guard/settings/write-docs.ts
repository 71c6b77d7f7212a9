#!/usr/bin/env node
// `npm run docs:guard`: writes the files generated from the settings table (generated.ts) into the package.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE } from '../../src/common/package-root.js';
import { GENERATED } from './generated.js';

for (const [file, render] of Object.entries(GENERATED)) {
  writeFileSync(join(PACKAGE.root, file), render());
  process.stdout.write(`wrote ${file}\n`);
}
