// A node without FN_NODE_ID keeps its first id in its data folder, so a restarted node (or a
// re-created container on the same data) finds the function containers its earlier run left.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeIdFile, stableNodeId } from '../../src/node/node-id.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the default node id', () => {
  it('is kept the first time and read back after, whatever the host is called then; one per port', () => {
    dir = mkdtempSync(join(tmpdir(), 'fnguard-nodeid-'));
    const data = join(dir, 'data');
    expect(stableNodeId(data, 8080, 'a1b2c3:8080').id).toBe('a1b2c3:8080');
    expect(stableNodeId(data, 8081, 'a1b2c3:8081').id).toBe('a1b2c3:8081');
    expect(readFileSync(join(data, nodeIdFile(8080)), 'utf8').trim()).toBe('a1b2c3:8080');
    expect(stableNodeId(data, 8080, 'ffee00:8080')).toMatchObject({
      id: 'a1b2c3:8080',
      source: join(data, nodeIdFile(8080)),
    });
  });

  it('falls back to the host name and port when it cannot be kept', () => {
    dir = mkdtempSync(join(tmpdir(), 'fnguard-nodeid-'));
    // A file where the folder should be: no one, root included, can keep anything under it.
    const blocked = join(dir, 'data');
    writeFileSync(blocked, '');
    expect(stableNodeId(blocked, 1, 'h:1')).toMatchObject({
      id: 'h:1',
      source: expect.stringMatching(/not writable/),
    });
  });
});
