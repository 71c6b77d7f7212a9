// What a process-driver instance may do, and how it is held to it. Each instance is spawned through a
// short trampoline that, before the function's code runs, joins the instance's own control groups
// (memory, pids, cpu) and execs `prlimit` (open files) and `setpriv` (an unprivileged user when the
// node is root, no new privileges, and SIGKILL when the node dies, even by SIGKILL). So:
//   identity  root nodes run functions as FN_PROCESS_USER (default nobody), who cannot read the node's
//             environment (/proc/<node>/environ), its files (the node creates them 0600) or its database
//   memory    a cgroup limit on the whole process tree (v2 when delegated, else v1 when writable);
//             without cgroups, Node's heap flag plus a watchdog on the tree's resident memory
//   pids      a cgroup pids.max (RLIMIT_NPROC would count every function of the same user at once)
//   cpu       a cgroup quota from the route's cpus (or FN_DEFAULT_CPUS)
//   files     RLIMIT_NOFILE
//   lifetime  PR_SET_PDEATHSIG: no instance outlives its node; groups a killed node left are emptied
//             and removed when a node with the same id starts
// What cannot be had here is said once in the log at start and left out, never faked. This is not a
// sandbox: functions share the node's kernel, file system view and network. The docker driver is the
// one for code you do not trust.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConfinementOptions {
  /** The node's id: names its cgroups, so the next node of that id can clean up after it. */
  nodeId: string;
  /** FN_PROCESS_USER: whom root runs functions as. */
  user?: string;
  /** Tasks (processes and threads) per instance. */
  pids?: number;
  /** Open files per instance. */
  openFiles?: number;
  cgroupRoot?: string;
}

export interface InstanceLimits {
  memoryMb: number;
  /** CPUs of quota; undefined for none. */
  cpus: number | undefined;
}

export interface ConfinedCommand {
  file: string;
  args: string[];
  /** Removes the instance's groups once it has exited. */
  release(): void;
  /** True when the kernel killed it for memory (cgroup mode; the watchdog reports its own kills). */
  oomKilled(): boolean;
}

export const DEFAULT_PIDS = 128;
export const DEFAULT_OPEN_FILES = 1024;
const CPU_PERIOD_US = 100_000;
const WATCHDOG_INTERVAL_MS = 250;
/** Share of the memory limit given to V8's old space when only the watchdog guards memory. */
const HEAP_SHARE = 0.75;

/** Joins the cgroups named before `--` (their cgroup.procs files), then execs the rest (with none of
 * the shell's own variables). */
const TRAMPOLINE =
  'unset PWD OLDPWD; while [ "$1" != "--" ]; do echo $$ > "$1" || { echo "fn-node: cannot join $1" >&2; exit 126; }; shift; done; shift; exec "$@"';

export function heapFlag(memoryMb: number): string {
  return `--max-old-space-size=${Math.max(16, Math.floor(memoryMb * HEAP_SHARE))}`;
}

function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  // No shell at all (a minimal image): nothing can be found, and nothing confined started either.
  const path = (found.stdout ?? '').trim();
  return found.status === 0 && path.startsWith('/') ? path : undefined;
}

