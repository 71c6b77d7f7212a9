// How one call reaches a container and its answer comes back, for container.ts: over the container's
// stdin and stdout in the framing of a stdio format (default, http, json), or as POST /call on the
// unix socket an http-stream function serves. A transport only carries a call and says how it ended
// (the sink); the deadline, the failure statuses and the broken mark are the container's.
import { lstatSync } from 'node:fs';
import { buildConnector, Client } from 'undici';
import { overLimit } from '../../common/framing/http1.js';
import type { ExitInfo, Instance } from '../drivers/driver.js';
import {
  FramingError,
  type FunctionRequest,
  type FunctionResponse,
  type HeaderMap,
  type ResponseReader,
  type SocketCodec,
  type StdioCodec,
} from '../formats/index.js';
import type { Clock } from './clock.js';

/** How a call ends; only its first word counts. */
export interface CallSink {
  /** The answer; `broken`: why the container must not serve another call although it answered. */
  succeed(response: FunctionResponse, broken?: string): void;
  /** The call failed; `broken`: why the container must not serve another call (undefined: it may). */
  fail(status: 502 | 504, message: string, broken: string | undefined): void;
}

export interface Transport {
  /** Sends one call; its end comes through `sink`. */
  send(request: FunctionRequest, sink: CallSink): void;
  /** The instance ended while `sink`'s call was under way. */
  exited(exit: ExitInfo, sink: CallSink): void;
  /** The call has ended (answered, failed or timed out): whatever of it is still under way is dropped. */
  settled(): void;
  /** The instance is gone. */
  close(): void;
}

function describeExit(exit: ExitInfo): string {
  if (exit.reason === 'memory') return 'it exceeded its memory limit';
  return exit.signal ? `it was killed by ${exit.signal}` : `it exited with code ${exit.code}`;
}

function exitedMidCall(exit: ExitInfo, sink: CallSink): void {
  sink.fail(502, `function failed: ${describeExit(exit)} before completing its response`, 'it exited');
}

const invalid = (format: string, error: FramingError) =>
  `invalid ${format} response from function: ${error.message}`;

/** The stdio formats: the request written on stdin, the response read from stdout. */
export class StdioTransport implements Transport {
  private call: { reader: ResponseReader; sink: CallSink } | undefined;

  constructor(
    private readonly instance: Instance,
    private readonly codec: StdioCodec,
    private readonly maxResponseBytes: number,
    /** Bytes came while no call was in progress: the next call would read them. */
    onStray: (why: string) => void,
  ) {
    instance.stdout.on('data', (chunk: Buffer) => {
      if (this.call) this.push(this.call, chunk);
      else onStray('it wrote to stdout between calls');
    });
  }

  send(request: FunctionRequest, sink: CallSink): void {
    this.call = { reader: this.codec.createReader(this.maxResponseBytes), sink };
    this.instance.stdin.write(this.codec.encodeRequest(request));
    if (!this.codec.hot) this.instance.stdin.end();
  }

  private push(call: { reader: ResponseReader; sink: CallSink }, chunk: Buffer): void {
    try {
      const response = call.reader.push(chunk);
      if (response)
        call.sink.succeed(response, call.reader.excess ? 'it wrote more than one response' : undefined);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      call.sink.fail(502, invalid(this.codec.name, error), 'it broke the framing');
    }
  }

  exited(exit: ExitInfo, sink: CallSink): void {
    // The default format's response is complete at the end of stdout, once the process exited 0.
    const response = exit.reason === undefined ? this.call?.reader.end(exit.code) : undefined;
    if (response) sink.succeed(response);
    else exitedMidCall(exit, sink);
  }

  settled(): void {
    this.call = undefined;
  }

  close(): void {}
}

/**
 * How long a lost connection waits for the instance's exit before the call fails for it: a function
 * that died says more ("exited with code 3") than the connection it dropped.
 */
const EXIT_GRACE_MS = 250;
/** Longer than any idle_timeout: the connection lives as long as its container. */
const KEEP_ALIVE_MS = 3_700_000;

function headerMap(headers: Record<string, string | string[] | undefined>): HeaderMap {
  const map: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map[name] = Array.isArray(value) ? value : [value];
  }
  return map;
}

