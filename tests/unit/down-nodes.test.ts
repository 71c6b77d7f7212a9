// What a topology's restore must bring back: every node a fault took down or froze, and only those;
// a fault that failed midway still counts, and a frozen node is thawed before anything is started.
import { describe, expect, it } from 'vitest';
import { DownNodes } from '../../guard/topology/down-nodes.js';

describe('the nodes a fault left down or frozen', () => {
  it('restores exactly those: thawed first, then started', async () => {
    const done: string[] = [];
    const down = new DownNodes();
    const faults = down.track({
      kill: async (node) => void done.push(`kill ${node}`),
      start: async (node) => void done.push(`start ${node}`),
      freeze: async (node) => void done.push(`freeze ${node}`),
      thaw: async (node) => void done.push(`thaw ${node}`),
    });
    expect(down.pending()).toBe(false);
    await faults.kill?.('a');
    await faults.kill?.('b');
    await faults.start?.('b');
    await faults.freeze?.('c');
    await faults.freeze?.('d');
    await faults.thaw?.('d');
    expect(faults.stop, 'a fault the topology lacks stays absent').toBeUndefined();
    expect(down.pending()).toBe(true);
    done.length = 0;
    await down.restore(async (node) => void done.push(`restore-start ${node}`));
    expect(done).toEqual(['thaw c', 'restore-start a']);
    expect(down.pending()).toBe(false);
  });

  it('counts a node whose fault failed midway', async () => {
    const down = new DownNodes();
    const faults = down.track({
      freeze: async () => {
        throw new Error('docker pause failed');
      },
      thaw: async () => {},
    });
    await expect(faults.freeze?.('a')).rejects.toThrow('docker pause failed');
    expect(down.pending()).toBe(true);
  });
});
