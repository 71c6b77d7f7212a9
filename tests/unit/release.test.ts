// The release path, checked without releasing: scripts/release-check.mjs agrees with this package.json
// and CHANGELOG.md and refuses a tag that does not, and .github/workflows/release.yml runs on version
// tags, checks before it builds, tests before it publishes, and publishes with provenance.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE } from '../../src/common/package-root.js';

const script = join(PACKAGE.root, 'scripts/release-check.mjs');
const check = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

describe('scripts/release-check.mjs', () => {
  it("passes the tag of package.json's version and prints its changelog section", () => {
    const run = check(`v${PACKAGE.version}`);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^- /m);
  });

  it('refuses another tag, naming the version it wanted', () => {
    const run = check('v999.0.0');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`tag v999.0.0 is not v${PACKAGE.version}`);
  });

  it('answers a missing tag with its usage', () => {
    expect(check().status).toBe(2);
  });
});

describe('.github/workflows/release.yml', () => {
  const workflow = parse(readFileSync(join(PACKAGE.root, '.github/workflows/release.yml'), 'utf8')) as {
    on: { push: { tags: string[] } };
    permissions: Record<string, string>;
    jobs: Record<string, { steps: { name?: string; run?: string; uses?: string }[] }>;
  };
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const at = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step.run ?? ''));

  it('runs on version tags only', () => {
    expect(workflow.on).toEqual({ push: { tags: ['v*.*.*'] } });
  });

  it('checks the tag first, tests before publishing, and publishes with provenance', () => {
    const checked = at(/release-check\.mjs "\$GITHUB_REF_NAME"/);
    const installed = at(/^npm ci$/);
    const tested = at(/^npm test$/);
    const published = at(/^npm publish --provenance/);
    expect(checked).toBeGreaterThanOrEqual(0);
    expect(checked).toBeLessThan(installed);
    expect(installed).toBeLessThan(tested);
    expect(tested).toBeLessThan(published);
    expect(workflow.permissions['id-token'], 'provenance needs an OIDC token').toBe('write');
  });
});
