// Function formats: how one call travels to a container and its answer back. The runner has a single
// code path for every format; a codec only frames a request and reads a response, and says over which
// transport: the container's stdin/stdout (`stdio`) or the unix socket it serves (`socket`).
//   default      a fresh container per call: per-call env, body on stdin, stdout until exit is the body
//   http         hot: HTTP/1.1 requests and responses back to back on stdio (Fn's http format)
//   json         hot: one JSON object per call each way on stdio (Fn's 2018 json format)
//   http-stream  hot: POST /call per call on the socket the function links as lsnr.sock in its own
//                directory (FN_LISTENER), the format of Fn's current runners; stdout is only a log

import { FramingError } from '../../common/framing/framing-error.js';
import {
  encodeHttpRequest,
  type HeaderMap,
  HTTP_LIMITS,
  Http1Reader,
  overLimit,
} from '../../common/framing/http1.js';
import { type JsonCallIn, JsonObjectReader, toJsonCallOut } from '../../common/framing/json-frame.js';
import { CONNECTION_HEADERS } from '../../common/hop-by-hop.js';
import { FN_MESSAGES, type RouteFormat } from '../../common/wire.js';
import { canonicalHeader, HTTP_STREAM_HEADERS } from '../../common/wire-v2.js';

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
  /**
   * http-stream only: a call invoked by id (no HTTP trigger), whose headers go to the function as
   * they are and whose answer comes back as it is. Absent or false: an HTTP call.
   */
  invoke?: boolean;
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

/** The formats whose calls travel over the container's stdin and stdout. */
export type StdioFormat = Exclude<RouteFormat, 'http-stream'>;

interface CodecBase {
  readonly name: RouteFormat;
  /** Hot containers serve many calls; otherwise each call gets a fresh container that then exits. */
  readonly hot: boolean;
  /** Per-call environment (default format only: a cold container is started for one call). */
  callEnv(request: FunctionRequest): Record<string, string>;
}

/** A format spoken over stdin (requests) and stdout (responses). */
export interface StdioCodec extends CodecBase {
  readonly name: StdioFormat;
  readonly transport: 'stdio';
  encodeRequest(request: FunctionRequest): Buffer;
  /** A reader of one response whose body may be at most `maxBodyBytes` (FN_MAX_RESPONSE_SIZE). */
  createReader(maxBodyBytes?: number): ResponseReader;
}

/** What a function's answer on its socket means: the user's response head, or why the call failed. */
export type SocketAnswer =
  | { ok: true; status: number; headers: HeaderMap }
  | {
      ok: false;
      status: 502 | 504;
      message: string;
      /** Why the container must not serve another call, when it must not. */
      broken: string | undefined;
    };

/** A format spoken over HTTP on a unix socket the function serves (http-stream). */
export interface SocketCodec extends CodecBase {
  readonly name: 'http-stream';
  readonly hot: true;
  readonly transport: 'socket';
  /** The path of each call's POST. */
  readonly callPath: string;
  /** The headers of one call's POST. */
  callHeaders(request: FunctionRequest): Record<string, string[]>;
  /** Reads the head of the function's answer; FramingError when it is not one the format allows. */
  readAnswer(status: number, headers: HeaderMap, invoke: boolean): SocketAnswer;
}

export type FormatCodec = StdioCodec | SocketCodec;

/** FN_MAX_RESPONSE_SIZE's default: the same 6 MiB as a request body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** A JSON call object carries the body as a string, plus its envelope. */
const JSON_ENVELOPE_BYTES = 64 * 1024;

