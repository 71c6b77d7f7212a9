// One running function instance as the runner uses it: it exchanges one call at a time in its
// route's format, over the transport the format names (transport.ts: the container's stdin/stdout, or
// the socket an http-stream function serves), tags what the function logs (stderr, and stdout too
// where stdout carries no calls) with container and call ids in the node's log, and knows when it can
// no longer be trusted (crashed, hung, or broke its format). The deadline, the failure vocabulary and
// the broken mark are the same for every format: they live here, not in a transport.
import type { Logger } from 'pino';
import { FN_MESSAGES } from '../../common/wire.js';
import type { ExitInfo, Instance } from '../drivers/driver.js';
import type { FormatCodec, FunctionRequest, FunctionResponse } from '../formats/index.js';
import type { Clock } from './clock.js';
import { CallError } from './errors.js';
import { type CallSink, SocketTransport, StdioTransport, type Transport } from './transport.js';

/** `new` until the runner places it: started containers are not counted before that. */
export type ContainerState = 'new' | 'idle' | 'busy' | 'stopping' | 'gone';

/** Longest log line kept in one log record. */
const MAX_LOG_LINE = 4096;

/** One output stream of the function logged line by line. */
class LineLog {
  private tail = '';

  constructor(private readonly write: (line: string) => void) {}

  push(chunk: Buffer): void {
    const lines = (this.tail + chunk.toString('utf8')).split('\n');
    this.tail = lines.pop() ?? '';
    if (this.tail.length > MAX_LOG_LINE) {
      lines.push(this.tail);
      this.tail = '';
    }
    for (const line of lines) this.write(line);
  }

  flush(): void {
    if (this.tail) this.write(this.tail);
    this.tail = '';
  }
}

export class Container {
  state: ContainerState = 'new';
  /** Clock time it last became idle: idle containers are reused most recent first, evicted least. */
  lastUsedAt: number;
  calls = 0;
  /** Why it must not serve another call, once it must not. */
  broken: string | undefined;
  private current: CallSink | undefined;
  private currentCallId: string | undefined;
  private readonly transport: Transport;

  constructor(
    readonly id: string,
    readonly memoryMb: number,
    private readonly instance: Instance,
    codec: FormatCodec,
    /** Largest response body it may answer with (FN_MAX_RESPONSE_SIZE): past it, the call is a 502. */
    maxResponseBytes: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /**
     * Called when it must not be trusted although no call is in progress (it wrote between calls, or
     * dropped its connection).
     */
    onUnsolicited: (container: Container) => void,
  ) {
    this.lastUsedAt = clock.now();
    const streams: ('stdout' | 'stderr')[] = ['stderr'];
    const distrust = (why: string) => {
      this.broken ??= why;
      onUnsolicited(this);
    };
    if (codec.transport === 'socket') {
      if (instance.listener === undefined)
        throw new Error(`the driver gave ${codec.name} instance ${id} no socket`);
      this.transport = new SocketTransport(instance.listener, codec, maxResponseBytes, clock, distrust);
      // No framing on stdio: stdout is a log like stderr, and never a reason to distrust it.
      streams.push('stdout');
    } else {
      this.transport = new StdioTransport(instance, codec, maxResponseBytes, distrust);
    }
    for (const stream of streams) {
      const log = new LineLog((line) => this.logLine(stream, line));
      instance[stream].on('data', (chunk: Buffer) => log.push(chunk));
      instance[stream].on('end', () => log.flush());
    }
    void instance.exited.then((exit) => {
      if (this.current) this.transport.exited(exit, this.current);
      this.transport.close();
    });
  }

  get exited(): Promise<ExitInfo> {
    return this.instance.exited;
  }

  private logLine(stream: 'stdout' | 'stderr', line: string): void {
    if (line === '') return;
    this.logger.info({ container: this.id, call: this.currentCallId, stream }, line.slice(0, MAX_LOG_LINE));
  }

  /** Sends one call and reads its response; rejects with CallError 502 or 504 (and marks itself broken). */
  exchange(
    request: FunctionRequest,
    timeoutMs: number,
  ): Promise<{ response: FunctionResponse; runMs: number }> {
    const started = this.clock.now();
    this.calls++;
    this.currentCallId = request.callId;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (broken: string | undefined, outcome: () => void) => {
        if (settled) return;
        settled = true;
        if (broken !== undefined) this.broken ??= broken;
        this.current = undefined;
        timer.cancel();
        this.transport.settled();
        outcome();
      };
      const sink: CallSink = {
        succeed: (response, broken) =>
          settle(broken, () => resolve({ response, runMs: this.clock.now() - started })),
        fail: (status, message, broken) =>
          settle(broken, () => reject(new CallError(status, message, undefined, this.id))),
      };
      this.current = sink;
      const timer = this.clock.setTimeout(
        () => sink.fail(504, FN_MESSAGES.timedOut, 'it ran past its timeout'),
        timeoutMs,
      );
      this.transport.send(request, sink);
    });
  }

  /** Ends the process: killed at once when it is broken (it may be hung), else gracefully. */
  stop(): Promise<ExitInfo> {
    return this.instance.stop({ force: this.broken !== undefined });
  }
}
