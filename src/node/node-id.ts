// The node's identity when FN_NODE_ID does not give one: `<hostname>:<port>`, kept in the node's data
// folder (./data/node-id.<port>, beside the default SQLite database; one per port, so nodes sharing a
// folder stay apart) the first time and read back after. In a
// container the host name is the container's id, which a re-created container does not keep; the
// node's labels on its function containers, and the leftovers a crashed node leaves, go by this id.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file that keeps the id of the node serving on `port`. */
export const nodeIdFile = (port: number) => `node-id.${port}`;

/** The id kept in `dir`, or `fallback` kept there now; `fallback` alone when the folder is not writable. */
export function stableNodeId(dir: string, port: number, fallback: string): { id: string; source: string } {
  const file = join(dir, nodeIdFile(port));
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept !== '') return { id: kept, source: file };
  } catch {
    // not kept yet
  }
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${fallback}\n`);
    return { id: fallback, source: `${file} (new)` };
  } catch {
    return { id: fallback, source: 'host name and port (the data folder is not writable)' };
  }
}
