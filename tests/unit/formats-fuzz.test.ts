// Property-based fuzz of the readers that parse what a function writes on stdout (src/node/formats:
// the http, json and default codecs' createReader). A function is untrusted code: whatever bytes it
// writes, in whatever pieces the pipe delivers them, a reader may only answer a response, ask for more,
// or throw FramingError (the runner turns that into a 502 and drops the container; anything else is
// thrown from a stdout handler and takes the node down). Valid answers parse the same however they are
// split, bodies never pass the reader's limit, and a reader never holds more than its limits.
// The example-based cases live in formats.test.ts; the seed is printed and FNG_FUZZ_SEED replays it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeSeed, fuzzSettings, scaled } from '../../helpers/fuzz.js';
import { Http1Reader } from '../../src/common/framing/http1.js';
import {
  FramingError,
  type FunctionResponse,
  formatCodec,
  type StdioFormat,
} from '../../src/node/formats/index.js';

const settings = fuzzSettings();
console.log(describeSeed('formats readers', settings));
const params = (runs: number) => ({ seed: settings.seed, numRuns: scaled(settings, runs) });

/** A small limit, so over-limit cases stay cheap to generate. */
const MAX_BODY = 512;
const FORMATS: StdioFormat[] = ['http', 'json', 'default'];

type Outcome =
  | { kind: 'response'; response: FunctionResponse; excess: boolean }
  | { kind: 'pending' }
  | { kind: 'framing'; message: string };

/**
 * Feeds chunks to a fresh reader as the runner does (push until a response, then end on exit) and
 * says how it went. Anything thrown that is not a FramingError propagates and fails the property.
 */
function read(format: StdioFormat, chunks: Buffer[], exitCode: number | null = 0, max = MAX_BODY): Outcome {
  const reader = formatCodec(format).createReader(max);
  try {
    for (const chunk of chunks) {
      const response = reader.push(chunk);
      if (response) return { kind: 'response', response, excess: reader.excess };
    }
    const response = reader.end(exitCode);
    return response ? { kind: 'response', response, excess: reader.excess } : { kind: 'pending' };
  } catch (error) {
    if (error instanceof FramingError) return { kind: 'framing', message: error.message };
    throw error;
  }
}

/** `bytes` cut at the given offsets (any order, repeats and out-of-range values allowed). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  // Empty chunks included on purpose: a pipe never delivers one, but a reader must not care.
  return chunks;
}

const cuts = fc.array(fc.nat({ max: 4096 }), { maxLength: 12 });

/** Header names a plain-object map gets wrong, among ordinary tokens. */
const headerName = fc.oneof(
  fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'X-Fn', 'Set-Cookie'),
  fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/),
);
const headerValue = fc.stringMatching(
  /^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]{0,20}[\x21-\x7e\x80-\xff])?$/,
);
const FRAMING = new Set(['content-length', 'transfer-encoding']);

interface HttpAnswer {
  status: number;
  reason: string;
  headers: [string, string][];
  body: Buffer;
  /** undefined: Content-Length; else the body's chunk sizes (chunked). */
  pieces: number[] | undefined;
  trailers: [string, string][];
}

const httpAnswer: fc.Arbitrary<HttpAnswer> = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  reason: fc.stringMatching(/^[A-Za-z ]{0,12}$/),
  headers: fc
    .array(fc.tuple(headerName, headerValue), { maxLength: 6 })
    .map((list) => list.filter(([name]) => !FRAMING.has(name.toLowerCase()))),
  body: fc.uint8Array({ maxLength: MAX_BODY }).map((bytes) => Buffer.from(bytes)),
  pieces: fc.option(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }), {
    nil: undefined,
  }),
  trailers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 2 }),
});