/** `X-Foo-Bar` -> `FN_HEADER_X_FOO_BAR`, as Fn's default format names request headers. */
export function headerEnvName(name: string): string {
  return `FN_HEADER_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

const defaultCodec: StdioCodec = {
  transport: 'stdio',
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

const httpCodec: StdioCodec = {
  transport: 'stdio',
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

const jsonCodec: StdioCodec = {
  transport: 'stdio',
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

/** The prefix of a caller's and a user's headers inside an http-stream call and its answer. */
const HTTP_HEADER_PREFIX = HTTP_STREAM_HEADERS.headerPrefix;
/** Set by the runner on every http-stream call: a caller's headers of these names never pass as the node's. */
const HTTP_STREAM_CALL_HEADERS = new Set<string>([
  HTTP_STREAM_HEADERS.callId,
  HTTP_STREAM_HEADERS.deadline,
  HTTP_STREAM_HEADERS.intent,
]);
/**
 * Not passed on either way: they describe one connection, and the runner frames the body itself. An
 * HTTP client library refuses most of them in a request anyway.
 */
const HTTP_STREAM_HOP = new Set([...CONNECTION_HEADERS, 'content-length', 'host', 'expect']);

/**
 * The headers of an http-stream call. An HTTP call (a route, or an HTTP trigger) carries the caller's
 * method, full URL and every header as Fn-Http-*, with Content-Type also as it is (the body's type),
 * and Fn-Intent: httprequest; a call invoked by id carries the caller's headers as they are. Both get
 * the node's Fn-Call-Id and Fn-Deadline, which no caller header of those names overrides.
 */
export function httpStreamCallHeaders(request: FunctionRequest): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  const invoke = request.invoke === true;
  for (const [name, values] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (values.length === 0) continue;
    if (invoke) {
      if (!HTTP_STREAM_HOP.has(lower) && !HTTP_STREAM_CALL_HEADERS.has(lower)) headers[lower] = [...values];
      continue;
    }
    if (CONNECTION_HEADERS.includes(lower) || lower === 'content-length') continue;
    headers[`${canonicalHeader(HTTP_HEADER_PREFIX)}${lower}`] = [...values];
    if (lower === 'content-type') headers['Content-Type'] = [...values];
  }
  // As Fn's Go runner writes them.
  const set = (name: string, value: string) => {
    headers[canonicalHeader(name)] = [value];
  };
  set(HTTP_STREAM_HEADERS.callId, request.callId);
  set(HTTP_STREAM_HEADERS.deadline, request.deadline.toISOString());
  if (!invoke) {
    set(HTTP_STREAM_HEADERS.intent, 'httprequest');
    set(HTTP_STREAM_HEADERS.method, request.method);
    set(HTTP_STREAM_HEADERS.requestUrl, request.requestUrl);
  }
  return headers;
}

/**
 * What an http-stream function's answer means. 200 is an answer: for an HTTP call the user's status
 * is in Fn-Http-Status (200 when absent) and the user's headers are the Fn-Http-H-<name> ones, prefix
 * stripped, plus Content-Type (every other header is the function's server's, not the user's); for a
 * call invoked by id its headers are the user's, less the connection's. 502: the function failed this
 * call and can take the next. 504: it timed out, and is not trusted again. Anything else breaks the
 * format (FramingError).
 */
export function httpStreamAnswer(status: number, headers: HeaderMap, invoke: boolean): SocketAnswer {
  if (status === 502) return { ok: false, status: 502, message: 'function failed', broken: undefined };
  if (status === 504)
    return {
      ok: false,
      status: 504,
      message: FN_MESSAGES.timedOut,
      broken: 'it said it ran past its timeout',
    };
  if (status !== 200)
    throw new FramingError(`status ${status} where the function must answer 200, 502 or 504`);
  const user: HeaderMap = {};
  if (invoke) {
    for (const [name, values] of Object.entries(headers))
      if (!HTTP_STREAM_HOP.has(name.toLowerCase())) user[name] = values;
    return { ok: true, status: 200, headers: user };
  }
  let userStatus = 200;
  let contentType: string[] | undefined;
  for (const [name, values] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === HTTP_STREAM_HEADERS.status) {
      const text = values[0] ?? '';
      if (!/^\d{3}$/.test(text.trim()))
        throw new FramingError(`Fn-Http-Status ${JSON.stringify(text.slice(0, 40))} is not a status`);
      userStatus = finalStatus(Number(text));
    } else if (lower === 'content-type') contentType = values;
    else if (lower.startsWith(HTTP_HEADER_PREFIX) && lower.length > HTTP_HEADER_PREFIX.length)
      user[lower.slice(HTTP_HEADER_PREFIX.length)] = values;
  }
  // The answer's own Content-Type is the body's: it wins over a prefixed one.
  if (contentType !== undefined) {
    for (const name of Object.keys(user)) if (name === 'content-type') delete user[name];
    user['content-type'] = contentType;
  }
  return { ok: true, status: userStatus, headers: user };
}

const httpStreamCodec: SocketCodec = {
  name: 'http-stream',
  hot: true,
  transport: 'socket',
  callPath: '/call',
  callEnv: () => ({}),
  callHeaders: httpStreamCallHeaders,
  readAnswer: httpStreamAnswer,
};

const CODECS: Record<RouteFormat, FormatCodec> = {
  default: defaultCodec,
  http: httpCodec,
  json: jsonCodec,
  'http-stream': httpStreamCodec,
};

export function formatCodec(format: StdioFormat): StdioCodec;
export function formatCodec(format: RouteFormat): FormatCodec;
export function formatCodec(format: RouteFormat): FormatCodec {
  const codec = CODECS[format];
  if (codec === undefined) throw new FramingError(`unknown format ${JSON.stringify(format)}`);
  return codec;
}
