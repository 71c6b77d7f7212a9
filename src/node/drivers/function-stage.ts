// A root node runs functions as another user (FN_PROCESS_USER, nobody by default), who cannot read a
// checkout or an install under a directory only root may enter: root's home, or any `mktemp -d`, both
// 0700. The shipped functions need nothing but Node's built-ins and the build's own src/functions and
// src/common, so such a node runs them from a copy made for that user: a folder in the temporary
// directory that everyone may read and only root may write, removed when the node closes (and, after
// a killed node, by the next node with its id).
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { distPath } from '../../common/package-root.js';

/** The build's folders the shipped functions load modules from (src/functions imports src/common). */
const FUNCTION_FOLDERS = ['src/functions', 'src/common'];

function stagePattern(nodeKey: string): RegExp {
  return new RegExp(`^fn-node-functions-${nodeKey}-[A-Za-z0-9]{6}$`);
}

/** Everyone may read and enter, whatever the umask the build was made under. */
function makeReadable(path: string): void {
  chmodSync(path, 0o755);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) makeReadable(child);
    else chmodSync(child, 0o644);
  }
}

/** Removes the copies an earlier node with this key left (it was killed before it could). */
export function sweepFunctionStages(root: string, nodeKey: string): void {
  const pattern = stagePattern(nodeKey);
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const entry of entries)
    if (pattern.test(entry)) rmSync(join(root, entry), { recursive: true, force: true });
}

/**
 * Copies the shipped functions' modules into a new folder under `root`; returns it. Its layout is the
 * build's (`<folder>/src/functions/primes.js`), so a path under dist/ maps to it by its prefix.
 */
export function stageShippedFunctions(root: string, nodeKey: string): string {
  const stage = mkdtempSync(join(root, `fn-node-functions-${nodeKey}-`));
  try {
    for (const folder of FUNCTION_FOLDERS)
      cpSync(distPath(folder), join(stage, folder), {
        recursive: true,
        filter: (source) => !source.endsWith('.map'),
      });
    // The modules are ES modules: the package.json that says so stays behind in the checkout.
    writeFileSync(join(stage, 'package.json'), '{"type":"module"}\n');
    makeReadable(stage);
  } catch (error) {
    rmSync(stage, { recursive: true, force: true });
    throw error;
  }
  return stage;
}

/** `path` as it is in `stage` when it is one of the staged modules; any other path as it is. */
export function inStage(stage: string, path: string): string {
  for (const folder of FUNCTION_FOLDERS) {
    const shipped = distPath(folder);
    if (path.startsWith(`${shipped}${sep}`)) return join(stage, folder, path.slice(shipped.length + 1));
  }
  return path;
}
