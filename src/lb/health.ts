// Node health. Active: every interval each node gets `GET <hc-path>` with a deadline; the answer must
// be 200 with {"version": semver >= min-api-version}. `hc-unhealthy` consecutive failures take an
// online node out, `hc-healthy` consecutive passes put it (back) in; a new node stays `unknown`, with
// no traffic, until it passes. Passive: a request that cannot connect takes the node out at once, so
// the next requests go straight to the next node instead of paying a refused connect each.
import type { Logger } from 'pino';
import semver from 'semver';
import type { VersionResponse } from '../common/wire.js';
import type { Backend } from './backend.js';
import type { Balancer } from './balancer.js';

export interface HealthOptions {
  intervalMs: number;
  path: string;
  timeoutMs: number;
  unhealthy: number;
  healthy: number;
  minApiVersion: string;
}

/** What a proxied request taught about a node: it refused the connect, or said it is draining. */
export type PassiveMark = { kind: 'connect-failed'; reason: string } | { kind: 'draining' };

export class HealthChecker {
  readonly #balancer: Balancer;
  readonly #options: HealthOptions;
  readonly #log: Logger;
  readonly #pending = new Set<Backend>();
  #timer: NodeJS.Timeout | undefined;
  /** Called on each passive mark (an fnlb worker tells the primary, which owns the node states). */
  onPassive: ((address: string, mark: PassiveMark) => void) | undefined;

  constructor(balancer: Balancer, options: HealthOptions, log: Logger) {
    this.#balancer = balancer;
    this.#options = options;
    this.#log = log;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.checkAll();
    this.#timer = setInterval(() => this.checkAll(), this.#options.intervalMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  checkAll(): void {
    for (const backend of this.#balancer.backends()) void this.check(backend);
  }

  /** One check of one node; a node whose previous check is still running is skipped. */
  async check(backend: Backend): Promise<void> {
    if (this.#pending.has(backend)) return;
    this.#pending.add(backend);
    try {
      const problem = await this.#probe(backend);
      if (problem === undefined) this.#passed(backend);
      else this.#failed(backend, problem);
    } finally {
      this.#pending.delete(backend);
    }
  }

  /** Passive marking: a connect to the node failed while proxying. */
  connectFailed(backend: Backend, reason: string): void {
    this.passive(backend, { kind: 'connect-failed', reason });
  }

  /** Passive marking: the node answered that it is draining; it takes no new calls from now on. */
  draining(backend: Backend): void {
    this.passive(backend, { kind: 'draining' });
  }

  passive(backend: Backend, mark: PassiveMark): void {
    const reason = mark.kind === 'draining' ? 'draining' : mark.reason;
    backend.consecutivePassed = 0;
    backend.lastCheckError = reason;
    this.#transition(
      backend,
      'offline',
      mark.kind === 'draining' ? 'node is draining' : `connect failed: ${reason}`,
    );
    this.onPassive?.(backend.address, mark);
  }

  async #probe(backend: Backend): Promise<string | undefined> {
    const { timeoutMs, path, minApiVersion } = this.#options;
    try {
      const response = await backend.pool.request({
        method: 'GET',
        path,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) return `status ${response.statusCode}`;
      let version: unknown;
      try {
        version = (JSON.parse(text) as Partial<VersionResponse>).version;
      } catch {
        return 'body is not JSON';
      }
      if (typeof version !== 'string' || semver.valid(version) === null) return 'no semver "version" in body';
      if (semver.lt(version, minApiVersion)) return `version ${version} < min-api-version ${minApiVersion}`;
      return undefined;
    } catch (error) {
      const err = error as { code?: string; message?: string };
      return err.code ?? err.message ?? String(error);
    }
  }

  #passed(backend: Backend): void {
    backend.checksPassed++;
    backend.consecutiveFailed = 0;
    backend.consecutivePassed++;
    backend.lastCheckError = undefined;
    if (!backend.online && backend.consecutivePassed >= this.#options.healthy) {
      this.#transition(backend, 'online', 'health check passed');
    }
  }

  #failed(backend: Backend, problem: string): void {
    backend.checksFailed++;
    backend.consecutivePassed = 0;
    backend.consecutiveFailed++;
    backend.lastCheckError = problem;
    if (backend.state === 'unknown') return;
    if (backend.online && backend.consecutiveFailed < this.#options.unhealthy) return;
    this.#transition(backend, 'offline', `health check failed: ${problem}`);
  }

  #transition(backend: Backend, state: 'online' | 'offline', reason: string): void {
    // A node deleted while its check ran is gone from the balancer: leave it alone.
    if (this.#balancer.get(backend.address) !== backend) return;
    if (this.#balancer.setState(backend, state))
      this.#log.info({ node: backend.address, state, reason }, 'node state changed');
  }
}
