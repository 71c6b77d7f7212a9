// Nodes from DNS (-nodes-dns name:port): each name's A and AAAA records, read again every
// -dns-interval, are the nodes `ip:port` it stands for, as a Kubernetes headless Service or Swarm's
// `tasks.<service>` publish them. Each read reports the name's whole set to `update`, which adds what
// is new and drains what is gone. A read that fails (timeout, SERVFAIL, refused) reports nothing, so
// the last known set stays: an unreachable resolver never empties the ring. A name the server says has
// no records (NXDOMAIN, NODATA) is an empty set: every task of the service is gone.
import { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import { formatHostPort, parseNodeAddress } from './address.js';

export interface DnsTarget {
  /** As given on the command line: `name:port`. */
  name: string;
  host: string;
  port: number;
}

export interface DnsDiscoveryOptions {
  intervalMs: number;
  /** Each query's timeout; a read tries twice. */
  timeoutMs: number;
  /** Resolvers as ip or ip:port; empty for the system's (/etc/resolv.conf). */
  servers: string[];
}

/** The answers that mean "this name has no such records", not "the resolver failed". */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

type Lookup = { addresses: string[] } | { error: string };

export class DnsDiscovery {
  readonly #targets: DnsTarget[];
  readonly #options: DnsDiscoveryOptions;
  readonly #update: (target: DnsTarget, addresses: string[]) => void;
  readonly #log: Logger;
  readonly #failing = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #reading: Promise<void> | undefined;

  constructor(
    targets: DnsTarget[],
    options: DnsDiscoveryOptions,
    update: (target: DnsTarget, addresses: string[]) => void,
    log: Logger,
  ) {
    this.#targets = targets;
    this.#options = options;
    this.#update = update;
    this.#log = log;
  }

  /** Reads every name now, then every interval. Resolves after the first read. */
  async start(): Promise<void> {
    await this.readAll();
    const tick = () => {
      if (this.#closed) return;
      this.#timer = setTimeout(() => {
        void this.readAll().finally(tick);
      }, this.#options.intervalMs);
      this.#timer.unref();
    };
    tick();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** One read of every name; concurrent callers share it. */
  readAll(): Promise<void> {
    this.#reading ??= Promise.all(this.#targets.map((target) => this.#read(target))).then(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #read(target: DnsTarget): Promise<void> {
    const resolver = new Resolver({ timeout: this.#options.timeoutMs, tries: 2 });
    if (this.#options.servers.length > 0) resolver.setServers(this.#options.servers);
    const [v4, v6] = await Promise.all([
      lookup(() => resolver.resolve4(target.host)),
      lookup(() => resolver.resolve6(target.host)),
    ]);
    if (this.#closed) return;
    const failure = 'error' in v4 ? v4.error : 'error' in v6 ? v6.error : undefined;
    if (failure !== undefined) {
      // The first failure of an outage is a warning, the rest are quiet: the set stays as it was.
      if (!this.#failing.has(target.name)) {
        this.#failing.add(target.name);
        this.#log.warn(
          { name: target.name, error: failure },
          'DNS read failed: keeping the nodes it gave last',
        );
      }
      return;
    }
    if (this.#failing.delete(target.name)) this.#log.info({ name: target.name }, 'DNS answers again');
    const records = [...('addresses' in v4 ? v4.addresses : []), ...('addresses' in v6 ? v6.addresses : [])];
    this.#update(target, [...new Set(records)].map((ip) => formatHostPort(ip, target.port)).sort());
  }
}

async function lookup(query: () => Promise<string[]>): Promise<Lookup> {
  try {
    return { addresses: await query() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return NO_RECORDS.has(code) ? { addresses: [] } : { error: code };
  }
}

/** `name:port` of -nodes-dns, or undefined when it is not one (a name, not an IP; a port). */
export function parseDnsTarget(text: string): DnsTarget | undefined {
  const canonical = parseNodeAddress(text);
  if (canonical === undefined || canonical.startsWith('[')) return undefined;
  const colon = canonical.lastIndexOf(':');
  const host = canonical.slice(0, colon);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  return { name: canonical, host, port: Number(canonical.slice(colon + 1)) };
}
