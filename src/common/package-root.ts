// Locates the fnlb-guard package root (where package.json is) from any module, whether it runs from
// source (src/, helpers/) or compiled (dist/...), so paths to dist/ and the version are found alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  root: string;
  version: string;
}

function locate(): PackageInfo {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fnlb-guard' && pkg.version) return { root: dir, version: pkg.version };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the fnlb-guard package.json above this module');
    dir = parent;
  }
}

export const PACKAGE: PackageInfo = locate();

/** Absolute path of a file of the compiled build, given its path relative to dist/. */
export function distPath(relative: string): string {
  return join(PACKAGE.root, 'dist', relative);
}
