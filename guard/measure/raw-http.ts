// Raw HTTP/1.1 over a TCP socket, for requests an HTTP client library refuses to send (`OPTIONS *`, a
// bad escape, a control character in a header, a body shorter than its Content-Length): the bytes go
// out as given, and what comes back is the status line's code and head, or how the connection ended.
// And exactGet: a well-formed GET whose target goes out exactly as spelled.
import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawAnswer {
  /** The first response's status code; undefined when none came. */
  status: number | undefined;
  /** How the exchange ended: an answer, the peer closing or resetting, or our deadline. */
  ended: 'answered' | 'closed' | 'reset' | 'timeout';
  /** The first bytes received, for messages. */
  head: string;
  /** The first response's header fields, names in lower case (empty when no full head came). */
  headers: Record<string, string>;
  /** Its body, when it declared a Content-Length and all of it came. */
  body: string | undefined;
}

const MAX_HEAD_BYTES = 64 * 1024;

/** The body after the head: all of it when a Content-Length says how long; '' without one. */
function bodyOf(received: string): string | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const length = parseHeaders(received)['content-length'];
  if (length === undefined) return '';
  const body = received.slice(end + 4);
  return body.length >= Number(length) ? body.slice(0, Number(length)) : undefined;
}

function parseHeaders(received: string): Record<string, string> {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return {};
  const headers: Record<string, string> = {};
  for (const line of received.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Sends `bytes` to host:port and waits up to `timeoutMs` for a status line or the end of the connection.
 * With `halfClose`, the deadline ends our side of the connection (FIN) and waits a second more for the
 * peer's answer to that: a request cut short, as a client that gives up would leave it.
 */
export function rawRequest(
  hostPort: string,
  bytes: string | Buffer,
  timeoutMs = 5000,
  options: { halfClose?: boolean } = {},
): Promise<RawAnswer> {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(colon + 1));
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    // With halfClose the peer may still answer after our FIN.
    const socket = connect({ host, port, allowHalfOpen: options.halfClose === true });
    const finish = (ended: RawAnswer['ended']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({
        status: match ? Number(match[1]) : undefined,
        ended: match ? 'answered' : ended,
        head: received.slice(0, 200),
        headers: parseHeaders(received),
        body: bodyOf(received),
      });
    };
    let timer = setTimeout(() => {
      if (!options.halfClose) return finish('timeout');
      socket.end();
      timer = setTimeout(() => finish('timeout'), 1000);
    }, timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if ((/\r\n\r\n/.test(received) && bodyOf(received) !== undefined) || received.length > MAX_HEAD_BYTES)
        finish('answered');
    });
    socket.on('end', () => finish('closed'));
    socket.on('error', (error: Error & { code?: string }) =>
      finish(error.code === 'ECONNRESET' ? 'reset' : 'closed'),
    );
  });
}

/**
 * One GET with the request target exactly as given (undici would normalise some spellings), on a
 * fresh connection, with its whole answer: for well-formed targets written in unusual ways.
 */
export function exactGet(
  base: string,
  target: string,
  timeoutMs = 30_000,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: target, method: 'GET', timeout: timeoutMs, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${target} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The authority (host:port) of a base URL such as http://127.0.0.1:8081. */
export function authorityOf(url: string): string {
  return new URL(url).host;
}
