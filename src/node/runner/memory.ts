// Memory admission: how much the node may give to containers, and what is reserved. Each container
// reserves its route's `memory` from start until its process is gone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Capacity {
  mb: number;
  /** Where the figure came from, for the start-up log. */
  source: string;
}

/** Kept back for the node itself (and its database driver) when the capacity is detected. */
export function headroomMb(totalMb: number): number {
  return Math.min(256, Math.floor(totalMb / 4));
}

/** cgroup v1 and v2 print "no limit" as a huge number or "max". */
const UNLIMITED_BYTES = 2 ** 60;

type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

function cgroupLimitBytes(read: ReadText): number | undefined {
  const groups = read('/proc/self/cgroup') ?? '';
  const candidates: string[] = [];
  for (const line of groups.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    if (controllers === '') candidates.push(join('/sys/fs/cgroup', path, 'memory.max'));
    if (controllers?.split(',').includes('memory')) {
      candidates.push(join('/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes'));
      candidates.push('/sys/fs/cgroup/memory/memory.limit_in_bytes');
    }
  }
  for (const file of candidates) {
    const text = read(file)?.trim();
    if (text === undefined || text === 'max' || !/^\d+$/.test(text)) continue;
    const bytes = Number(text);
    if (bytes < UNLIMITED_BYTES) return bytes;
  }
  return undefined;
}

/** FN_MEMORY_MB when set, else the cgroup limit, else MemAvailable; detected figures less headroom. */
export function detectCapacity(configuredMb: number | undefined, read: ReadText = readText): Capacity {
  if (configuredMb !== undefined) return { mb: configuredMb, source: 'FN_MEMORY_MB' };
  const limit = cgroupLimitBytes(read);
  if (limit !== undefined) {
    const mb = Math.floor(limit / 2 ** 20);
    return { mb: mb - headroomMb(mb), source: 'cgroup memory limit less headroom' };
  }
  const available = /^MemAvailable:\s+(\d+) kB$/m.exec(read('/proc/meminfo') ?? '');
  if (available) {
    const mb = Math.floor(Number(available[1]) / 1024);
    return { mb: mb - headroomMb(mb), source: 'MemAvailable less headroom' };
  }
  return { mb: 1024, source: 'fallback (no cgroup limit or /proc/meminfo)' };
}

export class MemoryBudget {
  private reserved = 0;

  constructor(readonly capacityMb: number) {}

  get freeMb(): number {
    return this.capacityMb - this.reserved;
  }

  tryReserve(mb: number): boolean {
    if (mb > this.freeMb) return false;
    this.reserved += mb;
    return true;
  }

  release(mb: number): void {
    this.reserved = Math.max(0, this.reserved - mb);
  }
}
