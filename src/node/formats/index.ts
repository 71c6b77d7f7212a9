// Function formats: how one call travels over a container's stdin/stdout. The runner has a single
// code path for every format; a codec only frames a request and reads a response.
//   default  a fresh container per call: per-call env, body on stdin, stdout until exit is the body
//   http     hot: HTTP/1.1 requests and responses back to back (Fn's http format)
//   json     hot: one JSON object per call each way (Fn's 2018 json format)

import { FramingError } from '../../common/framing/framing-error.js';
import {
  encodeHttpRequest,
  type HeaderMap,
  HTTP_LIMITS,
  Http1Reader,
  overLimit,
} from '../../common/framing/http1.js';
import { type JsonCallIn, JsonObjectReader, toJsonCallOut } from '../../common/framing/json-frame.js';
import type { RouteFormat } from '../../common/wire.js';

export { FramingError } from '../../common/framing/framing-error.js';
export type { HeaderMap } from '../../common/framing/http1.js';

export interface FunctionRequest {
  callId: string;
  method: string;
  /** The URL as the client sent it, such as `http://host:8080/r/app/path?x=1`. */
  requestUrl: string;
  headers: HeaderMap;
  body: Buffer;
  deadline: Date;
}

export interface FunctionResponse {
  status: number;
  headers: HeaderMap;
  body: Buffer;
}

/** Reads one call's response from a container's stdout; FramingError when the bytes are not one. */
export interface ResponseReader {
  push(chunk: Buffer): FunctionResponse | undefined;
  /** stdout closed (the process ended): the response when end of stream completes one. */
  end(exitCode: number | null): FunctionResponse | undefined;
  /** Bytes beyond the response: the next call would read them, so the container is not reusable. */
  readonly excess: boolean;
}

export interface FormatCodec {
  readonly name: RouteFormat;
  /** Hot containers serve many calls; otherwise each call gets a fresh container that then exits. */
  readonly hot: boolean;
  /** Per-call environment (default format only: a cold container is started for one call). */
  callEnv(request: FunctionRequest): Record<string, string>;
  encodeRequest(request: FunctionRequest): Buffer;
  /** A reader of one response whose body may be at most `maxBodyBytes` (FN_MAX_RESPONSE_SIZE). */
  createReader(maxBodyBytes?: number): ResponseReader;
}

/** FN_MAX_RESPONSE_SIZE's default: the same 6 MiB as a request body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** A JSON call object carries the body as a string, plus its envelope. */
const JSON_ENVELOPE_BYTES = 64 * 1024;

