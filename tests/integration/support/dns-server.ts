// A real DNS server for tests: dnsmasq (scripts/install-dns.sh) on a free 127.0.0.1 port, answering
// for one domain only from a hosts file the test rewrites (setRecords re-reads it with SIGHUP); names
// of the domain it has no record for are NXDOMAIN, as a Kubernetes headless Service or Swarm's
// tasks.<service> answer once every task is gone. Records have TTL 0, so nothing caches them. stop()
// and start() make a resolver outage.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../helpers/ports.js';
import { waitUntil } from '../../../helpers/wait.js';
import { orAfter } from '../../../src/common/deadline.js';

const READY_TIMEOUT_MS = 10_000;

/** Whether dnsmasq is installed; the tests that need it skip with this reason otherwise. */
export function dnsmasqMissing(): string | undefined {
  try {
    execFileSync('dnsmasq', ['--version'], { stdio: 'ignore', timeout: 5000 });
    return undefined;
  } catch {
    return 'dnsmasq is not installed: run scripts/install-dns.sh';
  }
}

export class DnsServer {
  #child: ChildProcess | undefined;
  readonly #dir: string;
  readonly #hosts: string;

  private constructor(
    /** The domain it answers for, such as `fng.test`. */
    readonly domain: string,
    readonly port: number,
  ) {
    this.#dir = mkdtempSync(join(tmpdir(), 'fnguard-dns-'));
    this.#hosts = join(this.#dir, 'hosts');
    writeFileSync(this.#hosts, '');
  }

  static async start(domain: string): Promise<DnsServer> {
    const server = new DnsServer(domain, await freePort());
    try {
      await server.start();
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  /** `ip` or `ip:port`, as fnlb's -dns-server takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts dnsmasq (again, after stop()) on the same port; resolves once it answers. */
  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${this.#hosts}`,
        `--local=/${this.domain}/`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        `--port=${this.port}`,
        '--local-ttl=0',
        '--pid-file=',
        // As root it would switch to nobody, who cannot read the test's private directory.
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
        '--log-facility=-',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // The test process may exit without close(): the server must not outlive it.
    const stopOnExit = () => child.kill('SIGTERM');
    process.once('exit', stopOnExit);
    child.once('exit', () => process.removeListener('exit', stopOnExit));
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    });
    this.#child = child;
    const probe = new Resolver({ timeout: 300, tries: 1 });
    probe.setServers([this.address]);
    const answers = async () => {
      if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode})`);
      try {
        await probe.resolve4(`ready.${this.domain}`);
        return true;
      } catch (error) {
        // NXDOMAIN is an answer: the server is up.
        return (error as NodeJS.ErrnoException).code === 'ENOTFOUND';
      }
    };
    try {
      await waitUntil(`dnsmasq to answer on ${this.address}`, answers, READY_TIMEOUT_MS, 50);
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${output}`);
    }
  }

  /** The records of the domain from now on: name (without the domain) -> IPs. */
  setRecords(records: Record<string, string[]>): void {
    const lines = Object.entries(records).flatMap(([name, ips]) =>
      ips.map((ip) => `${ip} ${name}.${this.domain}`),
    );
    writeFileSync(this.#hosts, `${lines.join('\n')}\n`);
    this.#child?.kill('SIGHUP');
  }

  /** Stops answering: queries time out (nothing listens on the port). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    if (child.exitCode === null) {
      const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
      child.kill('SIGTERM');
      if (!(await orAfter(exited, 5000, false))) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
