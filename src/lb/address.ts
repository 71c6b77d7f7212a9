// Node and listener addresses as historic fnlb spells them: "host:port" for nodes (IPv6 in brackets),
// ":port" or "host:port" for listeners.
import { isIP } from 'node:net';

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

/** A node address "host:port"; returns the canonical text or undefined when it is not one. */
export function parseNodeAddress(text: string): string | undefined {
  const parts = splitHostPort(text.trim());
  if (parts === undefined) return undefined;
  const [host, portText] = parts;
  const port = parsePort(portText, false);
  if (port === undefined || host === '' || !validHost(host)) return undefined;
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host.toLowerCase()}:${port}`;
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
