// The header rules of one proxy hop, in both directions. The proxy and a worker's forwarding of the
// management API (mgmt-forward.ts) are both such a hop, so they share these rules. Hop-by-hop fields,
// and any a Connection field names, describe one connection and must not cross to the next; the
// node sees the client only through X-Forwarded-For; the node's load signal (XXX-FXLB-WAIT) is for
// the balancer, not the client; and Fn-Lb-Node tells the client which node served the call.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { CONNECTION_HEADERS } from '../common/hop-by-hop.js';
import { FN_HEADERS } from '../common/wire.js';

/** Connection-specific fields, and the credentials meant for a proxy (this one has none to check). */
const HOP_BY_HOP = new Set([...CONNECTION_HEADERS, 'proxy-authenticate', 'proxy-authorization']);

const NO_TOKENS: ReadonlySet<string> = new Set();

/**
 * The header names a Connection field lists (to drop them as hop-by-hop). On the hot path: almost
 * every message carries none or just keep-alive/close, which name no other field.
 */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return NO_TOKENS;
  if (typeof value === 'string') {
    const plain = value.length <= 10 ? value.toLowerCase() : '';
    if (plain === 'keep-alive' || plain === 'close') return NO_TOKENS;
  }
  const tokens = new Set<string>();
  for (const part of typeof value === 'string' ? [value] : value) {
    for (const token of part.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function requestHeaders(req: IncomingMessage, buffered: boolean): Record<string, string | string[]> {
  const drop = connectionTokens(req.headers.connection);
  const headers: Record<string, string | string[]> = {};
  const incoming = req.headers;
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
    // The balancer answered any Expect itself; a buffered body gets its length from undici.
    if (name === 'expect' || (buffered && name === 'content-length')) continue;
    headers[name] = value;
  }
  const forwarded = req.headers['x-forwarded-for'];
  const prior = Array.isArray(forwarded) ? forwarded.join(', ') : forwarded;
  headers['x-forwarded-for'] = prior ? `${prior}, ${clientAddress(req)}` : clientAddress(req);
  return headers;
}

export function responseHeaders(
  headers: IncomingHttpHeaders,
  node: string | undefined,
  close: boolean,
): OutgoingHttpHeaders {
  const drop = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name) || name === FN_HEADERS.wait) continue;
    out[name] = value;
  }
  if (node !== undefined) out[FN_HEADERS.lbNode] = node;
  if (close) out.connection = 'close';
  return out;
}
