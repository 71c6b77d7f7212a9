// Framing of the three formats: what the node writes, how it reads a function's answer from any
// chunking, and that broken framing is detected rather than waited on.
import { describe, expect, it } from 'vitest';
import { encodeHttpRequest, encodeHttpResponse, Http1Reader } from '../../src/common/framing/http1.js';
import { JsonObjectReader, toJsonCallIn } from '../../src/common/framing/json-frame.js';
import {
  FramingError,
  type FunctionRequest,
  formatCodec,
  headerEnvName,
} from '../../src/node/formats/index.js';

const request: FunctionRequest = {
  callId: 'call-1',
  method: 'POST',
  requestUrl: 'http://127.0.0.1:8080/r/app/echo?x=1',
  headers: { 'content-type': ['text/plain'], 'x-multi': ['a', 'b'] },
  body: Buffer.from('héllo'),
  deadline: new Date('2030-01-01T00:00:00Z'),
};

/** Feeds bytes one at a time, as the worst pipe would deliver them. */
function byteByByte<T>(bytes: Buffer, push: (chunk: Buffer) => T | undefined): T[] {
  const out: T[] = [];
  for (const byte of bytes) {
    const value = push(Buffer.from([byte]));
    if (value !== undefined) out.push(value);
  }
  return out;
}

describe('http/1.1 framing', () => {
  it('reads back-to-back messages from arbitrary chunks', () => {
    const one = encodeHttpResponse(
      200,
      'OK',
      { 'content-type': ['application/json'] },
      Buffer.from('{"a":1}'),
    );
    const two = encodeHttpResponse(404, 'Not Found', {}, Buffer.alloc(0));
    const reader = new Http1Reader('response');
    const messages = byteByByte(Buffer.concat([one, two]), (chunk) => {
      reader.push(chunk);
      return reader.next();
    });
    expect(messages.map((m) => [m.startLine[1], m.body.toString()])).toEqual([
      ['200', '{"a":1}'],
      ['404', ''],
    ]);
    expect(messages[0]?.headers['content-type']).toEqual(['application/json']);
  });

  it('reads chunked bodies', () => {
    const reader = new Http1Reader('response');
    reader.push(
      Buffer.from(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      ),
    );
    expect(reader.next()?.body.toString()).toBe('hello world');
    expect(reader.idle).toBe(true);
  });

  it('refuses garbage early, and a response it could only end at end of stream', () => {
    const garbage = new Http1Reader('response');
    garbage.push(Buffer.from('<<this is not'));
    expect(() => garbage.next()).toThrow(FramingError);
    const unbounded = new Http1Reader('response');
    unbounded.push(Buffer.from('HTTP/1.1 200 OK\r\nX: y\r\n\r\nbody'));
    expect(() => unbounded.next()).toThrow(/neither content-length nor chunked/);
    const conflicting = new Http1Reader('response');
    conflicting.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'));
    expect(() => conflicting.next()).toThrow(/invalid content-length/);
  });

  // Found by formats-fuzz: on a plain object these names found Object.prototype's members, and the
  // TypeError thrown from the runner's stdout handler took the whole node down.
  it('keeps headers named like Object.prototype members (constructor, __proto__) as headers', () => {
    const reader = new Http1Reader('response');
    reader.push(
      Buffer.from(
        'HTTP/1.1 200 OK\r\nconstructor: c\r\n__proto__: p\r\nToString: t\r\nContent-Length: 0\r\n\r\n',
      ),
    );
    const headers = reader.next()?.headers ?? {};
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([
      ['constructor', ['c']],
      ['__proto__', ['p']],
      ['tostring', ['t']],
      ['content-length', ['0']],
    ]);
  });

  it('trims only SP and HTAB around a header value, not a trailing 0xA0 byte', () => {
    const reader = new Http1Reader('response');
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nX-A: \t v\xa0 \r\nContent-Length: 0\r\n\r\n', 'latin1'));
    expect(reader.next()?.headers['x-a']).toEqual(['v\xa0']);
  });

  it('bounds a trailer section that never ends like a header section', () => {
    const reader = new Http1Reader('response', { headerBytes: 256, bodyBytes: 1024 });
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: '));
    expect(reader.next()).toBeUndefined();
    reader.push(Buffer.alloc(300, 'a'));
    expect(() => reader.next()).toThrow(/trailer section too large/);
  });

  it('never lets a header value inject a line', () => {
    const bytes = encodeHttpRequest('GET', '/', { 'x-evil': ['a\r\nContent-Length: 99'] }, Buffer.alloc(0));
    expect(bytes.toString()).not.toContain('99');
  });
});

