#!/usr/bin/env node
// `npm run docs:guard`: writes the files generated from the settings table and the catalogue
// (generated.ts) into the package: whole files, and the generated sections of hand-written ones.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE } from '../../src/common/package-root.js';
import { GENERATED, GENERATED_SECTIONS, withSections } from './generated.js';

for (const [file, render] of Object.entries(GENERATED)) {
  writeFileSync(join(PACKAGE.root, file), render());
  process.stdout.write(`wrote ${file}\n`);
}
for (const [file, sections] of Object.entries(GENERATED_SECTIONS)) {
  const path = join(PACKAGE.root, file);
  writeFileSync(path, withSections(file, readFileSync(path, 'utf8'), sections));
  process.stdout.write(`wrote ${file} (${Object.keys(sections).join(', ')})\n`);
}
