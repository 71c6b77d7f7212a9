#!/usr/bin/env node
// What a release tag must agree with before anything is published (run by .github/workflows/release.yml,
// and by hand: node scripts/release-check.mjs v0.2.0): the tag is v<package.json's version>, a valid
// semver, and CHANGELOG.md has a section for that version with a date and at least one entry. Prints
// the section (the release notes) on success; exits 1 naming what disagrees otherwise, 2 on usage.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/;

/** The changelog section of `version` (`## [0.2.0] - 2026-12-07`), without its heading; undefined when absent. */
export function changelogSection(changelog, version) {
  const lines = changelog.split('\n');
  const heading = new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}\\s*$`);
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim();
}

/** The reasons `tag` may not be released with this package.json and changelog; empty when it may. */
export function releaseProblems(tag, pkg, changelog) {
  const problems = [];
  if (!SEMVER.test(pkg.version ?? ''))
    problems.push(`package.json's version ${JSON.stringify(pkg.version)} is not semver`);
  if (tag !== `v${pkg.version}`) problems.push(`tag ${tag} is not v${pkg.version} (package.json's version)`);
  const section = changelogSection(changelog, pkg.version ?? '');
  if (section === undefined) problems.push(`CHANGELOG.md has no "## [${pkg.version}] - YYYY-MM-DD" section`);
  else if (!/^\s*[-*] /m.test(section))
    problems.push(`CHANGELOG.md's section for ${pkg.version} lists no change`);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tag = process.argv[2];
  if (tag === undefined || process.argv.length > 3) {
    process.stderr.write('usage: node scripts/release-check.mjs <tag, e.g. v0.2.0>\n');
    process.exit(2);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  const problems = releaseProblems(tag, pkg, changelog);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`release-check: ${problem}\n`);
    process.exit(1);
  }
  process.stdout.write(`${changelogSection(changelog, pkg.version)}\n`);
}