/** `X-Foo-Bar` -> `FN_HEADER_X_FOO_BAR`, as Fn's default format names request headers. */
export function headerEnvName(name: string): string {
  return `FN_HEADER_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

const defaultCodec: FormatCodec = {
  name: 'default',
  hot: false,
  callEnv(request) {
    const env: Record<string, string> = {};
    for (const [name, values] of Object.entries(request.headers))
      env[headerEnvName(name)] = values.join(', ');
    return {
      ...env,
      FN_REQUEST_URL: request.requestUrl,
      FN_METHOD: request.method,
      FN_CALL_ID: request.callId,
      FN_DEADLINE: request.deadline.toISOString(),
    };
  },
  encodeRequest: (request) => request.body,
  createReader(maxBodyBytes = DEFAULT_MAX_RESPONSE_BYTES) {
    const chunks: Buffer[] = [];
    let size = 0;
    return {
      excess: false,
      push(chunk) {
        size += chunk.length;
        // Everything up to the exit is the body: past the limit the call fails, nothing more is kept.
        if (size > maxBodyBytes) throw new FramingError(overLimit(maxBodyBytes, size));
        chunks.push(chunk);
        return undefined;
      },
      end(exitCode) {
        return exitCode === 0 ? { status: 200, headers: {}, body: Buffer.concat(chunks) } : undefined;
      },
    };
  },
};

/** The call metadata Fn's http format hands a function as request headers (lower-cased). */
const CALL_METADATA = new Set(['fn_call_id', 'fn_method', 'fn_request_url', 'fn_deadline']);

/**
 * Fn's http format adds these request headers (Go canonical form of FN_CALL_ID and friends); a client
 * sending headers of those names must not have the function take them for the node's.
 */
function fnRequestHeaders(request: FunctionRequest): HeaderMap {
  const headers: HeaderMap = {};
  for (const [name, values] of Object.entries(request.headers))
    if (!CALL_METADATA.has(name.toLowerCase())) headers[name] = values;
  return {
    ...headers,
    host: [new URL(request.requestUrl).host],
    Fn_call_id: [request.callId],
    Fn_method: [request.method],
    Fn_request_url: [request.requestUrl],
    Fn_deadline: [request.deadline.toISOString()],
  };
}

/**
 * The status of a function's answer: a final one (200-599). A 1xx would reach the client as if it
 * were the answer and leave it waiting for the real one; a hot container's next bytes are then not
 * a response of ours either.
 */
function finalStatus(status: number): number {
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw new FramingError(`status ${status} is not a final HTTP status (200-599)`);
  return status;
}

const httpCodec: FormatCodec = {
  name: 'http',
  hot: true,
  callEnv: () => ({}),
  encodeRequest(request) {
    // Fn writes the full request URL as the request target (absolute form).
    return encodeHttpRequest(request.method, request.requestUrl, fnRequestHeaders(request), request.body);
  },
  createReader(maxBodyBytes = DEFAULT_MAX_RESPONSE_BYTES) {
    const reader = new Http1Reader('response', {
      headerBytes: HTTP_LIMITS.headerBytes,
      bodyBytes: maxBodyBytes,
    });
    let done = false;
    return {
      get excess() {
        return done && reader.buffered > 0;
      },
      push(chunk) {
        reader.push(chunk);
        if (done) return undefined;
        const message = reader.next();
        if (message === undefined) return undefined;
        done = true;
        return {
          status: finalStatus(Number(message.startLine[1])),
          headers: message.headers,
          body: message.body,
        };
      },
      end: () => undefined,
    };
  },
};

const jsonCodec: FormatCodec = {
  name: 'json',
  hot: true,
  callEnv: () => ({}),
  encodeRequest(request) {
    const contentType = request.headers['content-type']?.[0] ?? '';
    const input: JsonCallIn = {
      call_id: request.callId,
      deadline: request.deadline.toISOString(),
      body: request.body.toString('utf8'),
      content_type: contentType,
      protocol: {
        type: 'http',
        method: request.method,
        request_url: request.requestUrl,
        headers: request.headers,
      },
    };
    return Buffer.from(`${JSON.stringify(input)}\n`, 'utf8');
  },
  createReader(maxBodyBytes = DEFAULT_MAX_RESPONSE_BYTES) {
    const reader = new JsonObjectReader(maxBodyBytes + JSON_ENVELOPE_BYTES);
    let done = false;
    return {
      get excess() {
        return done && reader.pendingNonSpace;
      },
      push(chunk) {
        reader.push(chunk);
        if (done) return undefined;
        const value = reader.next();
        if (value === undefined) return undefined;
        done = true;
        const out = toJsonCallOut(value);
        const bodyBytes = Buffer.byteLength(out.body ?? '', 'utf8');
        if (bodyBytes > maxBodyBytes) throw new FramingError(overLimit(maxBodyBytes, bodyBytes));
        const headers: HeaderMap = { ...(out.protocol?.headers ?? {}) };
        // Fn: the top-level content_type, when set, wins over the protocol headers.
        if (out.content_type) {
          for (const name of Object.keys(headers))
            if (name.toLowerCase() === 'content-type') delete headers[name];
          headers['content-type'] = [out.content_type];
        }
        return {
          status: finalStatus(out.protocol?.status_code ?? 200),
          headers,
          body: Buffer.from(out.body ?? '', 'utf8'),
        };
      },
      end: () => undefined,
    };
  },
};

const CODECS: Record<RouteFormat, FormatCodec> = { default: defaultCodec, http: httpCodec, json: jsonCodec };

export function formatCodec(format: RouteFormat): FormatCodec {
  const codec = CODECS[format];
  if (codec === undefined) throw new FramingError(`unknown format ${JSON.stringify(format)}`);
  return codec;
}
