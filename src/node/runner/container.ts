// One running function instance as the runner uses it: it exchanges one call at a time in its
// route's format, tags its stderr lines with container and call ids in the node's log, and knows
// when it can no longer be trusted (crashed, hung, or its framing broke).
import type { Logger } from 'pino';
import type { ExitInfo, Instance } from '../drivers/driver.js';
import {
  type FormatCodec,
  FramingError,
  type FunctionRequest,
  type FunctionResponse,
} from '../formats/index.js';
import type { Clock } from './clock.js';
import { CallError } from './errors.js';

/** `new` until the runner places it: started containers are not counted before that. */
export type ContainerState = 'new' | 'idle' | 'busy' | 'stopping' | 'gone';

interface Exchange {
  onData(chunk: Buffer): void;
  onExit(exit: ExitInfo): void;
}

/** Longest stderr line kept in one log record. */
const MAX_LOG_LINE = 4096;

function describeExit(exit: ExitInfo): string {
  if (exit.reason === 'memory') return 'it exceeded its memory limit';
  return exit.signal ? `it was killed by ${exit.signal}` : `it exited with code ${exit.code}`;
}

export class Container {
  state: ContainerState = 'new';
  /** Clock time it last became idle: idle containers are reused most recent first, evicted least. */
  lastUsedAt: number;
  calls = 0;
  /** Why it must not serve another call, once it must not. */
  broken: string | undefined;
  private current: Exchange | undefined;
  private currentCallId: string | undefined;
  private stderrTail = '';

  constructor(
    readonly id: string,
    readonly memoryMb: number,
    private readonly instance: Instance,
    private readonly codec: FormatCodec,
    /** Largest response body it may answer with (FN_MAX_RESPONSE_SIZE): past it, the call is a 502. */
    private readonly maxResponseBytes: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Called when bytes arrive while no call is in progress. */
    onUnsolicited: (container: Container) => void,
  ) {
    this.lastUsedAt = clock.now();
    instance.stdout.on('data', (chunk: Buffer) => {
      if (this.current) this.current.onData(chunk);
      else {
        this.broken ??= 'it wrote to stdout between calls';
        onUnsolicited(this);
      }
    });
    instance.stderr.on('data', (chunk: Buffer) => this.logStderr(chunk));
    instance.stderr.on('end', () => this.flushStderr());
    void instance.exited.then((exit) => this.current?.onExit(exit));
  }

  get exited(): Promise<ExitInfo> {
    return this.instance.exited;
  }

  private logStderr(chunk: Buffer): void {
    const lines = (this.stderrTail + chunk.toString('utf8')).split('\n');
    this.stderrTail = lines.pop() ?? '';
    if (this.stderrTail.length > MAX_LOG_LINE) {
      lines.push(this.stderrTail);
      this.stderrTail = '';
    }
    for (const line of lines) this.logLine(line);
  }

  private flushStderr(): void {
    if (this.stderrTail) this.logLine(this.stderrTail);
    this.stderrTail = '';
  }

  private logLine(line: string): void {
    if (line === '') return;
    this.logger.info(
      { container: this.id, call: this.currentCallId, stream: 'stderr' },
      line.slice(0, MAX_LOG_LINE),
    );
  }

  /** Sends one call and reads its response; rejects with CallError 502 or 504 (and marks itself broken). */
  exchange(
    request: FunctionRequest,
    timeoutMs: number,
  ): Promise<{ response: FunctionResponse; runMs: number }> {
    const reader = this.codec.createReader(this.maxResponseBytes);
    const started = this.clock.now();
    this.calls++;
    this.currentCallId = request.callId;
    const format = this.codec.name;
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        if (this.current !== exchange) return;
        this.current = undefined;
        timer.cancel();
        settle();
      };
      const fail = (status: 502 | 504, why: string, message: string) => {
        this.broken ??= why;
        finish(() => reject(new CallError(status, message, undefined, this.id)));
      };
      const succeed = (response: FunctionResponse) => {
        if (reader.excess) this.broken ??= 'it wrote more than one response';
        finish(() => resolve({ response, runMs: this.clock.now() - started }));
      };
      const exchange: Exchange = {
        onData: (chunk) => {
          try {
            const response = reader.push(chunk);
            if (response) succeed(response);
          } catch (error) {
            if (!(error instanceof FramingError)) throw error;
            fail(502, 'it broke the framing', `invalid ${format} response from function: ${error.message}`);
          }
        },
        onExit: (exit) => {
          const response = exit.reason === undefined ? reader.end(exit.code) : undefined;
          if (response) succeed(response);
          else
            fail(502, 'it exited', `function failed: ${describeExit(exit)} before completing its response`);
        },
      };
      this.current = exchange;
      const timer = this.clock.setTimeout(() => fail(504, 'it ran past its timeout', 'Timed out'), timeoutMs);
      this.instance.stdin.write(this.codec.encodeRequest(request));
      if (!this.codec.hot) this.instance.stdin.end();
    });
  }

  /** Ends the process: killed at once when it is broken (it may be hung), else gracefully. */
  stop(): Promise<ExitInfo> {
    return this.instance.stop({ force: this.broken !== undefined });
  }
}
