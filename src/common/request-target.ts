// The one reading of an HTTP request target that both fnlb and fn-node use: fnlb hashes exactly the
// path the node routes, so no spelling of a route's URL can reach another node than the route's own.
//
// Canonical form of a path (RFC 3986 section 6.2.2, made stricter where two readings could differ):
// every %XX escape is decoded and the bytes re-encoded, so only characters a path may carry literally
// stay literal (unreserved, sub-delims, ':' and '@') and every other byte is %XX in upper case;
// runs of '/' collapse to one; a trailing '/' goes (except for the root). Refused, because a node and
// a balancer could read them differently: a bad escape, an encoded '/' (%2F), a NUL or control byte,
// and '.' or '..' segments. An absolute-form target (`GET http://host/path`) is read as its path.
// The query string is kept apart and never part of the route.

export type RequestTarget =
  | { ok: true; path: string; query: string; authority: string | undefined }
  | { ok: false; reason: string };

/** Characters a path segment may carry without escaping (RFC 3986 pchar minus '%'). */
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)(.*)$/;
/** A path already in canonical form (the common case, answered without decoding): pchars only, no
 * escape, no empty segment, no trailing '/', and (checked apart) no '.' or '..' segment. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]+)+$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

const HEX = '0123456789ABCDEF';
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function encodeByte(byte: number): string {
  const char = String.fromCharCode(byte);
  return byte < 0x80 && PCHAR.test(char) ? char : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** One segment's bytes, or the reason it cannot be read. */
function segmentBytes(segment: string): number[] | string {
  const bytes: number[] = [];
  for (let index = 0; index < segment.length; index++) {
    const code = segment.charCodeAt(index);
    if (code === 0x25) {
      const hex = segment.slice(index + 1, index + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return `bad percent-escape "${segment.slice(index, index + 3)}"`;
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else if (code > 0x7f) {
      // A raw non-ASCII character (Node's parser lets some through): its UTF-8 bytes.
      for (const byte of Buffer.from(segment[index] as string, 'utf8')) bytes.push(byte);
    } else {
      bytes.push(code);
    }
  }
  for (const byte of bytes) {
    if (byte === 0x2f) return 'an encoded "/" (%2F) in the path';
    if (byte < 0x20 || byte === 0x7f) return 'a control character in the path';
  }
  try {
    UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return 'a path segment that is not UTF-8';
  }
  return bytes;
}

/** Reads a request target; `ok: false` names what is wrong with it (the caller answers 400). */
export function parseRequestTarget(target: string): RequestTarget {
  let authority: string | undefined;
  let rest = target;
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute !== null) {
    authority = (absolute[1] as string).toLowerCase();
    rest = (absolute[2] as string) || '/';
  }
  if (!rest.startsWith('/'))
    return { ok: false, reason: `request target "${truncate(target)}" is not a path` };
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const queryStart = rest.indexOf('?');
  const rawPath = queryStart < 0 ? rest : rest.slice(0, queryStart);
  const query = queryStart < 0 ? '' : rest.slice(queryStart);
  if (PLAIN_PATH.test(rawPath) && !DOT_SEGMENT.test(rawPath))
    return { ok: true, path: rawPath, query, authority };

  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '') continue;
    const bytes = segmentBytes(segment);
    if (typeof bytes === 'string') return { ok: false, reason: bytes };
    const canonical = bytes.map(encodeByte).join('');
    if (canonical === '.' || canonical === '..')
      return { ok: false, reason: 'a "." or ".." segment in the path' };
    segments.push(canonical);
  }
  return { ok: true, path: `/${segments.join('/')}`, query, authority };
}

/** The canonical path of a target, or undefined when it cannot be read. */
export function canonicalPath(target: string): string | undefined {
  const parsed = parseRequestTarget(target);
  return parsed.ok ? parsed.path : undefined;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