function encodeAnswer(answer: HttpAnswer): Buffer {
  let head = `HTTP/1.1 ${answer.status}${answer.reason ? ` ${answer.reason}` : ''}\r\n`;
  for (const [name, value] of answer.headers) head += `${name}: ${value}\r\n`;
  if (answer.pieces === undefined) {
    head += `Content-Length: ${answer.body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), answer.body]);
  }
  head += 'Transfer-Encoding: chunked\r\n\r\n';
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  let offset = 0;
  for (let i = 0; offset < answer.body.length; i++) {
    const size = Math.min(answer.pieces[i % answer.pieces.length] as number, answer.body.length - offset);
    // Chunk extensions are legal and must be ignored.
    parts.push(Buffer.from(`${size.toString(16)}${i % 3 === 1 ? ';ext=1' : ''}\r\n`, 'latin1'));
    parts.push(answer.body.subarray(offset, offset + size), Buffer.from('\r\n'));
    offset += size;
  }
  let trailer = '0\r\n';
  for (const [name, value] of answer.trailers) trailer += `${name}: ${value}\r\n`;
  parts.push(Buffer.from(`${trailer}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** What the reader must make of an answer: lower-cased names, repeated ones in order. */
function expectedHeaders(answer: HttpAnswer): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  const all: [string, string][] = [
    ...answer.headers,
    answer.pieces === undefined
      ? ['content-length', String(answer.body.length)]
      : ['transfer-encoding', 'chunked'],
  ];
  for (const [name, value] of all) {
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  return headers;
}

/** Own entries only: a header named "__proto__" must be an entry, not the map's prototype. */
function entries(headers: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.keys(headers).map((key) => [key, headers[key] as string[]]));
}

interface JsonAnswer {
  body: string | undefined;
  content_type: string | undefined;
  protocol: { status_code?: number; headers?: Record<string, string[]> } | null | undefined;
}

// Full unicode (multi-byte UTF-8 split across chunks) and the bytes the object scanner looks at.
const jsonText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('{', '}', '"', '\\', 'a', '\n', '\u0000', 'é', '😀'), maxLength: 40 }),
);
const jsonAnswer: fc.Arbitrary<JsonAnswer> = fc.record({
  body: fc.option(jsonText, { nil: undefined }),
  content_type: fc.option(fc.stringMatching(/^[a-z]{1,8}\/[a-z]{1,8}$/), { nil: undefined }),
  protocol: fc.option(
    fc.oneof(
      fc.constant(null),
      fc.record(
        {
          status_code: fc.integer({ min: 200, max: 599 }),
          headers: fc.dictionary(headerName, fc.array(headerValue, { maxLength: 2 }), { maxKeys: 4 }),
        },
        { requiredKeys: [] },
      ),
    ),
    { nil: undefined },
  ),
});

function encodeJson(answer: JsonAnswer, pretty: boolean): Buffer {
  const value: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(answer)) if (item !== undefined) value[key] = item;
  return Buffer.from(`${pretty ? '\n ' : ''}${JSON.stringify(value, null, pretty ? 2 : 0)}\n`, 'utf8');
}

describe('any bytes a function writes', () => {
  // Random bytes, and random bytes behind a plausible start, so the reader gets past its first check.
  const starts = fc.constantFrom(
    '',
    'HTTP/1.1 200 OK\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n',
    '{',
    '{"body":"',
  );
  const garbage = fc
    .tuple(starts, fc.uint8Array({ maxLength: 2048 }))
    .map(([start, bytes]) => Buffer.concat([Buffer.from(start, 'latin1'), bytes]));
  const exitCode = fc.oneof(fc.constant(0), fc.constant(null), fc.integer({ min: 1, max: 255 }));

  it.each(FORMATS)(
    '%s: push and end throw nothing but FramingError; a body never passes the limit',
    (format) => {
      fc.assert(
        fc.property(garbage, cuts, exitCode, (bytes, at, code) => {
          const outcome = read(format, split(bytes, at), code);
          if (outcome.kind === 'response') expect(outcome.response.body.length).toBeLessThanOrEqual(MAX_BODY);
        }),
        params(400),
      );
    },
  );

  it('http: chunked-encoding garbage after a valid head is a FramingError, a wait or a bounded body', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunkedGarbage = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            '0',
            '1',
            'a',
            'F',
            'ffffffffffffffffff',
            ';',
            ' ',
            '\r\n',
            '\r',
            '\n',
            'x',
            '-1',
            '0x10',
          ),
          fc.string({ maxLength: 8 }),
        ),
        { maxLength: 60 },
      )
      .map((parts) => Buffer.from(head + parts.join(''), 'latin1'));
    fc.assert(
      fc.property(chunkedGarbage, cuts, (bytes, at) => {
        const outcome = read('http', split(bytes, at));
        if (outcome.kind === 'response') expect(outcome.response.body.length).toBeLessThanOrEqual(MAX_BODY);
      }),
      params(500),
    );
  });
});

