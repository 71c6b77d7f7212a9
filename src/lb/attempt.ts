// One dispatch of a call to one node. The attempt knows nothing of the ring or of other nodes: it
// streams the node's answer to the client as it comes and reports what happened, and the failover
// loop (proxy.ts) decides from that report alone whether the call may still go elsewhere. A call
// counts as delivered from the moment undici starts writing it to a socket: before that the node
// provably never saw it. A refusal (a 503 the node marked with `Fn-Refused`) is held back instead of
// streamed while the loop may still try another node: once headers reach the client, the call can no
// longer move.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { parseGoDuration } from '../common/duration.js';
import { FN_HEADERS, FN_REFUSALS } from '../common/wire.js';
import type { Backend } from './backend.js';
import { responseHeaders } from './proxy-headers.js';

export type Outcome =
  /** The response (or as much of it as the node sent) went to the client. */
  | { kind: 'done'; statusCode: number; headersMs: number }
  /** The request never reached the node. */
  | { kind: 'undelivered'; error: Error & { code?: string } }
  /** The node refused the call before running it (Fn-Refused) and we held its answer back. */
  | { kind: 'refused'; refusal: string }
  /** The node got the request and failed before answering: not retried. */
  | { kind: 'failed'; error: Error & { code?: string } };

/** One dispatch to one node, as an undici handler that streams the response into `res`. */
export class Attempt implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;
  readonly #backend: Backend;
  readonly #holdRefusal: boolean;
  readonly #close: boolean;
  readonly #resolve: (outcome: Outcome) => void;
  readonly #started = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  #delivered = false;
  #statusCode = 0;
  #headersMs = 0;
  #holding: string | undefined;
  #responding = false;
  #finished = false;

  constructor(
    res: ServerResponse,
    backend: Backend,
    holdRefusal: boolean,
    close: boolean,
    resolve: (o: Outcome) => void,
  ) {
    this.#res = res;
    this.#backend = backend;
    this.#holdRefusal = holdRefusal;
    this.#close = close;
    this.#resolve = resolve;
  }

  /** The client went away: stop the upstream request if it is running. */
  abort(): void {
    if (!this.#finished) this.#controller?.abort(new Error('client closed the connection'));
  }

  #finish(outcome: Outcome): void {
    this.#finished = true;
    this.#resolve(outcome);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // From here on undici writes the request to a socket: the node may have it.
    this.#delivered = true;
    this.#controller = controller;
    if (this.#res.destroyed) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.#statusCode = statusCode;
    this.#headersMs = performance.now() - this.#started;
    this.#backend.latency.add(this.#headersMs, Date.now());
    const wait = headers[FN_HEADERS.wait];
    const waitMs = typeof wait === 'string' ? parseGoDuration(wait) : undefined;
    if (waitMs !== undefined && waitMs >= 0) this.#backend.wait.add(waitMs, Date.now());
    const refusal = refusalOf(statusCode, headers);
    if (refusal !== undefined && (this.#holdRefusal || refusal === FN_REFUSALS.draining)) {
      // A draining node's refusal is held back even on the last attempt: the proxy then answers its
      // own 503, and the node is taken out at once.
      this.#holding = refusal;
      return;
    }
    this.#responding = true;
    this.#res.writeHead(
      statusCode,
      statusMessage,
      responseHeaders(headers, this.#backend.address, this.#close),
    );
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#holding !== undefined) return;
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.#holding !== undefined) {
      this.#finish({ kind: 'refused', refusal: this.#holding });
      return;
    }
    this.#res.end();
    this.#finish({ kind: 'done', statusCode: this.#statusCode, headersMs: this.#headersMs });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#holding !== undefined) {
      this.#finish({ kind: 'refused', refusal: this.#holding });
    } else if (this.#responding) {
      // Headers are out: the only honest signal left is to cut the client's connection.
      this.#res.destroy(error);
      this.#finish({ kind: 'done', statusCode: this.#statusCode, headersMs: this.#headersMs });
    } else if (!this.#delivered) {
      this.#finish({ kind: 'undelivered', error });
    } else {
      this.#finish({ kind: 'failed', error });
    }
  }
}

/** The node's own refusal of a call it did not run: a 503 it marked with Fn-Refused. */
function refusalOf(statusCode: number, headers: IncomingHttpHeaders): string | undefined {
  if (statusCode !== 503) return undefined;
  const marked = headers[FN_HEADERS.refused];
  return typeof marked === 'string' && marked !== '' ? marked : undefined;
}
