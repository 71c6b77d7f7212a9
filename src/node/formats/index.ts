// Function formats: how one call travels over a container's stdin/stdout. The runner has a single
// code path for every format; a codec only frames a request and reads a response.
//   default  a fresh container per call: per-call env, body on stdin, stdout until exit is the body
//   http     hot: HTTP/1.1 requests and responses back to back (Fn's http format)
//   json     hot: one JSON object per call each way (Fn's 2018 json format)
import type { RouteFormat } from '../../common/wire.js';
import { FramingError } from './framing-error.js';
import { encodeHttpRequest, type HeaderMap, Http1Reader } from './http1.js';
import { type JsonCallIn, JsonObjectReader, toJsonCallOut } from './json-frame.js';

export { FramingError } from './framing-error.js';
export type { HeaderMap } from './http1.js';

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
  createReader(): ResponseReader;
}

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
  createReader() {
    const chunks: Buffer[] = [];
    return {
      excess: false,
      push(chunk) {
        chunks.push(chunk);
        return undefined;
      },
      end(exitCode) {
        return exitCode === 0 ? { status: 200, headers: {}, body: Buffer.concat(chunks) } : undefined;
      },
    };
  },
};

/** Fn's http format adds these request headers (Go canonical form of FN_CALL_ID and friends). */
function fnRequestHeaders(request: FunctionRequest): HeaderMap {
  return {
    ...request.headers,
    host: [new URL(request.requestUrl).host],
    Fn_call_id: [request.callId],
    Fn_method: [request.method],
    Fn_request_url: [request.requestUrl],
    Fn_deadline: [request.deadline.toISOString()],
  };
}

const httpCodec: FormatCodec = {
  name: 'http',
  hot: true,
  callEnv: () => ({}),
  encodeRequest(request) {
    // Fn writes the full request URL as the request target (absolute form).
    return encodeHttpRequest(request.method, request.requestUrl, fnRequestHeaders(request), request.body);
  },
  createReader() {
    const reader = new Http1Reader('response');
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
        return { status: Number(message.startLine[1]), headers: message.headers, body: message.body };
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
  createReader() {
    const reader = new JsonObjectReader();
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
        const headers: HeaderMap = { ...(out.protocol?.headers ?? {}) };
        // Fn: the top-level content_type, when set, wins over the protocol headers.
        if (out.content_type) {
          for (const name of Object.keys(headers))
            if (name.toLowerCase() === 'content-type') delete headers[name];
          headers['content-type'] = [out.content_type];
        }
        return {
          status: out.protocol?.status_code ?? 200,
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
