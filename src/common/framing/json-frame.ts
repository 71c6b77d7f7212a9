// Fn's `json` format (2018 Fn server, api/agent/protocol/json.go): one JSON object per call each way,
// written back to back (the node adds a newline). These shapes and the incremental object reader are
// shared by the node (responses) and the FDK (requests).

import { FramingError } from './framing-error.js';
import type { HeaderMap } from './http1.js';

export interface JsonCallIn {
  call_id: string;
  /** RFC 3339 time after which the node abandons the call. */
  deadline: string;
  body: string;
  content_type: string;
  protocol: { type: 'http'; method: string; request_url: string; headers: HeaderMap };
}

export interface JsonCallOut {
  body: string;
  content_type?: string;
  protocol?: { status_code?: number; headers?: HeaderMap };
}

export const JSON_OBJECT_LIMIT_BYTES = 32 * 1024 * 1024;

const OPEN = 0x7b;
const CLOSE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Splits a byte stream into top-level JSON objects. Only structural ASCII bytes are inspected, so
 * multi-byte UTF-8 inside strings is safe. The scan resumes where it stopped on the next push.
 */
export class JsonObjectReader {
  constructor(private readonly limitBytes = JSON_OBJECT_LIMIT_BYTES) {}

  private buffer: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Bytes received but not yet part of a returned object (whitespace excluded). */
  get pendingNonSpace(): boolean {
    return this.buffer.some((byte) => !isSpace(byte));
  }

  /** Next complete object, undefined when more bytes are needed; FramingError on anything else. */
  next(): unknown {
    if (this.depth === 0) {
      let start = 0;
      while (start < this.buffer.length && isSpace(this.buffer[start] as number)) start++;
      this.buffer = this.buffer.subarray(start);
      this.scanned = 0;
      if (this.buffer.length === 0) return undefined;
      if (this.buffer[0] !== OPEN) {
        const sample = this.buffer.subarray(0, 16).toString('utf8');
        throw new FramingError(`expected a JSON object, got ${JSON.stringify(sample)}`);
      }
    }
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const byte = this.buffer[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
      } else if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN) this.depth++;
      else if (byte === CLOSE && --this.depth === 0) {
        const text = this.buffer.subarray(0, i + 1).toString('utf8');
        this.buffer = this.buffer.subarray(i + 1);
        this.scanned = 0;
        try {
          return JSON.parse(text);
        } catch (error) {
          throw new FramingError(`invalid JSON object: ${(error as Error).message}`);
        }
      }
    }
    this.scanned = this.buffer.length;
    if (this.buffer.length > this.limitBytes)
      throw new FramingError(
        `a JSON object of ${this.buffer.length} bytes or more is over the limit of ${this.limitBytes} bytes`,
      );
    return undefined;
  }
}

function isHeaderMap(value: unknown): value is HeaderMap {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => Array.isArray(v) && v.every((item) => typeof item === 'string'))
  );
}

/** Checks a function's reply against Fn's json response shape. */
export function toJsonCallOut(value: unknown): JsonCallOut {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FramingError('json response is not an object');
  }
  const out = value as Record<string, unknown>;
  if (out.body !== undefined && typeof out.body !== 'string')
    throw new FramingError('json body is not a string');
  if (out.content_type !== undefined && typeof out.content_type !== 'string') {
    throw new FramingError('json content_type is not a string');
  }
  // JSON null reads as absent, as Go's decoder reads it; any other non-object is not Fn's shape (and
  // reading its fields would throw a TypeError, not a FramingError, from a stdout handler).
  if (out.protocol === null) delete out.protocol;
  const protocol = out.protocol as Record<string, unknown> | undefined;
  if (protocol !== undefined && (typeof protocol !== 'object' || Array.isArray(protocol)))
    throw new FramingError('json protocol is not an object');
  if (protocol !== undefined) {
    const status = protocol.status_code;
    if (
      status !== undefined &&
      !(Number.isInteger(status) && (status as number) >= 100 && (status as number) < 600)
    ) {
      throw new FramingError(`json status_code ${JSON.stringify(status)} is not an HTTP status`);
    }
    if (protocol.headers !== undefined && !isHeaderMap(protocol.headers)) {
      throw new FramingError('json headers are not a map of string lists');
    }
  }
  return value as JsonCallOut;
}

/** Checks a request the FDK received against Fn's json request shape. */
export function toJsonCallIn(value: unknown): JsonCallIn {
  const input = value as Partial<JsonCallIn> | null;
  if (
    typeof input !== 'object' ||
    input === null ||
    typeof input.body !== 'string' ||
    typeof input.protocol?.request_url !== 'string' ||
    !isHeaderMap(input.protocol.headers ?? {})
  ) {
    throw new FramingError('json request does not have Fn json format shape');
  }
  return input as JsonCallIn;
}
