// Where the node's memory capacity comes from: FN_MEMORY_MB, else a cgroup limit, else MemAvailable.
import { describe, expect, it } from 'vitest';
import { detectCapacity, headroomMb, MemoryBudget } from '../../src/node/runner/memory.js';

const files = (entries: Record<string, string>) => (path: string) => entries[path];

describe('memory capacity', () => {
  it('takes FN_MEMORY_MB as given', () => {
    expect(detectCapacity(300, files({}))).toEqual({ mb: 300, source: 'FN_MEMORY_MB' });
  });

  it('uses a cgroup v2 limit less headroom', () => {
    const read = files({
      '/proc/self/cgroup': '0::/box\n',
      '/sys/fs/cgroup/box/memory.max': `${2048 * 2 ** 20}\n`,
    });
    expect(detectCapacity(undefined, read)).toMatchObject({ mb: 2048 - 256 });
  });

  it('uses a cgroup v1 limit, ignoring "unlimited"', () => {
    const read = files({
      '/proc/self/cgroup': '4:memory:/box\n1:cpu:/\n',
      '/sys/fs/cgroup/memory/box/memory.limit_in_bytes': '9223372036854771712',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': `${512 * 2 ** 20}`,
      '/proc/meminfo': 'MemAvailable:   8000000 kB\n',
    });
    expect(detectCapacity(undefined, read)).toMatchObject({ mb: 512 - headroomMb(512) });
  });

  it('falls back to MemAvailable less headroom when no limit is set', () => {
    const read = files({
      '/proc/self/cgroup': '0::/\n',
      '/sys/fs/cgroup/memory.max': 'max\n',
      '/proc/meminfo': 'MemTotal: 1 kB\nMemAvailable:   4194304 kB\n',
    });
    expect(detectCapacity(undefined, read)).toEqual({ mb: 4096 - 256, source: 'MemAvailable less headroom' });
  });

  it('reserves and releases within capacity', () => {
    const budget = new MemoryBudget(256);
    expect(budget.tryReserve(128)).toBe(true);
    expect(budget.tryReserve(128)).toBe(true);
    expect(budget.tryReserve(1)).toBe(false);
    budget.release(128);
    expect(budget.freeMb).toBe(128);
  });
});
