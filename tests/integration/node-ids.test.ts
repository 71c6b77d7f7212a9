// The run's memory of node ids (guard/topology/control.ts): a guard file that learned the nodes' ids
// leaves them with the topology's control server, the next file names the nodes from there without
// calling them, and a restore forgets them (an orchestrator may have put other nodes at the same
// addresses). Against the run's own topology, with files of this test's own.
import { describe, expect, inject, it } from 'vitest';
import { SuiteFile } from '../../guard/engine/suite-file.js';
import { FaultClient } from '../../guard/topology/control.js';

const topology = inject('topology');
const control = topology.controlUrl === undefined ? undefined : new FaultClient(topology.controlUrl);

describe.skipIf(control === undefined)('node ids learned once per run', () => {
  it('are remembered by the first file and named by the next without calling the nodes', async () => {
    const memory = control as FaultClient;
    await memory.restore();
    expect(await memory.knownIds()).toEqual({});
    const first = await SuiteFile.open(topology, 'ids-first', memory);
    try {
      const known = await memory.knownIds();
      expect(Object.keys(known).sort()).toEqual([...topology.nodes].sort());
      for (const node of topology.nodes) expect(known[node]).toEqual(first.directory.idsOf(node));
    } finally {
      await first.close();
    }
    const second = await SuiteFile.open(topology, 'ids-second', memory);
    try {
      for (const node of topology.nodes) expect(second.directory.idsOf(node).length).toBeGreaterThan(0);
      if (topology.capabilities.nodeStats) {
        // Its discovery route exists, and no node ran it.
        const calls = await second.routeCounter('/discover', 'calls');
        expect(
          Object.values(calls).every((count) => count === 0),
          JSON.stringify(calls),
        ).toBe(true);
      }
    } finally {
      await second.close();
    }
    await memory.restore();
    expect(await memory.knownIds()).toEqual({});
  });

  it.skipIf(!topology.capabilities.kill)(
    'name a node that cannot be asked as unidentified, and learn the others',
    async () => {
      const memory = control as FaultClient;
      await memory.restore();
      const [down, ...up] = topology.nodes as [string, ...string[]];
      await memory.kill(down);
      try {
        const file = await SuiteFile.open(topology, 'ids-down', memory, 3000);
        try {
          expect(file.unidentified).toMatch(new RegExp(`no id learned within 3 s for ${down} \\(`));
          for (const node of up) expect(file.directory.idsOf(node).length).toBeGreaterThan(0);
          expect(file.directory.idsOf(down)).toEqual([]);
          // What was learned is remembered; the node that could not be asked is not.
          expect(Object.keys(await memory.knownIds()).sort()).toEqual([...up].sort());
        } finally {
          await file.close();
        }
      } finally {
        await memory.restore();
      }
    },
  );

  it('refuses ids that are not lists of names by node address', async () => {
    await expect((control as FaultClient).rememberIds({ 'n1:8080': [1] } as never)).rejects.toThrow(
      /body must be \{"ids"/,
    );
  });
});
