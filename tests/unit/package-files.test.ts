// What the package ships (package.json "files", as npm pack reads it) holds every file the guard's
// topologies read from the package at run time: a topology that works from a checkout must work from
// an install too.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PACKAGE } from '../../src/common/package-root.js';

/** Files the guard opens below the package root when a topology runs (not the compiled dist/). */
const READ_AT_RUN_TIME = [
  'docker/build-images.sh',
  'docker/image-deps.mjs',
  'docker/fn-node.Dockerfile',
  'docker/fnlb.Dockerfile',
  'docker/function.Dockerfile',
  'deploy/swarm/stack.yml',
  'deploy/swarm/publish-nodes.yml',
  'guard/run/setup.ts',
  'guard/report/reporter.ts',
  'guard/report/fnlb-guard-report.schema.json',
  'tests/guard/sticky.test.ts',
  'LICENSE',
  'CHANGELOG.md',
];

describe('the packed package', () => {
  it('ships what the topologies read at run time, and no mutant balancer, bench or source map', () => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: PACKAGE.root,
        encoding: 'utf8',
        timeout: 60_000,
      }),
    ) as [{ files: { path: string }[] }];
    const files = new Set(packed.files.map((file) => file.path));
    for (const path of READ_AT_RUN_TIME) expect(files, path).toContain(path);
    const unwanted = [...files].filter((path) =>
      /^dist\/(bench|demo|tests)\/|\.map$|\.tsbuildinfo$/.test(path),
    );
    expect(unwanted).toEqual([]);
  });
});
