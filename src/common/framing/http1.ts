// HTTP/1.1 messages over a byte stream (the `http` format): encoding, and an incremental reader used
// both by the node (responses from a function's stdout) and by the FDK (requests on its stdin).
// Bodies are delimited by Content-Length or chunked encoding, never by end of stream: on a hot
// container's pipe the stream stays open between calls.
import { FramingError } from './framing-error.js';

export type HeaderMap = Record<string, string[]>;

export interface HttpMessage {
  /** Request: [method, target, version]; response: [version, status, reason]. */
  startLine: [string, string, string];
  /** Lower-cased names. */
  headers: HeaderMap;
  body: Buffer;
}

/** Largest header section and body accepted from the other side, unless the reader is given others. */
export const HTTP_LIMITS = { headerBytes: 64 * 1024, bodyBytes: 32 * 1024 * 1024 } as const;

export interface HttpLimits {
  headerBytes: number;
  bodyBytes: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/1\.[01])$/;
const STATUS_LINE = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/;
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);
const CRLF = Buffer.from('\r\n');

function headerLines(headers: HeaderMap, skip: Set<string>): string {
  let text = '';
  for (const [name, values] of Object.entries(headers)) {
    if (skip.has(name.toLowerCase()) || !TOKEN.test(name)) continue;
    // A value with a line break would let a caller smuggle a header or a whole message.
    for (const value of values) if (!/[\r\n]/.test(value)) text += `${name}: ${value}\r\n`;
  }
  return text;
}

