// Node and listener addresses as historic fnlb spells them: "host:port" for nodes (IPv6 in brackets),
// ":port" or "host:port" for listeners. A node address is canonical: the host as a URL parser reads it
// (so 2130706433, 0x7f000001 and 127.1 are all 127.0.0.1, names are lower case, IPv6 is compressed),
// and the addresses it resolves to are kept to refuse a second name for a node already known.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { orAfter } from '../common/deadline.js';

export interface HostPort {
  /** Undefined for ":port" (every interface). */
  host: string | undefined;
  port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function parsePort(text: string, allowZero: boolean): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 && (allowZero || port > 0) ? port : undefined;
}

function splitHostPort(text: string): [string, string] | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    const host = text.slice(1, close);
    return isIP(host) === 6 ? [host, text.slice(close + 2)] : undefined;
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  const host = text.slice(0, colon);
  if (host.includes(':')) return undefined;
  return [host, text.slice(colon + 1)];
}

function validHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host);
}

/** The host as a WHATWG URL parser reads it (numeric IPv4 forms become dotted quads), or undefined. */
function canonicalHost(host: string): string | undefined {
  try {
    const parsed = new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}/`).hostname;
    return parsed.startsWith('[') ? parsed.slice(1, -1) : parsed;
  } catch {
    return undefined;
  }
}

/** A node address "host:port"; returns the canonical text or undefined when it is not one. */
export function parseNodeAddress(text: string): string | undefined {
  const parts = splitHostPort(text.trim());
  if (parts === undefined) return undefined;
  const [given, portText] = parts;
  const port = parsePort(portText, false);
  if (port === undefined || given === '' || !validHost(given)) return undefined;
  const host = canonicalHost(given);
  if (host === undefined || !validHost(host)) return undefined;
  return formatHostPort(host, port);
}

/**
 * The ip:port pairs a canonical node address reaches: itself for an IP, the name's A/AAAA records
 * otherwise (none when the name does not resolve within `timeoutMs`: nothing to compare then).
 */
export async function resolveNodeAddress(address: string, timeoutMs = 2000): Promise<string[]> {
  const parts = splitHostPort(address);
  if (parts === undefined) return [];
  const [host, port] = parts;
  if (isIP(host) !== 0) return [formatHostPort(host, Number(port))];
  try {
    const found = await orAfter(lookup(host, { all: true }), timeoutMs, []);
    return found.map((entry) => formatHostPort(entry.address, Number(port)));
  } catch {
    return [];
  }
}

/** A listen address ":8081" or "127.0.0.1:8081" (port 0 asks the OS for a free one). */
export function parseListenAddress(text: string): HostPort | undefined {
  const parts = splitHostPort(text.trim());
  if (parts === undefined) return undefined;
  const [host, portText] = parts;
  const port = parsePort(portText, true);
  if (port === undefined) return undefined;
  if (host === '') return { host: undefined, port };
  return validHost(host) ? { host, port } : undefined;
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether a listen host accepts connections from this machine only. ":port" (every interface) does not. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.toLowerCase();
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}
