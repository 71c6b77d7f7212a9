// Closed-loop load for the reliability suite and the soak: `concurrency` workers call routes picked by
// the caller until a deadline or a call budget, each call with its own timeout. Every call ends in
// one outcome: the answer its route should give (200, or the 502 of a function built to crash), an
// unexpected answer or transport error (kept with what it said), or `unsent` when the balancer's port
// refused the connection (it was restarting: the request never left the client, which tries again).
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

export interface TrafficRoute {
  /** `/r/<app><path>?<query>`. */
  target: string;
  /** The status this route answers when all is well. */
  expect: number;
  /**
   * The answer must come from a node (it names itself in Fn-Node): a function built to crash answers
   * 502 through its node, and the balancer's own 502 for a node it lost must not pass for that.
   */
  fromNode?: boolean;
}

export interface Failure {
  target: string;
  status: number | undefined;
  error: string;
  at: number;
}

export interface TrafficTally {
  calls: number;
  expected: number;
  unexpected: Failure[];
  /** Connections the balancer refused: nothing was sent. */
  unsent: number;
}

export interface TrafficOptions {
  baseUrl: string;
  pick: () => TrafficRoute;
  concurrency: number;
  /** Stop starting calls at this time (performance.now()) ... */
  until: number;
  /** ... or after this many calls, whichever comes first. */
  maxCalls: number;
  callTimeoutMs: number;
  /** Called after each call (samplers, fault schedules): never awaited by the workers. */
  onCall?: (tally: TrafficTally) => void;
}

const REFUSED_RETRY_MS = 50;

export class Traffic {
  readonly tally: TrafficTally = { calls: 0, expected: 0, unexpected: [], unsent: 0 };
  private stopped = false;
  private running = 0;
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4000 });

  constructor(private readonly options: TrafficOptions) {}

  /** Runs the workers to the end; resolves with the tally. */
  async run(): Promise<TrafficTally> {
    try {
      await Promise.all(Array.from({ length: this.options.concurrency }, () => this.worker()));
    } finally {
      await this.agent.close();
    }
    return this.tally;
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.running;
  }

  /** Ends the load early: calls in flight finish, no new call starts. */
  stop(): void {
    this.stopped = true;
  }

  private more(): boolean {
    return (
      !this.stopped && this.tally.calls < this.options.maxCalls && performance.now() < this.options.until
    );
  }

  private async worker(): Promise<void> {
    while (this.more()) {
      const route = this.options.pick();
      this.tally.calls++;
      for (;;) {
        this.running++;
        const outcome = await this.call(route).finally(() => this.running--);
        if (outcome === 'unsent') {
          this.tally.unsent++;
          if (!this.more()) break;
          await sleep(REFUSED_RETRY_MS);
          continue;
        }
        if (outcome === 'expected') this.tally.expected++;
        else this.tally.unexpected.push(outcome);
        break;
      }
      this.options.onCall?.(this.tally);
    }
  }

  private async call(route: TrafficRoute): Promise<'expected' | 'unsent' | Failure> {
    const timeout = this.options.callTimeoutMs;
    try {
      const response = await request(`${this.options.baseUrl}${route.target}`, {
        dispatcher: this.agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout + 1000),
      });
      const body = await response.body.text();
      const byNode = !route.fromNode || response.headers['fn-node'] !== undefined;
      if (response.statusCode === route.expect && byNode) return 'expected';
      return {
        target: route.target,
        status: response.statusCode,
        error: `${byNode ? '' : '(answered by the balancer, not a node) '}${body.slice(0, 300)}`,
        at: performance.now(),
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ECONNREFUSED') return 'unsent';
      return {
        target: route.target,
        status: undefined,
        error: `${code ?? ''} ${(error as Error).message}`.trim(),
        at: performance.now(),
      };
    }
  }
}