function encode(startLine: string, headers: HeaderMap, body: Buffer): Buffer {
  const head = `${startLine}\r\n${headerLines(headers, FRAMING_HEADERS)}Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export function encodeHttpRequest(method: string, target: string, headers: HeaderMap, body: Buffer): Buffer {
  return encode(`${method} ${target} HTTP/1.1`, headers, body);
}

export function encodeHttpResponse(status: number, reason: string, headers: HeaderMap, body: Buffer): Buffer {
  return encode(`HTTP/1.1 ${status} ${reason.replace(/[\r\n]/g, ' ')}`, headers, body);
}

export function overLimit(limit: number, size: number): string {
  return `a body of ${size} bytes or more is over the limit of ${limit} bytes`;
}

type BodyMode = { kind: 'length'; remaining: number } | { kind: 'chunked' };

/**
 * Reads consecutive HTTP/1.1 messages of one kind from pushed chunks. `next()` returns a complete
 * message or undefined when more bytes are needed; malformed input throws FramingError.
 */
export class Http1Reader {
  private buffer: Buffer = Buffer.alloc(0);
  private head: Omit<HttpMessage, 'body'> | undefined;
  private mode: BodyMode | undefined;
  private chunks: Buffer[] = [];
  private bodyBytes = 0;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly limits: HttpLimits = HTTP_LIMITS,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Bytes received but not yet part of a returned message. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** True when no message is partially read. */
  get idle(): boolean {
    return this.head === undefined && this.buffer.length === 0;
  }

  next(): HttpMessage | undefined {
    if (this.head === undefined && !this.readHead()) return undefined;
    const done = this.mode?.kind === 'chunked' ? this.readChunks() : this.readLength();
    if (!done || this.head === undefined) return undefined;
    const message = { ...this.head, body: Buffer.concat(this.chunks) };
    this.head = undefined;
    this.mode = undefined;
    this.chunks = [];
    this.bodyBytes = 0;
    return message;
  }

  private readHead(): boolean {
    // Tolerate leading blank lines between messages, as HTTP/1.1 parsers must.
    let start = 0;
    while (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a) start++;
    if (start > 0) this.buffer = this.buffer.subarray(start);
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.buffer.length > this.limits.headerBytes) throw new FramingError('header section too large');
      if (this.buffer.length > 0) this.checkStart();
      return false;
    }
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    this.buffer = this.buffer.subarray(end + 4);
    const startLine = this.parseStartLine(lines[0] ?? '');
    // Collected in a Map: header names are the other side's words, and on a plain object a name such
    // as "constructor" or "__proto__" finds Object.prototype's member instead of a list (a TypeError
    // on push, thrown from a stdout handler: the whole node went down with it).
    const collected = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) throw new FramingError(`malformed header line ${JSON.stringify(line)}`);
      const key = name.toLowerCase();
      // Only SP and HTAB are optional whitespace (RFC 9110 5.6.3); String.trim would also eat the
      // byte 0xA0, which latin1 reads as a no-break space, from a value that ends with it.
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      const values = collected.get(key);
      if (values) values.push(value);
      else collected.set(key, [value]);
    }
    // fromEntries defines own properties, so even "__proto__" stays a header rather than a prototype.
    const headers: HeaderMap = Object.fromEntries(collected);
    this.head = { startLine, headers };
    this.mode = this.bodyMode(startLine, headers);
    return true;
  }

  /** Fails early on garbage instead of waiting for a blank line that may never come. */
  private checkStart(): void {
    const prefix = this.buffer.subarray(0, Math.min(this.buffer.length, 8)).toString('latin1');
    const ok =
      this.kind === 'response'
        ? 'HTTP/1.'.startsWith(prefix.slice(0, 7))
        : /^[!#$%&'*+.^_`|~0-9A-Za-z-]*( |$)/.test(prefix);
    if (!ok) throw new FramingError(`expected an HTTP/1.1 ${this.kind}, got ${JSON.stringify(prefix)}`);
  }

  private parseStartLine(line: string): [string, string, string] {
    if (this.kind === 'request') {
      const match = REQUEST_LINE.exec(line);
      if (!match) throw new FramingError(`malformed request line ${JSON.stringify(line)}`);
      return [match[1] as string, match[2] as string, match[3] as string];
    }
    const match = STATUS_LINE.exec(line);
    if (!match) throw new FramingError(`malformed status line ${JSON.stringify(line)}`);
    return [match[1] as string, match[2] as string, match[3] ?? ''];
  }

  private bodyMode(startLine: [string, string, string], headers: HeaderMap): BodyMode {
    const encoding = headers['transfer-encoding']?.join(',').toLowerCase();
    if (encoding !== undefined) {
      if (encoding.trim() !== 'chunked') throw new FramingError(`unsupported transfer-encoding ${encoding}`);
      return { kind: 'chunked' };
    }
    const lengths = headers['content-length'];
    if (lengths !== undefined) {
      const values = new Set(lengths.flatMap((value) => value.split(',').map((part) => part.trim())));
      const [only] = [...values];
      if (values.size !== 1 || only === undefined || !/^\d+$/.test(only)) {
        throw new FramingError(`invalid content-length ${JSON.stringify(lengths)}`);
      }
      const length = Number(only);
      if (length > this.limits.bodyBytes) throw new FramingError(overLimit(this.limits.bodyBytes, length));
      return { kind: 'length', remaining: length };
    }
    const status = Number(startLine[1]);
    const bodyless = this.kind === 'request' || status === 204 || status === 304 || status < 200;
    // Without a length a response body would run to end of stream, which never comes on a hot pipe.
    if (!bodyless) throw new FramingError('response has neither content-length nor chunked encoding');
    return { kind: 'length', remaining: 0 };
  }

  private take(count: number): void {
    this.chunks.push(this.buffer.subarray(0, count));
    this.buffer = this.buffer.subarray(count);
    this.bodyBytes += count;
  }

  private readLength(): boolean {
    const mode = this.mode as { kind: 'length'; remaining: number };
    const count = Math.min(mode.remaining, this.buffer.length);
    if (count > 0) this.take(count);
    mode.remaining -= count;
    return mode.remaining === 0;
  }

  private readChunks(): boolean {
    for (;;) {
      const lineEnd = this.buffer.indexOf(CRLF);
      if (lineEnd < 0) {
        if (this.buffer.length > 1024) throw new FramingError('chunk size line too long');
        return false;
      }
      const sizeText = this.buffer.subarray(0, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new FramingError(`invalid chunk size ${sizeText}`);
      const size = Number.parseInt(sizeText, 16);
      if (size === 0) {
        // Last chunk: skip optional trailers up to the blank line. They are a header section, bounded
        // like one: otherwise a function that never ends them is buffered without limit.
        const end = this.buffer.indexOf('\r\n\r\n', lineEnd);
        if (end < 0) {
          if (this.buffer.length - lineEnd > this.limits.headerBytes)
            throw new FramingError('trailer section too large');
          return false;
        }
        this.buffer = this.buffer.subarray(end + 4);
        return true;
      }
      if (this.bodyBytes + size > this.limits.bodyBytes)
        throw new FramingError(overLimit(this.limits.bodyBytes, this.bodyBytes + size));
      if (this.buffer.length < lineEnd + 2 + size + 2) return false;
      this.buffer = this.buffer.subarray(lineEnd + 2);
      this.take(size);
      if (this.buffer[0] !== 0x0d || this.buffer[1] !== 0x0a)
        throw new FramingError('chunk not followed by CRLF');
      this.buffer = this.buffer.subarray(2);
    }
  }
}