describe('a valid answer', () => {
  it('http: split at any chunk boundaries, parses as the unsplit bytes do, and as written', () => {
    fc.assert(
      fc.property(httpAnswer, cuts, (answer, at) => {
        const bytes = encodeAnswer(answer);
        const whole = read('http', [bytes]);
        const pieces = read('http', split(bytes, at));
        expect(pieces).toEqual(whole);
        if (whole.kind !== 'response') throw new Error(`not read: ${JSON.stringify(whole)}`);
        expect(whole.response.status).toBe(answer.status);
        expect(whole.response.body.equals(answer.body)).toBe(true);
        expect(entries(whole.response.headers)).toEqual(expectedHeaders(answer));
        expect(whole.excess).toBe(false);
      }),
      params(500),
    );
  });

  it('json: split at any chunk boundaries (inside multi-byte characters too), parses as the unsplit bytes do', () => {
    fc.assert(
      fc.property(jsonAnswer, fc.boolean(), cuts, (answer, pretty, at) => {
        const bytes = encodeJson(answer, pretty);
        const whole = read('json', [bytes]);
        expect(read('json', split(bytes, at))).toEqual(whole);
        if (whole.kind !== 'response') throw new Error(`not read: ${JSON.stringify(whole)}`);
        expect(whole.response.body.toString('utf8')).toBe(answer.body ?? '');
        expect(whole.response.status).toBe(answer.protocol?.status_code ?? 200);
        expect(whole.excess).toBe(false);
      }),
      params(500),
    );
  });

  it('default: every split of stdout is the same body once the function exits 0', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_BODY }), cuts, (raw, at) => {
        const bytes = Buffer.from(raw);
        const outcome = read('default', split(bytes, at), 0);
        expect(outcome).toMatchObject({ kind: 'response', response: { status: 200 } });
        expect((outcome as { response: FunctionResponse }).response.body.equals(bytes)).toBe(true);
        expect(read('default', split(bytes, at), 1)).toEqual({ kind: 'pending' });
      }),
      params(200),
    );
  });

  it('truncated at every point (http, json): no answer and no error, also at end of stream', () => {
    const answers = fc.oneof(
      httpAnswer.map((answer) => ({ format: 'http' as const, bytes: encodeAnswer(answer) })),
      jsonAnswer.map((answer) => ({
        format: 'json' as const,
        bytes: encodeJson(answer, false).subarray(0, -1),
      })),
    );
    fc.assert(
      fc.property(answers, ({ format, bytes }) => {
        for (let end = 0; end < bytes.length; end++) {
          const outcome = read(format, [bytes.subarray(0, end)], 0);
          if (outcome.kind !== 'pending')
            throw new Error(`${format} truncated at ${end} of ${bytes.length}: ${JSON.stringify(outcome)}`);
        }
      }),
      params(60),
    );
  });

  it('followed by garbage: the same answer, marked as excess (the container is not reused)', () => {
    const garbage = fc
      .uint8Array({ minLength: 1, maxLength: 256 })
      .map((bytes) => Buffer.from(bytes))
      // json excess is what is not whitespace (the node itself ends objects with a newline).
      .filter((bytes) => bytes.some((byte) => ![0x20, 0x09, 0x0a, 0x0d].includes(byte)));
    fc.assert(
      fc.property(
        fc.oneof(
          httpAnswer.map((answer) => ({ format: 'http' as const, bytes: encodeAnswer(answer) })),
          jsonAnswer.map((answer) => ({ format: 'json' as const, bytes: encodeJson(answer, false) })),
        ),
        garbage,
        ({ format, bytes }, extra) => {
          const clean = read(format, [bytes]);
          const dirty = read(format, [Buffer.concat([bytes, extra])]);
          expect(dirty).toEqual({ ...clean, excess: true });
        },
      ),
      params(300),
    );
  });

  it('json: protocol null reads as absent (as Go decodes it); any other non-object is a FramingError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 })),
        (protocol) => {
          expect(read('json', [Buffer.from(JSON.stringify({ body: 'x', protocol }))])).toMatchObject({
            kind: 'framing',
          });
        },
      ),
      params(100),
    );
    expect(read('json', [Buffer.from('{"body":"x","protocol":null}')])).toMatchObject({
      kind: 'response',
      response: { status: 200 },
    });
  });
});