describe('json framing', () => {
  it('splits a stream into objects, with braces and escapes inside strings', () => {
    const reader = new JsonObjectReader();
    const text = '{"body":"} {\\"","n":{"a":[1]}}\n  {"body":"é"}\n';
    const objects = byteByByte(Buffer.from(text), (chunk) => {
      reader.push(chunk);
      return reader.next();
    });
    expect(objects).toEqual([{ body: '} {"', n: { a: [1] } }, { body: 'é' }]);
  });

  // Found by formats-fuzz: `"protocol": null` threw a TypeError (not a FramingError) out of the reader.
  it('reads a null protocol as absent and refuses any other non-object protocol or headers', () => {
    const read = (text: string) => formatCodec('json').createReader().push(Buffer.from(text));
    expect(read('{"body":"x","protocol":null}')).toMatchObject({ status: 200, body: Buffer.from('x') });
    expect(() => read('{"body":"x","protocol":"http"}')).toThrow(FramingError);
    expect(() => read('{"body":"x","protocol":[1]}')).toThrow(FramingError);
    expect(() => read('{"body":"x","protocol":{"headers":[["a"]]}}')).toThrow(FramingError);
  });

  it('refuses anything that does not start an object', () => {
    const reader = new JsonObjectReader();
    reader.push(Buffer.from('<<garbage>>'));
    expect(() => reader.next()).toThrow(FramingError);
  });
});

describe('format codecs', () => {
  it('default: per-call environment, body on stdin, stdout until a clean exit', () => {
    const codec = formatCodec('default');
    expect(codec.hot).toBe(false);
    expect(codec.callEnv(request)).toMatchObject({
      FN_REQUEST_URL: request.requestUrl,
      FN_METHOD: 'POST',
      FN_CALL_ID: 'call-1',
      FN_HEADER_CONTENT_TYPE: 'text/plain',
      FN_HEADER_X_MULTI: 'a, b',
    });
    expect(headerEnvName('x-foo.bar')).toBe('FN_HEADER_X_FOO_BAR');
    expect(codec.encodeRequest(request)).toEqual(request.body);
    const reader = codec.createReader();
    expect(reader.push(Buffer.from('out'))).toBeUndefined();
    expect(reader.end(0)?.body.toString()).toBe('out');
    const failed = codec.createReader();
    failed.push(Buffer.from('half'));
    expect(failed.end(1)).toBeUndefined();
  });

  it('http: Fn headers on the request, status and headers from the response, excess detected', () => {
    const codec = formatCodec('http');
    const parsed = new Http1Reader('request');
    parsed.push(codec.encodeRequest(request));
    const message = parsed.next();
    expect(message?.startLine).toEqual(['POST', request.requestUrl, 'HTTP/1.1']);
    expect(message?.headers).toMatchObject({
      fn_call_id: ['call-1'],
      fn_method: ['POST'],
      fn_request_url: [request.requestUrl],
      'x-multi': ['a', 'b'],
      'content-length': ['6'],
    });
    expect(message?.body.toString()).toBe('héllo');
    const reader = codec.createReader();
    const response = reader.push(
      Buffer.concat([
        encodeHttpResponse(201, 'Created', { 'x-a': ['1'] }, Buffer.from('ok')),
        Buffer.from('extra'),
      ]),
    );
    expect(response).toMatchObject({ status: 201, headers: { 'x-a': ['1'] } });
    expect(response?.body.toString()).toBe('ok');
    expect(reader.excess).toBe(true);
  });

  it("json: Fn's 2018 field names both ways; content_type wins over protocol headers", () => {
    const codec = formatCodec('json');
    const sent = toJsonCallIn(JSON.parse(codec.encodeRequest(request).toString()));
    expect(sent).toEqual({
      call_id: 'call-1',
      deadline: '2030-01-01T00:00:00.000Z',
      body: 'héllo',
      content_type: 'text/plain',
      protocol: { type: 'http', method: 'POST', request_url: request.requestUrl, headers: request.headers },
    });
    const reader = codec.createReader();
    const reply = {
      body: 'hi',
      content_type: 'text/x',
      protocol: { status_code: 202, headers: { 'Content-Type': ['a/b'] } },
    };
    const response = reader.push(Buffer.from(`${JSON.stringify(reply)}\n`));
    expect(response).toMatchObject({ status: 202, headers: { 'content-type': ['text/x'] } });
    expect(response?.headers).not.toHaveProperty('Content-Type');
    expect(reader.excess).toBe(false);
    expect(() => codec.createReader().push(Buffer.from('{"body":1}'))).toThrow(/body is not a string/);
    expect(() => codec.createReader().push(Buffer.from('{"body":"","protocol":{"status_code":99}}'))).toThrow(
      /not an HTTP status/,
    );
  });
});
