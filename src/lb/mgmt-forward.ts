// A worker's side of the management API on the shared port: the call goes, as it came (method, path,
// headers, body), to the primary's management server on its private Unix socket, and the primary's
// answer goes back. The primary owns the node set, so every worker answers the same.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import { requestHeaders, responseHeaders } from './proxy-headers.js';

/** The primary answers from memory; /metrics asks every worker, which prom-client gives 5 s. */
const PRIMARY_TIMEOUT_MS = 10_000;

export class ManagementForwarder {
  readonly #pool: Pool;

  constructor(socketPath: string) {
    this.#pool = new Pool('http://fnlb-primary', {
      socketPath,
      connections: 8,
      headersTimeout: PRIMARY_TIMEOUT_MS,
      bodyTimeout: PRIMARY_TIMEOUT_MS,
    });
  }

  async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    // A client that goes away ends the call to the primary too, and is no error of the balancer's.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let answer: Awaited<ReturnType<Pool['request']>>;
    try {
      answer = await this.#pool.request({
        method: (req.method ?? 'GET') as 'GET',
        path: req.url ?? '/',
        headers: requestHeaders(req, false),
        body: hasBody ? req : null,
        signal: AbortSignal.any([gone.signal, AbortSignal.timeout(PRIMARY_TIMEOUT_MS)]),
      });
    } catch (error) {
      if (gone.signal.aborted) return;
      // The management API's own error shape, {"msg"}.
      const body = JSON.stringify({ msg: `the balancer's primary process did not answer: ${String(error)}` });
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(answer.statusCode, responseHeaders(answer.headers, undefined, false));
    try {
      await pipeline(answer.body, res);
    } catch (error) {
      if (!gone.signal.aborted) throw error;
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
