// What the kernel says of a process the suite started, read from /proc: whether it is alive, resident
// memory, CPU time, open file descriptors (those a server holds itself apart from the connections its
// clients keep open), and the processes below it (a node's function instances, by the container id
// in their environment). Reads race with exits, so a process gone between listing and reading counts
// as absent, never as an error.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Resident set size in bytes; undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors; undefined once the process is gone. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses, so
 * they start after its last ')'): state letter (R, S, Z...), parent pid, and CPU ticks in user and
 * kernel mode; undefined once the process is gone.
 */
function statOf(pid: number): { state: string; parent: number; cpuTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      state: fields[0] ?? '',
      parent: Number(fields[1]),
      cpuTicks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** The live (not zombie) processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return pids().filter((child) => {
    const stat = statOf(child);
    return stat !== undefined && stat.parent === pid && stat.state !== 'Z';
  });
}

/** Live children of `parentPid` that are function instances, by their FN_CONTAINER_ID. */
export function functionProcesses(parentPid: number): Map<string, number> {
  const found = new Map<string, number>();
  for (const pid of childrenOf(parentPid)) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const id = env.find((line) => line.startsWith('FN_CONTAINER_ID='))?.slice('FN_CONTAINER_ID='.length);
      if (id) found.set(id, pid);
    } catch {
      // it ended while we looked
    }
  }
  return found;
}

/** CPU time a process has used, in clock ticks (utime + stime). */
export function cpuTicks(pid: number): number {
  const stat = statOf(pid);
  if (stat === undefined) throw new Error(`process ${pid} is gone`);
  return stat.cpuTicks;
}

/** Every process below `pid`, at any depth, zombies too: a child its parent has not reaped is a leak. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const child of pids()) {
    const parent = statOf(child)?.parent;
    if (parent === undefined) continue;
    const siblings = children.get(parent);
    if (siblings) siblings.push(child);
    else children.set(parent, [child]);
  }
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop() as number) ?? []) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

/**
 * Whether the pid is still in the process table, a zombie included: false once its parent has reaped
 * it, so a node's child being gone means the node has seen it end.
 */
export function exists(pid: number): boolean {
  return statOf(pid) !== undefined;
}

/** Whether a process with this pid is alive (and not a zombie). */
export function alive(pid: number): boolean {
  const state = statOf(pid)?.state;
  return state !== undefined && state !== 'Z';
}

/** Socket inodes of established TCP connections whose local port is `port` (accepted by its server). */
function acceptedSockets(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== '01') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9] ?? '');
    }
  }
  return inodes;
}

/**
 * A server's open descriptors, split: the connections its clients opened to `port` (theirs to keep
 * open, within the server's connection cap) and everything else (what the server itself holds).
 */
export function descriptorsOf(pid: number, port: number): { own: number; accepted: number } | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const accepted = acceptedSockets(port);
  let inbound = 0;
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && accepted.has(inode)) inbound++;
    } catch {
      // closed between listing and reading
    }
  }
  return { own: fds.length - inbound, accepted: inbound };
}
