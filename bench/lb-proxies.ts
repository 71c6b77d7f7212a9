// Third-party balancers for the fnlb benches, started only when their binaries are installed:
// nginx with `hash $uri consistent` and HAProxy with `balance uri` + `hash-balance-factor 125`, the
// configurations fnlb is measured against, and nginx's default round robin (what a balancer that
// knows nothing of routes does). Each uses every core (nginx `worker_processes auto`, HAProxy's own
// default of a thread per core), runs from a scratch directory with its own config and is stopped by
// pid. The benches never install them; INSTALL_HINT says how.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../helpers/ports.js';
import { waitUntil } from '../helpers/wait.js';

export const INSTALL_HINT = 'apt-get install -y nginx haproxy';

export interface RunningProxy {
  name: string;
  url: string;
  stop(): Promise<void>;
}

export function binary(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin']) {
    try {
      execFileSync('test', ['-x', join(dir, name)]);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function nginxConfig(dir: string, port: number, nodes: string[], balance: string): string {
  return `worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream fn {
${balance}
${nodes.map((node) => `    server ${node};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function haproxyConfig(port: number, nodes: string[]): string {
  return `global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  default_backend fns
backend fns
  balance uri
  hash-type consistent
  hash-balance-factor 125
${nodes.map((node, i) => `  server n${i} ${node}`).join('\n')}
`;
}

async function waitListening(url: string, child: ChildProcess, what: string): Promise<void> {
  const answers = async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const response = await request(`${url}/version`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await response.body.dump();
      return response.statusCode === 200;
    } catch {
      return false; // not listening yet
    }
  };
  await waitUntil(`${what} answering`, answers, 10_000, 50);
}

async function startProxy(
  name: string,
  command: string,
  args: (dir: string, port: number) => string[],
  config: (dir: string, port: number) => [string, string],
): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'fnguard-bench-proxy-'));
  const port = await freePort();
  const [file, text] = config(dir, port);
  writeFileSync(join(dir, file), text);
  const child = spawn(command, args(dir, port), { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(url, child, name);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, url, stop };
}

function nginx(name: string, balance: string): (command: string, nodes: string[]) => Promise<RunningProxy> {
  return (command, nodes) =>
    startProxy(
      name,
      command,
      (dir) => ['-p', dir, '-c', join(dir, 'nginx.conf')],
      (dir, port) => ['nginx.conf', nginxConfig(dir, port, nodes, balance)],
    );
}

export const startNginx = nginx('nginx (hash $uri consistent)', '    hash $uri consistent;');
/** nginx's default balancing: every call to the next node, whatever its route. */
export const startRoundRobin = nginx('round robin (nginx)', '    # round robin: nginx default');

export function startHaproxy(command: string, nodes: string[]): Promise<RunningProxy> {
  return startProxy(
    'haproxy (balance uri, hash-balance-factor 125)',
    command,
    (dir) => ['-db', '-f', join(dir, 'haproxy.cfg')],
    (_dir, port) => ['haproxy.cfg', haproxyConfig(port, nodes)],
  );
}