/**
 * Connects once, and only to a socket, right after the start checked the link: the function may
 * replace its socket file later (with a link to another socket of the node's machine, say), so a
 * connection is never made again; a container whose connection was lost serves no further call.
 */
function socketOnce(path: string): ReturnType<typeof buildConnector> {
  const connect = buildConnector({ socketPath: path });
  let used = false;
  return (options, callback) => {
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      // gone: not a socket
    }
    if (used) callback(new Error("the function's connection was lost, and is made only once"), null);
    else if (!isSocket) callback(new Error(`${path} is no longer the function's socket`), null);
    else {
      used = true;
      connect(options, callback);
    }
  };
}

/** http-stream: each call a POST on the socket the function linked, over one kept-alive connection. */
export class SocketTransport implements Transport {
  private readonly client: Client;
  private inFlight: AbortController | undefined;

  constructor(
    socketPath: string,
    private readonly codec: SocketCodec,
    private readonly maxResponseBytes: number,
    private readonly clock: Clock,
    /** Its connection closed between calls: it can take none (the socket is connected once). */
    onLost: (why: string) => void,
  ) {
    this.client = new Client('http://localhost', {
      socketPath,
      connect: socketOnce(socketPath),
      pipelining: 1,
      // The call's deadline is the container's timer; the connection is the container's.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
    });
    // A call under way learns of it from its own request; between calls, the container says so.
    this.client.on('disconnect', () => {
      if (this.inFlight === undefined) onLost('its connection closed between calls');
    });
  }

  send(request: FunctionRequest, sink: CallSink): void {
    const controller = new AbortController();
    this.inFlight = controller;
    const invoke = request.invoke === true;
    this.client
      .request({
        path: this.codec.callPath,
        method: 'POST',
        headers: this.codec.callHeaders(request),
        body: request.body,
        signal: controller.signal,
      })
      .then(
        (answer) =>
          this.read(answer, invoke, sink, controller).catch((error: Error) =>
            sink.fail(
              502,
              `function failed: its answer could not be read (${error.message})`,
              'its answer broke',
            ),
          ),
        (error: Error) => {
          if (controller.signal.aborted) return;
          // The function died or dropped the call: wait a moment for its exit, which says why.
          this.clock.setTimeout(
            () =>
              sink.fail(
                502,
                `function failed: its connection was lost before it answered (${error.message})`,
                'its connection failed',
              ),
            EXIT_GRACE_MS,
          );
        },
      );
  }

  private async read(
    answer: Awaited<ReturnType<Client['request']>>,
    invoke: boolean,
    sink: CallSink,
    controller: AbortController,
  ): Promise<void> {
    /** The exchange is over on the connection, which can carry the next call: nothing to abort. */
    const done = () => {
      if (this.inFlight === controller) this.inFlight = undefined;
    };
    const { statusCode, headers, body } = answer;
    body.on('error', () => {});
    let head: ReturnType<SocketCodec['readAnswer']>;
    try {
      head = this.codec.readAnswer(statusCode, headerMap(headers), invoke);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      body.destroy();
      sink.fail(502, invalid(this.codec.name, error), 'it broke the format');
      return;
    }
    if (!head.ok) {
      // Its body read to the end, so the connection can carry the next call.
      const { status, message, broken } = head;
      await body.dump().then(done, () => {});
      sink.fail(status, message, broken);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxResponseBytes) {
          body.destroy();
          const error = new FramingError(overLimit(this.maxResponseBytes, size));
          sink.fail(502, invalid(this.codec.name, error), 'it broke the framing');
          return;
        }
        chunks.push(chunk);
      }
    } catch (error) {
      // Cut mid-body: aborted at the deadline (already settled), or the function went away.
      sink.fail(
        502,
        `function failed: its connection was lost before it answered (${(error as Error).message})`,
        'its connection failed',
      );
      return;
    }
    done();
    sink.succeed({ status: head.status, headers: head.headers, body: Buffer.concat(chunks) });
  }

  exited(exit: ExitInfo, sink: CallSink): void {
    exitedMidCall(exit, sink);
  }

  settled(): void {
    // Only a call cut short is still under way: aborting drops its connection, which the container
    // (broken by then) never uses again.
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  close(): void {
    this.client.destroy().catch(() => {});
  }
}
