// The peer balancers of the fnlb benches, nginx and HAProxy, started from the scripts the guard runs
// as FNLB_CMD: examples/balancers/nginx.sh and haproxy.sh are the one definition of each peer's
// configuration, so a row in a bench table and a verdict in the guard's table under the same name are
// about the same setup. The benches run them as the guard does: the same command line, its
// placeholders filled by the guard's code with the guard's values (health every HC_INTERVAL_S, the
// upstream timeout UPSTREAM_TIMEOUT_S), through /bin/sh in its own process group from the package
// root (helpers/managed-process.ts), started once a call to /version through it answers, stopped by
// that group's pid (SIGTERM, then SIGKILL after a grace period). What only the benches vary goes in
// the scripts' optional arguments: the worker count (the benches give one per core) and nginx's
// balancing (round robin: what a balancer that knows nothing of routes does). The benches never
// install the peers; binary() says whether one is, INSTALL_HINT how to add it.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { expand, HC_INTERVAL_S, UPSTREAM_TIMEOUT_S } from '../guard/topology/balancer-template.js';
import { ManagedProcess } from '../helpers/managed-process.js';
import { freePort } from '../helpers/ports.js';
import { PACKAGE } from '../src/common/package-root.js';

export const INSTALL_HINT = 'bash examples/balancers/install.sh (apt-get install -y nginx-light haproxy)';

export interface RunningProxy {
  name: string;
  url: string;
  /** The command line it runs, from the package root: an FNLB_CMD with its placeholders filled. */
  command: string;
  stop(): Promise<void>;
}

/** Starts a peer in front of `nodes` with `workers` worker processes (HAProxy: threads). */
export type StartProxy = (nodes: readonly string[], workers: number) => Promise<RunningProxy>;

/** Where the scripts find their balancer: PATH, then the sbin directories they add to it. */
const SEARCHED = [
  ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
  '/usr/local/sbin',
  '/usr/sbin',
  '/sbin',
];
const READY_TIMEOUT_MS = 20_000;
/** SIGTERM, then SIGKILL after this: on TERM the scripts stop their balancer and remove their files. */
const STOP_GRACE_MS = 5_000;

/** The path of the `name` executable the scripts would run, or undefined when it is not installed. */
export function binary(name: string): string | undefined {
  for (const dir of SEARCHED) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function startPeer(
  name: string,
  script: string,
  options: string[],
  nodes: readonly string[],
): Promise<RunningProxy> {
  const listen = `127.0.0.1:${await freePort()}`;
  const template = `examples/balancers/${script} {listen} {nodes} {hc_interval} {upstream_timeout} ${options.join(' ')}`;
  const command = expand(
    template,
    { listen, mgmt: listen, nodes, hcIntervalS: HC_INTERVAL_S, upstreamTimeoutS: UPSTREAM_TIMEOUT_S },
    name,
  );
  // The script makes its scratch directory under TMPDIR: one of ours, removed even after a SIGKILL.
  const scratch = mkdtempSync(join(tmpdir(), 'fnguard-bench-proxy-'));
  const remove = () => rmSync(scratch, { recursive: true, force: true });
  const proxy = await ManagedProcess.spawn({
    label: name,
    shell: command,
    cwd: PACKAGE.root,
    env: { ...(process.env as Record<string, string>), TMPDIR: scratch },
    readyUrl: `http://${listen}/version`,
    readyTimeoutMs: READY_TIMEOUT_MS,
  }).catch((error: unknown) => {
    remove();
    throw error;
  });
  const stop = async () => {
    await proxy.stop(STOP_GRACE_MS);
    remove();
  };
  return { name, url: `http://${listen}`, command, stop };
}

/** nginx `hash $uri consistent` (nginx.sh's default balancing), the peer the guard judges. */
export const startNginx: StartProxy = (nodes, workers) =>
  startPeer('nginx (hash $uri consistent)', 'nginx.sh', [String(workers), 'hash'], nodes);

/** nginx.sh with nginx's default balancing: every call to the next node, whatever its route. */
export const startRoundRobin: StartProxy = (nodes, workers) =>
  startPeer('round robin (nginx)', 'nginx.sh', [String(workers), 'round-robin'], nodes);

/** HAProxy `balance uri` + `hash-balance-factor 125`, the peer the guard judges. */
export const startHaproxy: StartProxy = (nodes, workers) =>
  startPeer('haproxy (balance uri, hash-balance-factor 125)', 'haproxy.sh', [String(workers)], nodes);