/** uid and gid of a user from /etc/passwd, or a numeric uid[:gid]. */
export function lookupUser(user: string, passwd = '/etc/passwd'): { uid: number; gid: number } | undefined {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(user);
  if (numeric) return { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  try {
    for (const line of readFileSync(passwd, 'utf8').split('\n')) {
      const [name, , uid, gid] = line.split(':');
      if (name === user && uid !== undefined && gid !== undefined)
        return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** One kind of control group layout an instance's limits are written to. */
interface CgroupLayout {
  readonly name: string;
  readonly controllers: readonly Controller[];
  /** The directory of an instance's group for a controller. */
  groupOf(controller: Controller, id: string): string;
  /** Files to write in a new group, per controller. */
  settings(controller: Controller, limits: InstanceLimits, pids: number): Record<string, string>;
  oomKills(id: string): number;
  /** The directories under which this node's groups live (for the sweep of a killed node's). */
  nodeDirs(): string[];
}

type Controller = 'memory' | 'pids' | 'cpu';

function writable(dir: string): boolean {
  const probe = join(dir, `fnguard-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

function counter(file: string, key: string): number {
  try {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** cgroup v2: a child of the node's own group, when it delegates controllers to children. */
function unifiedLayout(root: string, nodeKey: string): CgroupLayout | undefined {
  let own: string;
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'));
    if (line === undefined) return undefined;
    own = join(root, line.slice(3).trim());
    if (!existsSync(join(own, 'cgroup.subtree_control'))) return undefined;
  } catch {
    return undefined;
  }
  const delegated = readFileSync(join(own, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  const controllers = (['memory', 'pids', 'cpu'] as const).filter((name) => delegated.includes(name));
  if (controllers.length === 0 || !writable(own)) return undefined;
  const base = join(own, `fnguard-${nodeKey}`);
  return {
    name: 'cgroup v2',
    controllers,
    groupOf: (_controller, id) => join(base, id),
    settings: (controller, limits, pids): Record<string, string> => {
      if (controller === 'memory') return { 'memory.max': `${limits.memoryMb}M`, 'memory.swap.max?': '0' };
      if (controller === 'pids') return { 'pids.max': String(pids) };
      return limits.cpus === undefined
        ? {}
        : { 'cpu.max': `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}` };
    },
    oomKills: (id) => counter(join(base, id, 'memory.events'), 'oom_kill'),
    nodeDirs: () => [base],
  };
}

/** cgroup v1: one hierarchy per controller, each where it is mounted and writable. */
function legacyLayout(root: string, nodeKey: string): CgroupLayout | undefined {
  const controllers = (['memory', 'pids', 'cpu'] as const).filter(
    (name) => existsSync(join(root, name, 'cgroup.procs')) && writable(join(root, name)),
  );
  if (controllers.length === 0) return undefined;
  const base = (controller: Controller) => join(root, controller, 'fnguard', nodeKey);
  return {
    name: 'cgroup v1',
    controllers,
    groupOf: (controller, id) => join(base(controller), id),
    settings: (controller, limits, pids): Record<string, string> => {
      if (controller === 'memory') {
        const bytes = String(limits.memoryMb * 1024 * 1024);
        return { 'memory.limit_in_bytes': bytes, 'memory.memsw.limit_in_bytes?': bytes };
      }
      if (controller === 'pids') return { 'pids.max': String(pids) };
      return limits.cpus === undefined
        ? {}
        : {
            'cpu.cfs_period_us': String(CPU_PERIOD_US),
            'cpu.cfs_quota_us': String(Math.round(limits.cpus * CPU_PERIOD_US)),
          };
    },
    oomKills: (id) => counter(join(base('memory'), id, 'memory.oom_control'), 'oom_kill'),
    nodeDirs: () => controllers.map(base),
  };
}

/** Resident memory of a process and all its descendants, in MB; undefined when it is gone. */
export function treeResidentMb(pid: number, procRoot = '/proc'): number | undefined {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync(procRoot).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const name of entries) {
    try {
      const status = readFileSync(join(procRoot, name, 'status'), 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1] ?? -1);
      const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
      rss.set(Number(name), kb);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone between the listing and the read
    }
  }
  if (!rss.has(pid)) return undefined;
  let total = 0;
  for (const stack = [pid]; stack.length > 0; ) {
    const next = stack.pop() as number;
    total += rss.get(next) ?? 0;
    stack.push(...(children.get(next) ?? []));
  }
  return total / 1024;
}

export class Confinement {
  readonly #layout: CgroupLayout | undefined;
  readonly #user: { name: string; uid: number; gid: number } | undefined;
  readonly #setpriv: string | undefined;
  readonly #prlimit: string | undefined;
  readonly #pids: number;
  readonly #openFiles: number;
  readonly #watched = new Map<number, { memoryMb: number; kill: () => void }>();
  #timer: NodeJS.Timeout | undefined;
  /** One line for the node's log: what instances are held to here, and what is left out. */
  readonly summary: string;

  constructor(options: ConfinementOptions) {
    const nodeKey = options.nodeId.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 100) || 'node';
    const root = options.cgroupRoot ?? '/sys/fs/cgroup';
    this.#layout = unifiedLayout(root, nodeKey) ?? legacyLayout(root, nodeKey);
    this.#setpriv = which('setpriv');
    this.#prlimit = which('prlimit');
    this.#pids = options.pids ?? DEFAULT_PIDS;
    this.#openFiles = options.openFiles ?? DEFAULT_OPEN_FILES;
    const isRoot = process.getuid?.() === 0;
    const userName = options.user ?? 'nobody';
    if (isRoot && userName !== 'root') {
      const found = lookupUser(userName);
      if (found === undefined)
        throw new Error(`FN_PROCESS_USER: no user ${JSON.stringify(userName)} on this machine`);
      if (this.#setpriv === undefined)
        throw new Error(
          'running functions as another user needs setpriv (util-linux), which is not installed',
        );
      this.#user = { name: userName, ...found };
    }
    const parts = [
      this.#user ? `as ${this.#user.name} (${this.#user.uid}:${this.#user.gid})` : `as the node's own user`,
      this.#layout
        ? `${this.#layout.name}: ${this.#layout.controllers.join(', ')}`
        : 'no cgroups: memory by heap flag and a watchdog on the process tree, pids and cpu not limited',
      this.#prlimit ? `open files ${this.#openFiles}` : 'open files not limited (no prlimit)',
      this.#setpriv ? 'killed with the node' : 'may outlive a killed node (no setpriv)',
    ];
    this.summary = parts.join('; ');
    this.sweepLeftovers();
  }

  /**
   * The files among `paths` the functions' user cannot read (a checkout under a home directory that
   * only root may enter, say): found at start rather than as a start failure on the first call.
   */
  unreadable(paths: readonly string[]): string[] {
    const user = this.#user;
    if (user === undefined || this.#setpriv === undefined || paths.length === 0) return [];
    const script = 'for f; do [ -r "$f" ] || echo "$f"; done';
    const checked = spawnSync(
      this.#setpriv,
      [
        '--reuid',
        String(user.uid),
        '--regid',
        String(user.gid),
        '--clear-groups',
        '--',
        '/bin/sh',
        '-c',
        script,
        'check',
        ...paths,
      ],
      { encoding: 'utf8' },
    );
    return checked.stdout.split('\n').filter(Boolean);
  }

  get userName(): string | undefined {
    return this.#user?.name;
  }

  /** uid and gid of the functions' user when it is not the node's own (a root node's FN_PROCESS_USER). */
  get functionIds(): { uid: number; gid: number } | undefined {
    return this.#user && { uid: this.#user.uid, gid: this.#user.gid };
  }

  get memoryMode(): 'cgroup' | 'watchdog' {
    return this.#layout?.controllers.includes('memory') ? 'cgroup' : 'watchdog';
  }

  /** Node flags placed before the script of a Node command. */
  nodeArgs(memoryMb: number): string[] {
    return [heapFlag(memoryMb)];
  }

  /** The command line that starts `command args` confined, with its groups made. */
  wrap(id: string, command: string, args: readonly string[], limits: InstanceLimits): ConfinedCommand {
    const made: string[] = [];
    const procs: string[] = [];
    const layout = this.#layout;
    for (const controller of layout?.controllers ?? []) {
      const group = (layout as CgroupLayout).groupOf(controller, id);
      try {
        mkdirSync(group, { recursive: true });
        made.push(group);
        for (const [file, value] of Object.entries(
          (layout as CgroupLayout).settings(controller, limits, this.#pids),
        )) {
          // A name ending in ? is optional (swap accounting is often off).
          const optional = file.endsWith('?');
          try {
            writeFileSync(join(group, optional ? file.slice(0, -1) : file), value);
          } catch (error) {
            if (!optional) throw error;
          }
        }
        procs.push(join(group, 'cgroup.procs'));
      } catch {
        // The hierarchy changed under us: this limit is left out for this instance rather than the
        // instance refused; the node's own limits still protect it.
      }
    }
    const chain: string[] = [];
    if (this.#prlimit)
      chain.push(this.#prlimit, `--nofile=${this.#openFiles}:${this.#openFiles}`, '--core=0', '--');
    if (this.#setpriv) {
      chain.push(this.#setpriv);
      if (this.#user)
        chain.push('--reuid', String(this.#user.uid), '--regid', String(this.#user.gid), '--clear-groups');
      chain.push('--no-new-privs', '--pdeathsig', 'KILL', '--');
    }
    return {
      file: '/bin/sh',
      args: ['-c', TRAMPOLINE, 'fn-instance', ...procs, '--', ...chain, command, ...args],
      release: () => {
        for (const group of made.reverse()) {
          try {
            rmdirSync(group);
          } catch {
            // still busy for a moment, or gone: the next sweep takes it
          }
        }
      },
      oomKilled: () => (layout?.controllers.includes('memory') ? layout.oomKills(id) > 0 : false),
    };
  }

  /** Without a memory cgroup: kills an instance whose tree's resident memory passes its limit. */
  watch(pid: number, memoryMb: number, kill: () => void): () => void {
    if (this.memoryMode === 'cgroup') return () => {};
    this.#watched.set(pid, { memoryMb, kill });
    this.#timer ??= setInterval(() => this.#check(), WATCHDOG_INTERVAL_MS).unref();
    return () => {
      this.#watched.delete(pid);
      if (this.#watched.size === 0) this.close();
    };
  }

  #check(): void {
    for (const [pid, { memoryMb, kill }] of this.#watched) {
      const rss = treeResidentMb(pid);
      if (rss !== undefined && rss > memoryMb) {
        this.#watched.delete(pid);
        kill();
      }
    }
  }

  /** Empties and removes the groups a node of this id left (it was killed with instances running). */
  sweepLeftovers(): void {
    for (const dir of this.#layout?.nodeDirs() ?? []) {
      let groups: string[];
      try {
        groups = readdirSync(dir, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(dir, entry.name));
      } catch {
        continue;
      }
      for (const group of groups) {
        try {
          for (const pid of readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
            process.kill(Number(pid), 'SIGKILL');
        } catch {
          // nothing left to kill
        }
        try {
          rmdirSync(group);
        } catch {
          // its processes are still exiting; the next start removes it
        }
      }
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
