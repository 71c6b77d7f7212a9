// Per-instance memory limits for the process driver. Preferred: a cgroup v2 child group per instance
// with memory.max (the kernel enforces it, like Docker's --memory). That needs a writable cgroup v2
// hierarchy whose own group delegates the memory controller to children, which plain hosts and most
// containers do not offer (this project's CI machines have cgroup v1 memory only). Otherwise:
// `--max-old-space-size` for Node commands, so V8 fails its own allocations first, plus an RSS
// watchdog that kills any instance whose resident memory passes its limit.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LimitedProcess {
  pid: number;
  id: string;
  /** Ends the instance because it used too much memory. */
  killForMemory(): void;
}

export interface MemoryLimiter {
  readonly mode: 'cgroup' | 'watchdog';
  /** Node flags placed before the script of a Node command. */
  nodeArgs(memoryMb: number): string[];
  /** Applies the limit to a spawned process; the returned function undoes it after exit. */
  attach(target: LimitedProcess, memoryMb: number): () => void;
  close(): void;
}

const WATCHDOG_INTERVAL_MS = 250;

/** Share of the limit given to V8's old space; the rest is code, stacks and buffers. */
const HEAP_SHARE = 0.75;

export function heapFlag(memoryMb: number): string {
  return `--max-old-space-size=${Math.max(16, Math.floor(memoryMb * HEAP_SHARE))}`;
}

/** Resident set size in MB from /proc, undefined when the process is gone. */
export function residentMb(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(join(procRoot, String(pid), 'status'), 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

class WatchdogLimiter implements MemoryLimiter {
  readonly mode = 'watchdog';
  private readonly watched = new Map<LimitedProcess, number>();
  private timer: NodeJS.Timeout | undefined;

  nodeArgs(memoryMb: number): string[] {
    return [heapFlag(memoryMb)];
  }

  attach(target: LimitedProcess, memoryMb: number): () => void {
    this.watched.set(target, memoryMb);
    this.timer ??= setInterval(() => this.check(), WATCHDOG_INTERVAL_MS).unref();
    return () => {
      this.watched.delete(target);
      if (this.watched.size === 0) this.close();
    };
  }

  private check(): void {
    for (const [target, limitMb] of this.watched) {
      const rss = residentMb(target.pid);
      if (rss !== undefined && rss > limitMb) {
        this.watched.delete(target);
        target.killForMemory();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

class CgroupLimiter implements MemoryLimiter {
  readonly mode = 'cgroup';
  constructor(private readonly parent: string) {}

  nodeArgs(): string[] {
    return [];
  }

  attach(target: LimitedProcess, memoryMb: number): () => void {
    const group = join(this.parent, `fnguard-${target.id}`);
    try {
      mkdirSync(group);
      writeFileSync(join(group, 'memory.max'), `${memoryMb}M`);
      try {
        writeFileSync(join(group, 'memory.swap.max'), '0');
      } catch {
        // swap accounting may be off; memory.max still holds
      }
      writeFileSync(join(group, 'cgroup.procs'), String(target.pid));
    } catch {
      // The group could not be set up (the hierarchy changed under us): the process runs unlimited
      // rather than not at all; the kernel still protects the node with its own limits.
    }
    return () => {
      try {
        rmdirSync(group);
      } catch {
        // already gone
      }
    };
  }

  close(): void {}
}

/** The cgroup v2 group of this process, when the unified hierarchy is mounted at `root`. */
function ownGroup(root: string, procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split('\n').find((entry) => entry.startsWith('0::'));
  return line === undefined ? undefined : join(root, line.slice(3).trim());
}

/** Chooses cgroup limits when a probe group with memory.max can be created here, else the watchdog. */
export function createMemoryLimiter(root = '/sys/fs/cgroup'): MemoryLimiter {
  try {
    const parent = ownGroup(root, readFileSync('/proc/self/cgroup', 'utf8'));
    if (parent === undefined) return new WatchdogLimiter();
    const delegated = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    if (!delegated.includes('memory')) return new WatchdogLimiter();
    const probe = join(parent, `fnguard-probe-${process.pid}`);
    mkdirSync(probe);
    try {
      writeFileSync(join(probe, 'memory.max'), 'max');
    } finally {
      rmdirSync(probe);
    }
    return new CgroupLimiter(parent);
  } catch {
    return new WatchdogLimiter();
  }
}