describe('limits', () => {
  const limitMessage = (max: number) => new RegExp(`over the limit of ${max} bytes`);

  it('a declared Content-Length or chunk size over the limit is a FramingError naming it, at once', () => {
    const huge = fc.bigInt({ min: BigInt(MAX_BODY + 1), max: 10n ** 30n });
    fc.assert(
      fc.property(huge, fc.boolean(), (length, chunked) => {
        const head = chunked
          ? `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${length.toString(16)}\r\n`
          : `HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\n`;
        // Only the head: the reader must refuse before any of the body arrives.
        const outcome = read('http', [Buffer.from(head, 'latin1')]);
        expect(outcome).toMatchObject({
          kind: 'framing',
          message: expect.stringMatching(limitMessage(MAX_BODY)),
        });
      }),
      params(200),
    );
  });

  it('a body over the limit is a FramingError naming the limit in every format; at the limit, an answer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * MAX_BODY }),
        fc.constantFrom(...FORMATS),
        cuts,
        (size, format, at) => {
          const body = 'b'.repeat(size);
          const bytes =
            format === 'http'
              ? Buffer.from(
                  `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${encodeChunks(body)}0\r\n\r\n`,
                )
              : format === 'json'
                ? Buffer.from(JSON.stringify({ body }))
                : Buffer.from(body);
          const outcome = read(format, split(bytes, at), 0);
          if (size <= MAX_BODY) expect(outcome).toMatchObject({ kind: 'response' });
          else
            expect(outcome).toMatchObject({
              kind: 'framing',
              message: expect.stringMatching(limitMessage(MAX_BODY)),
            });
        },
      ),
      params(300),
    );
  });

  // Memory: whatever arrives, what the reader holds stays within its header and body limits plus
  // the chunk it was just given (a chunk-size line is at most 1 KiB). Small limits, long streams.
  it('the reader never holds more than its limits, whatever the stream (Http1Reader)', () => {
    const limits = { headerBytes: 256, bodyBytes: 1024 };
    const bound = (chunk: number) => limits.headerBytes + limits.bodyBytes + 1024 + 8 + chunk;
    const heads = fc.constantFrom(
      '',
      'HTTP/1.1 200 OK\r\n',
      'HTTP/1.1 200 OK\r\nX-Long: ',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      // A last chunk whose trailer section never ends.
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: ',
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
    );
    const filler = fc.oneof(
      fc.constantFrom('a', 'x: y\r\n', '1\r\na\r\n', '\r\n', '0', 'f'),
      fc.string({ unit: 'binary-ascii', maxLength: 16 }),
    );
    const stream = fc.tuple(
      heads,
      fc.array(fc.tuple(filler, fc.integer({ min: 1, max: 200 })), { minLength: 1, maxLength: 30 }),
    );
    fc.assert(
      fc.property(stream, ([head, parts]) => {
        const reader = new Http1Reader('response', limits);
        const chunks = [
          Buffer.from(head, 'latin1'),
          ...parts.map(([text, times]) => Buffer.from(text.repeat(times), 'latin1')),
        ];
        try {
          for (const chunk of chunks) {
            reader.push(chunk);
            let message = reader.next();
            while (message !== undefined) {
              expect(message.body.length).toBeLessThanOrEqual(limits.bodyBytes);
              message = reader.next();
            }
            if (reader.buffered > bound(chunk.length))
              throw new Error(`holds ${reader.buffered} bytes, bound ${bound(chunk.length)}`);
          }
        } catch (error) {
          if (!(error instanceof FramingError)) throw error;
        }
      }),
      params(400),
    );
  });

  it('the json and default readers fail once a stream passes their limits, never buffering on', () => {
    // json: the body limit plus the 64 KiB envelope the codec allows; default: the body limit.
    const jsonLimit = MAX_BODY + 64 * 1024;
    fc.assert(
      fc.property(fc.constantFrom('json', 'default'), fc.integer({ min: 1, max: 8192 }), (format, size) => {
        const reader = formatCodec(format as StdioFormat).createReader(MAX_BODY);
        const chunk = Buffer.alloc(size, format === 'json' ? 'a' : 'z');
        let pushed = 0;
        try {
          if (format === 'json') {
            reader.push(Buffer.from('{"body":"'));
            pushed += 9;
          }
          while (pushed <= jsonLimit + size + 16) {
            reader.push(chunk);
            pushed += size;
          }
        } catch (error) {
          if (!(error instanceof FramingError)) throw error;
          expect(pushed).toBeLessThanOrEqual((format === 'json' ? jsonLimit : MAX_BODY) + 9);
          return;
        }
        throw new Error(`${format}: ${pushed} bytes pushed and still buffering`);
      }),
      params(40),
    );
  });
});

function encodeChunks(body: string): string {
  let out = '';
  for (let offset = 0; offset < body.length; offset += 100) {
    const piece = body.slice(offset, offset + 100);
    out += `${piece.length.toString(16)}\r\n${piece}\r\n`;
  }
  return out;
}
