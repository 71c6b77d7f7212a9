// Property-based fuzz of one real fn-node (process driver, SQLite in a temp dir): at least 10,000
// generated requests against the Fn v1 API and the invoke path, from fast-check with a fixed seed
// (printed; FNG_FUZZ_SEED replays it, FNG_FUZZ_RUNS scales the counts). Three lanes run at once:
//   writes  API writes one at a time (valid-ish bodies with mutated fields, wrong types, huge and
//           unicode strings, control characters, loader variables, raw garbage and odd content
//           types), each judged, with a model of the state the accepted ones built: every 25 writes
//           the node's whole state (GET /v1/apps and each app's routes) must equal the model, so a
//           refused write that changed something, or an accepted one stored otherwise than answered,
//           is found (writes are serial so the model is exact);
//   calls   API reads and invocations (methods, %-escapes, dot segments, long segments, queries,
//           headers, bodies), 12 in flight, undici with a deadline on each;
//   raw     bytes undici refuses to send (bad header bytes, odd request targets, broken framing).
// Every answer: no 5xx but the documented ones (invocation: 502 function failed, 503 busy, 504 timed
// out; API: 503 datastore), every node error in Fn's shape {"error":{"message"}}. At the end the node
// still runs, answers /version, and logged no uncaught error. A last property gives localhost/fnlb-guard/hostile's
// seeded garbage to the three formats: the node must answer 502 (or 504 when the bytes could still
// begin an answer) within the route's timeout, as the format's reader itself judges those bytes.
// FNG_FUZZ_DEBUG=1 prints every request before it goes out and runs the lanes one after another.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSeed, fuzzSettings, scaled } from '../../helpers/fuzz.js';
import { ScratchNode } from '../../helpers/scratch-node.js';
import { forEachBounded } from '../../src/common/bounded.js';
import { FnClient } from '../../src/common/fn-client.js';
import { parseRequestTarget } from '../../src/common/request-target.js';
import type { App, Route } from '../../src/common/wire.js';
import { pseudoRandomBytes } from '../../src/functions/pseudo-random.js';
import { FramingError, formatCodec } from '../../src/node/formats/index.js';
import {
  type Answer,
  Findings,
  type FuzzRequest,
  isFnError,
  isFnErrorFor,
  isJsonType,
  MAX_CLOSED_EARLY_SHARE,
  rawAnswer,
  send,
  sendRaw,
  Tally,
  watchLog,
} from './support/fuzz.js';

const settings = fuzzSettings();
const WRITES = scaled(settings, 3500);
const CALLS = scaled(settings, 5600);
const RAW = scaled(settings, 900);
const GARBAGE_RUNS = scaled(settings, 48);
const CONCURRENCY = 12;
const SNAPSHOT_EVERY = 25;
/** Small, so huge strings reach the 413 limit cheaply. */
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_RESPONSE_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_S = 3;

/** The fixture app: only the call lane uses it, so its routes stay as created. */
const FIXTURE = 'fz';
/** Apps the write lane builds and the model tracks (with any other valid name it generates). */
const MODEL_APPS = ['m1', 'm2', 'm3'];

let node: ScratchNode;
let api: FnClient;
let log: { lines: string[] };
const findings = new Findings();
const tally = new Tally();
const inFlight = new Set<string>();

/** Runs one request, named in `inFlight` while it runs (the watchdog prints what hangs). */
async function tracked<T>(what: { method: string; target: string }, work: () => Promise<T>): Promise<T> {
  const label = `${what.method} ${what.target.slice(0, 100)} #${Math.random().toString(36).slice(2, 6)}`;
  inFlight.add(label);
  if (process.env.FNG_FUZZ_DEBUG) console.log(`[fuzz] > ${label} ${JSON.stringify(what).slice(0, 300)}`);
  try {
    return await work();
  } finally {
    inFlight.delete(label);
  }
}

beforeAll(async () => {
  console.log(describeSeed('fn-node', settings));
  node = await ScratchNode.start({
    label: 'fuzz-node',
    env: {
      FN_MAX_REQUEST_SIZE: String(MAX_REQUEST_BYTES),
      FN_MAX_RESPONSE_SIZE: String(MAX_RESPONSE_BYTES),
      FN_REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_S),
      // Routes may ask for up to 8192 MB: room for them, so a call never waits half a 120 s timeout
      // for memory (a documented 503, but one that would hold the run for a minute).
      FN_MEMORY_MB: '100000',
    },
  });
  log = watchLog([node.managed.child.stdout, node.managed.child.stderr]);
  api = new FnClient(node.url, { timeoutMs: 15_000 });
  const routes: [string, string, string, number][] = [
    ['/echo', 'localhost/fnlb-guard/echo', 'http', 5],
    ['/json', 'localhost/fnlb-guard/echo', 'json', 5],
    ['/hostile', 'localhost/fnlb-guard/hostile', 'http', 2],
    ['/hostile-json', 'localhost/fnlb-guard/hostile', 'json', 2],
    ['/crash', 'localhost/fnlb-guard/crash', 'http', 5],
    ['/unknown', 'acme/unknown:1.0', 'http', 5],
    ['/a/b', 'localhost/fnlb-guard/echo', 'http', 5],
  ];
  for (const [path, image, format, timeout] of routes) {
    const created = await api.send('POST', `/v1/apps/${FIXTURE}/routes`, {
      route: { path, image, format, timeout },
    });
    expect(created.status, created.body).toBe(200);
  }
});

afterAll(async () => {
  await node?.close();
});

// ---------------------------------------------------------------------------------------------
// Generators

const unicode = fc.string({ unit: 'grapheme', maxLength: 20 });
const control = fc.string({
  unit: fc.constantFrom('\u0000', '\u0001', '\n', '\r', '\t', '\u007f', '\u2028', ' '),
  maxLength: 4,
});
const huge = fc.integer({ min: 1000, max: MAX_REQUEST_BYTES + 50_000 }).map((n) => 'h'.repeat(n));
/** Any JSON value, biased towards the wrong types a field might get. */
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.constant(-1),
  fc.constant(0),
  fc.constant(1e308),
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:/-]{0,16}$/) },
  { weight: 2, arbitrary: unicode },
  { weight: 1, arbitrary: control.map((bad) => `a${bad}b`) },
  { weight: 1, arbitrary: huge },
);
const validName = fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/);
const badName = fc.constantFrom(
  '',
  ' ',
  'a b',
  '..',
  'x'.repeat(31),
  'é',
  '%41',
  'a/b',
  'a.b',
  '-',
  'a\u0000',
  '__proto__',
);
const appName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...MODEL_APPS) },
  { weight: 1, arbitrary: validName.filter((name) => name !== FIXTURE) },
  { weight: 2, arbitrary: badName },
);
const validPath = fc.oneof(
  fc.constantFrom('/a', '/b', '/a/b', '/x.y', '/a/'),
  fc.stringMatching(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@-]{1,8}){1,3}$/).filter((path) => !path.includes('..')),
);
const badPath = fc.constantFrom(
  '',
  'a',
  '/',
  '/a/../b',
  '//a',
  '/a%41',
  '/a b',
  `/${'x'.repeat(300)}`,
  '/é',
  '/a?b',
  '/a#b',
  '/a\u0000',
  '/.',
  '/a//b',
);
const routePath = fc.oneof({ weight: 4, arbitrary: validPath }, { weight: 1, arbitrary: badPath });
const image = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'localhost/fnlb-guard/echo',
      'localhost/fnlb-guard/crash',
      'localhost/fnlb-guard/garble',
      'acme/unknown:1.0',
      'registry:5000/team/fn:1.0',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      'UPPER/case',
      'a..b',
      `${'x'.repeat(300)}`,
      'a b',
      'localhost/fnlb-guard/echo@sha256:zz',
      ':tag',
      'a/',
      '/a',
      'a:b:c',
    ),
  },
  { weight: 1, arbitrary: wrongType },
  { weight: 1, arbitrary: text },
);
const bounded = (max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1, max }) },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, max + 1, 1.5, '128', 2 ** 53, Number.MAX_VALUE) },
    { weight: 1, arbitrary: wrongType },
  );
const configKey = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'PYTHONPATH',
      'BASH_ENV',
      'DYLD_INSERT_LIBRARIES',
      'node_options',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'a=b', 'a b', '__proto__', 'constructor', 'toString', 'é', 'a\nb'),
  },
);
const config = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.dictionary(
      configKey,
      fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: wrongType }),
      { maxKeys: 4 },
    ),
  },
  { weight: 1, arbitrary: wrongType },
);
const headerName = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/),
  fc.constantFrom('Content-Type', 'X A', 'x:y', '', '__proto__', 'constructor', 'Fn-Call-Id'),
);
const routeHeaders = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.dictionary(headerName, fc.oneof(fc.array(text, { maxLength: 2 }), wrongType), {
      maxKeys: 3,
    }),
  },
  { weight: 1, arbitrary: wrongType },
);
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 2 });
const routeBody = fc.record(
  {
    path: optional(routePath),
    image: optional(image),
    format: optional(
      fc.oneof(fc.constantFrom('default', 'http', 'json', 'HTTP', 'cloudevent', ''), wrongType),
    ),
    type: optional(fc.oneof(fc.constantFrom('sync', 'async', 'x'), wrongType)),
    memory: optional(bounded(8192)),
    timeout: optional(bounded(120)),
    idle_timeout: optional(bounded(3600)),
    cpus: optional(
      fc.oneof(
        fc.constantFrom('', '500m', '0.5', '64', '65', '0', 'abc', '0.001', '1e3', '10m', '64000m'),
        wrongType,
      ),
    ),
    config: optional(config),
    headers: optional(routeHeaders),
    extra: optional(text),
  },
  { requiredKeys: [] },
);
const appBody = fc.record(
  { name: optional(fc.oneof(appName, wrongType)), config: optional(config) },
  { requiredKeys: [] },
);
/** A valid route body with at most one field replaced by a bad value: the shape most writes take. */
const validRoute = fc.record(
  {
    path: validPath,
    image: fc.constantFrom(
      'localhost/fnlb-guard/echo',
      'localhost/fnlb-guard/crash',
      'localhost/fnlb-guard/garble',
      'acme/unknown:1.0',
    ),
    format: fc.constantFrom('default', 'http', 'json'),
    memory: fc.integer({ min: 1, max: 8192 }),
    timeout: fc.integer({ min: 1, max: 120 }),
    idle_timeout: fc.integer({ min: 1, max: 3600 }),
    cpus: fc.constantFrom('', '500m', '0.5', '2'),
    config: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/), fc.stringMatching(/^[a-z0-9]{0,8}$/), {
      maxKeys: 3,
    }),
    headers: fc.dictionary(
      fc.stringMatching(/^X-[A-Za-z]{1,6}$/),
      fc.array(fc.stringMatching(/^[a-z]{0,6}$/), { maxLength: 2 }),
      { maxKeys: 2 },
    ),
  },
  { requiredKeys: ['image'] },
);
const validApp = fc.record(
  {
    name: fc.constantFrom(...MODEL_APPS),
    config: fc.dictionary(
      fc.oneof(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/), fc.constant('NODE_OPTIONS')),
      fc.stringMatching(/^[a-z0-9]{0,8}$/),
      { maxKeys: 3 },
    ),
  },
  { requiredKeys: ['name'] },
);
const mutation = fc.tuple(
  fc.constantFrom(
    'path',
    'image',
    'format',
    'type',
    'memory',
    'timeout',
    'idle_timeout',
    'cpus',
    'config',
    'headers',
    'name',
  ),
  fc.oneof(wrongType, text, badName, badPath, config, routeHeaders),
);
function mutate(arbitrary: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(arbitrary, fc.option(mutation, { freq: 2, nil: undefined }))
    .map(([body, change]) => (change === undefined ? body : { ...body, [change[0]]: change[1] }));
}

/** A JSON body: mostly the right wrapper, sometimes the wrong one or none. */
const jsonBody = (kind: 'app' | 'route') =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: mutate(kind === 'app' ? validApp : validRoute).map((inner) => ({ [kind]: inner })),
    },
    { weight: 4, arbitrary: (kind === 'app' ? appBody : routeBody).map((inner) => ({ [kind]: inner })) },
    { weight: 1, arbitrary: wrongType.map((inner) => ({ [kind]: inner })) },
    { weight: 1, arbitrary: fc.oneof(wrongType, fc.constant({ [kind === 'app' ? 'route' : 'app']: {} })) },
  );
/** Bodies that are not JSON, or are JSON in odd ways. */
const garbageBody = fc.oneof(
  fc.constantFrom(
    '',
    'not json',
    '{',
    '{"app":',
    'null',
    '[]',
    '\ufeff{"app":{"name":"m1"}}',
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    '{"app":{"name":"m1"}}{"x":1}',
  ),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  huge.map((filler) => `{"app":{"name":"m1","config":{"A":"${filler}"}}}`),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'a/b;;;=',
  '',
);

type Write = {
  method: string;
  app: string;
  path: string | undefined;
  body: unknown;
  raw: boolean;
  contentType: string;
};

/** Targets each write method serves (two each, picked between). */
const SERVED: Record<string, [string, string]> = {
  POST: ['apps', 'routes'],
  PATCH: ['app', 'route'],
  PUT: ['route', 'route'],
  DELETE: ['route', 'app'],
};

const write: fc.Arbitrary<Write> = fc
  .record({
    method: fc.constantFrom('POST', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE'),
    on: fc.constantFrom('apps', 'app', 'routes', 'route', 'route'),
    // Three in four writes aim at a target their method serves; the others at any.
    aligned: fc.integer({ min: 0, max: 3 }),
    app: appName,
    path: routePath,
    json: fc.boolean(),
    appJson: jsonBody('app'),
    routeJson: jsonBody('route'),
    garbage: garbageBody,
    raw: fc.integer({ min: 0, max: 9 }),
    contentType,
  })
  .map((w) => (w.aligned === 0 ? w : { ...w, on: SERVED[w.method]?.[w.aligned % 2] ?? w.on }))
  .map((w) => ({
    method: w.method,
    app: w.on === 'apps' ? '' : w.app,
    path: w.on === 'route' ? w.path : w.on === 'routes' ? '' : undefined,
    body: w.raw === 0 ? w.garbage : w.on === 'apps' || w.on === 'app' ? w.appJson : w.routeJson,
    raw: w.raw === 0,
    contentType: w.contentType,
  }));

function encodeSegment(name: string): string {
  return encodeURIComponent(name);
}

function writeTarget(w: Write): string {
  if (w.app === '') return '/v1/apps';
  const app = `/v1/apps/${encodeSegment(w.app)}`;
  if (w.path === undefined) return app;
  if (w.path === '') return `${app}/routes`;
  // The route path as URL segments: each escaped, so the node sees the characters the body would.
  const path = w.path.split('/').map(encodeSegment).join('/');
  return `${app}/routes${path.startsWith('/') ? '' : '/'}${path}`;
}

function writeRequest(w: Write): FuzzRequest {
  const body = w.raw ? (w.body as string | Buffer) : JSON.stringify(w.body);
  return {
    method: w.method,
    target: writeTarget(w),
    headers: w.contentType === '' ? {} : { 'content-type': w.contentType },
    body: w.method === 'DELETE' && !w.raw ? undefined : body,
  };
}

const methods = fc.constantFrom(
  'GET',
  'GET',
  'POST',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'PURGE',
  'PROPFIND',
  'get',
  'M-SEARCH',
);
// Weighted so that calls which cost a container start (a crash, broken framing) stay a few percent:
// a process start is about 0.3 s of a core, and the run has two.
const fixturePath = fc.oneof(
  { weight: 12, arbitrary: fc.constant('/echo') },
  { weight: 6, arbitrary: fc.constantFrom('/json', '/hostile') },
  { weight: 4, arbitrary: fc.constantFrom('/a/b', '/nope') },
  { weight: 2, arbitrary: fc.constantFrom('/hostile-json', '/unknown', '') },
  { weight: 1, arbitrary: fc.constant('/crash') },
);
const pathVariant = fc.constantFrom(
  (p: string) => p,
  (p: string) => p,
  (p: string) => `${p}/`,
  (p: string) => p.replace('/', '//'),
  (p: string) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  (p: string) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  (p: string) => `/.${p}`,
  (p: string) => `/x/..${p}`,
  (p: string) => `${p}%2Fx`,
  (p: string) => `${p}%zz`,
  (p: string) => `${p}%`,
  (p: string) => `${p}/${'s'.repeat(2000)}`,
  (p: string) => `${p}/${'s'.repeat(20_000)}`,
  (p: string) => `${p}/%C3%A9`,
  (p: string) => `${p}/%00`,
  (p: string) => `${p}/%C3`,
);
const hostileQuery = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom(
      '?do=headers',
      '?do=bad-header',
      '?do=reserved',
      '?do=object-names',
      '?do=other',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: MAX_RESPONSE_BYTES - 1 }).map((bytes) => `?do=flood&bytes=${bytes}`),
  },
  // These break the container (502, a fresh start for the next call).
  { weight: 1, arbitrary: fc.constantFrom('?do=early-hints', `?do=flood&bytes=${MAX_RESPONSE_BYTES + 1}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), fc.integer({ min: 0, max: 2048 }))
      .map(([seed, bytes]) => `?do=garbage&seed=${seed}&bytes=${bytes}`),
  },
);
const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '?a=1',
      '?a=1&a=2',
      '?%zz',
      '?a=%00',
      '?',
      '?x=é',
      '?ok=1',
      '?env=HOSTNAME,FN_FORMAT',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 12_000 }).map((n) => `?q=${'q'.repeat(n)}`) },
  { weight: 3, arbitrary: hostileQuery },
);
const latin1Value = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,30}$/),
  fc.constantFrom('\u00e9t\u00e9', 'a\tb', ''),
  fc.integer({ min: 100, max: 20_000 }).map((n) => 'v'.repeat(n)),
);
const requestHeaders = fc.dictionary(
  fc.oneof(
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/),
    fc.constantFrom(
      'Fn_call_id',
      'Fn_method',
      'Fn-Call-Id',
      'X-Forwarded-For',
      '__proto__',
      'constructor',
      'Content-Type',
      'Accept-Encoding',
      'Host',
      'Expect',
    ),
  ),
  latin1Value,
  { maxKeys: 4 },
);
const callBody = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: unicode },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: huge },
);

const call: fc.Arbitrary<FuzzRequest> = fc.oneof(
  // Invocation of the fixture's routes, and of the model's.
  {
    weight: 7,
    arbitrary: fc
      .record({
        method: methods,
        app: fc.oneof({ weight: 8, arbitrary: fc.constant(FIXTURE) }, { weight: 1, arbitrary: appName }),
        path: fc.oneof({ weight: 6, arbitrary: fixturePath }, { weight: 1, arbitrary: validPath }),
        variant: pathVariant,
        query,
        headers: requestHeaders,
        body: callBody,
      })
      .map((c) => ({
        method: c.method,
        target: c.variant(`/r/${encodeSegment(c.app)}${c.path}`) + c.query,
        headers: c.headers,
        body: c.method === 'GET' || c.method === 'HEAD' ? undefined : c.body,
      })),
  },
  // API reads, and the system endpoints.
  {
    weight: 3,
    arbitrary: fc
      .record({
        method: fc.constantFrom('GET', 'GET', 'HEAD', 'OPTIONS', 'PROPFIND'),
        target: fc.oneof(
          fc
            .tuple(appName, fc.option(routePath, { nil: undefined }))
            .map(([app, path]) =>
              writeTarget({ method: 'GET', app, path, body: undefined, raw: false, contentType: '' }),
            ),
          fc.constantFrom(
            '/',
            '/version',
            '/stats',
            '/metrics',
            '/v1',
            '/v1/',
            '/v2/apps',
            '/v1/apps/fz/routes/echo',
            '/v1/apps?x=%zz',
          ),
        ),
        variant: pathVariant,
        headers: requestHeaders,
      })
      .map((r) => ({ method: r.method, target: r.variant(r.target), headers: r.headers, body: undefined })),
  },
);

/** Raw requests: the bytes undici refuses to put on the wire. */
const rawRequestBytes = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'G ET', '', 'GET\u0000', 'get', 'CONNECT', 'PRI'),
    target: fc.constantFrom(
      '*',
      '/r/fz/echo',
      'http://127.0.0.1/r/fz/echo',
      'http://other.example/r/fz/echo',
      'HTTP://127.0.0.1:1/r/fz/echo',
      '/r/fz/echo%',
      '/r/fz/%zz',
      '/r/fz/echo\u007f',
      'r/fz/echo',
      '//',
      `/r/fz/${'a'.repeat(20_000)}`,
      '/v1/apps?%',
      '/r/fz/echo#frag',
      '/r/fz/é',
      '/r/fz/a b',
      '/r/fz/%2e%2e/echo',
      '127.0.0.1:80',
    ),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', ''),
    host: fc.constantFrom(
      'Host: 127.0.0.1\r\n',
      'Host: 127.0.0.1\r\n',
      '',
      'Host: a b\r\n',
      'Host: x\r\nHost: y\r\n',
      'Host: \u0001\r\n',
    ),
    header: fc.constantFrom(
      '',
      'X-A: a\u0001b\r\n',
      'X-A: a\u0000b\r\n',
      'X A: b\r\n',
      'NoColon\r\n',
      ' folded: x\r\n',
      'X-A: a\r\n continued\r\n',
      'Content-Length: 1\r\nContent-Length: 2\r\n',
      'Content-Length: -1\r\n',
      'Content-Length: abc\r\n',
      'Transfer-Encoding: chunked\r\n',
      'Transfer-Encoding: gzip, chunked\r\n',
      'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n',
      'Fn_call_id: forged\r\n',
      '__proto__: x\r\n',
      'Expect: 100-continue\r\n',
    ),
    body: fc.constantFrom(
      '',
      'abc',
      'zz\r\nxyz\r\n0\r\n\r\n',
      '3\r\nabc\r\n0\r\n\r\n',
      'G\r\n',
      '{"app":{"name":"rawonly"}}',
    ),
    short: fc.integer({ min: 0, max: 40 }),
  })
  .map((r) => {
    // One in ~40 declares more body than it sends: the node must give up on it (408), not hold it.
    const length = r.short === 0 ? `Content-Length: ${r.body.length + 10}\r\n` : '';
    const head = `${r.method} ${r.target} ${r.version}`.trimEnd();
    return {
      method: r.method,
      target: r.target,
      bytes: Buffer.from(
        `${head}\r\n${r.host}${r.header}${length}Connection: close\r\n\r\n${r.body}`,
        'latin1',
      ),
      short: r.short === 0,
    };
  });

// ---------------------------------------------------------------------------------------------
// Judging

/** Whether the node routes the target to the invoke path: read as the node reads it. */
const isInvoke = (target: string) => {
  const parsed = parseRequestTarget(target);
  return parsed.ok && parsed.path.startsWith('/r/');
};

/** What docs/node.md documents: 502/503/504 for a call, 503 (datastore) for the API; 4xx in Fn's shape. */
function judge(fuzz: { method: string; target: string }, answer: Answer): void {
  if (answer.kind === 'unsendable' || answer.kind === 'closed-early') {
    tally.count(answer.kind);
    return;
  }
  if (answer.kind === 'failed') {
    tally.count('failed');
    findings.add('no answer', fuzz, answer.error);
    return;
  }
  tally.count(answer.status);
  const { status, headers, body } = answer;
  const invoke = isInvoke(fuzz.target);
  if (status >= 500) {
    const documented = invoke ? [502, 503, 504] : [503];
    if (!documented.includes(status)) findings.add(`undocumented ${status}`, fuzz, body);
  }
  if (status < 400 || fuzz.method.toUpperCase() === 'HEAD') return;
  // A node's own error: in Fn's shape, as JSON. (Fixture functions never answer 4xx/5xx themselves.)
  if (!isJsonType(headers) || !isFnErrorFor(fuzz.target, status, body))
    findings.add(`${status} not Fn-shaped`, fuzz, `${headers['content-type']} ${body}`);
  if (status === 503 && headers['retry-after'] === undefined)
    findings.add('503 without Retry-After', fuzz, body);
}

// ---------------------------------------------------------------------------------------------
// The model of the write lane

type State = Map<string, { config: App['config']; routes: Map<string, Route> }>;

async function readState(): Promise<State> {
  const state: State = new Map();
  const apps = JSON.parse((await api.send('GET', '/v1/apps')).body) as { apps: App[] };
  for (const app of apps.apps) {
    const listed = await api.send('GET', `/v1/apps/${encodeSegment(app.name)}/routes`);
    const routes = (JSON.parse(listed.body) as { routes: Route[] }).routes;
    state.set(app.name, { config: app.config, routes: new Map(routes.map((route) => [route.path, route])) });
  }
  return state;
}

/** The model's view of the state, in the same form (the fixture app is read but never written). */
function plain(state: State): Record<string, unknown> {
  return Object.fromEntries(
    [...state.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, app]) => [
        name,
        {
          config: app.config,
          routes: Object.fromEntries([...app.routes.entries()].sort(([a], [b]) => a.localeCompare(b))),
        },
      ]),
  );
}

/** Applies an accepted write to the model from what the node answered it stored. */
function applyAccepted(model: State, w: Write, answer: { body: string }): void {
  const body = JSON.parse(answer.body) as { app?: App; route?: Route };
  if (body.app) {
    const existing = model.get(body.app.name);
    model.set(body.app.name, { config: body.app.config, routes: existing?.routes ?? new Map() });
  }
  if (body.route) {
    const app = model.get(body.route.app_name) ?? { config: {}, routes: new Map<string, Route>() };
    app.routes.set(body.route.path, body.route);
    model.set(body.route.app_name, app);
  }
  if (w.method === 'DELETE') {
    if (w.path === undefined) model.delete(w.app);
    else {
      // The URL's path as the node cleans it: no trailing '/'.
      const path = `/${w.path.replace(/^\/+/, '')}`.replace(/(.)\/+$/, '$1');
      model.get(w.app)?.routes.delete(path);
    }
  }
}

/** An accepted create stores the body's config as given, less the keys an empty value removes. */
function checkCreatedConfig(w: Write, answer: { body: string }): void {
  if (w.method !== 'POST' || w.raw || typeof w.body !== 'object' || w.body === null) return;
  const inner = (w.body as Record<string, { config?: Record<string, string> }>)[
    w.app === '' ? 'app' : 'route'
  ];
  if (!inner || typeof inner.config !== 'object' || inner.config === null) return;
  const stored = JSON.parse(answer.body) as { app?: App; route?: Route };
  const config = stored.app?.config ?? stored.route?.config;
  const wanted = Object.fromEntries(Object.entries(inner.config).filter(([, value]) => value !== ''));
  if (JSON.stringify(Object.entries(config ?? {}).sort()) !== JSON.stringify(Object.entries(wanted).sort()))
    findings.add(
      'created config differs from the body',
      writeRequest(w),
      `${JSON.stringify(wanted)} stored ${JSON.stringify(config)}`,
    );
}

// ---------------------------------------------------------------------------------------------

describe('fn-node under generated requests', () => {
  it(`${WRITES} writes against a model, ${CALLS} calls and reads, ${RAW} raw requests: no crash, only documented statuses, Fn-shaped errors`, async () => {
    const started = performance.now();
    const writes = fc.sample(write, { seed: settings.seed, numRuns: WRITES });
    const calls = fc.sample(call, { seed: settings.seed + 1, numRuns: CALLS });
    const raws = fc.sample(rawRequestBytes, { seed: settings.seed + 2, numRuns: RAW });

    const model = await readState();
    let snapshots = 0;
    let accepted = 0;
    const recent: string[] = [];
    const writeLane = async () => {
      for (const [index, w] of writes.entries()) {
        const fuzz = writeRequest(w);
        const answer = await tracked(fuzz, () => send(node.url, fuzz));
        judge(fuzz, answer);
        recent.push(
          `${fuzz.method} ${fuzz.target.slice(0, 80)} -> ${answer.kind === 'answer' ? answer.status : answer.kind}`,
        );
        if (answer.kind === 'answer' && answer.status === 200) {
          accepted++;
          applyAccepted(model, w, answer);
          checkCreatedConfig(w, answer);
        }
        if ((index + 1) % SNAPSHOT_EVERY === 0 || index === writes.length - 1) {
          snapshots++;
          const actual = await readState();
          if (JSON.stringify(plain(actual)) !== JSON.stringify(plain(model))) {
            findings.add(
              'state differs from the model of accepted writes',
              fuzz,
              `after: ${recent.join(' | ')}`,
            );
            // Go on from what the node holds, so one difference is reported once.
            model.clear();
            for (const [name, app] of actual) model.set(name, app);
          }
          recent.length = 0;
        }
      }
    };
    const callLane = () =>
      forEachBounded(calls, CONCURRENCY - 2, async (fuzz) =>
        judge(fuzz, await tracked(fuzz, () => send(node.url, fuzz))),
      );
    let rawTimeouts = 0;
    const rawLane = () =>
      forEachBounded(raws, 2, async (raw) => {
        const answer = await tracked(raw, () => sendRaw(node.address, raw.bytes, raw.short ? 8000 : 5000));
        if (answer.ended === 'timeout') rawTimeouts++;
        const judged = rawAnswer(answer, raw, 'raw request held past FN_REQUEST_TIMEOUT', findings, tally);
        if (judged) judge(raw, judged);
      });
    const laneSeconds: string[] = [];
    const timed = async (name: string, lane: () => Promise<void>) => {
      const from = performance.now();
      await lane();
      laneSeconds.push(`${name} ${((performance.now() - from) / 1000).toFixed(1)} s`);
    };
    // A hang shows up as the requests still in flight, every 20 s, instead of a bare test timeout.
    const watchdog = setInterval(() => {
      console.log(
        `[fuzz] fn-node: ${tally.total} answered; in flight: ${[...inFlight].slice(0, 10).join(' | ')}`,
      );
    }, 20_000);
    try {
      if (process.env.FNG_FUZZ_DEBUG) {
        await timed('calls', callLane);
        await timed('raw', rawLane);
        await timed('writes', writeLane);
      } else await Promise.all([timed('writes', writeLane), timed('calls', callLane), timed('raw', rawLane)]);
    } finally {
      clearInterval(watchdog);
    }

    const version = await api.send('GET', '/version');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const total = tally.total + snapshots;
    console.log(
      `[fuzz] fn-node: ${tally.total} generated requests (${WRITES} writes, ${accepted} accepted, ${CALLS} calls/reads, ${RAW} raw; ${rawTimeouts} raw timeouts) + ${snapshots} state snapshots in ${seconds} s (${laneSeconds.join(', ')}); answers ${tally}`,
    );
    if (findings.list.length > 0) console.log(`[fuzz] fn-node findings:\n  ${findings.list.join('\n  ')}`);
    expect(node.running, node.recentOutput()).toBe(true);
    expect(version.status).toBe(200);
    expect(log.lines, 'error lines in the node log').toEqual([]);
    expect(findings.list).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(scaled(settings, 10_000));
    // Most requests must have been sent: a generator undici refuses wholesale would test nothing.
    expect(tally.byStatus.get('unsendable') ?? 0).toBeLessThan(tally.total / 10);
    expect(tally.byStatus.get('closed-early') ?? 0).toBeLessThanOrEqual(tally.total * MAX_CLOSED_EARLY_SHARE);
  });

  it(`localhost/fnlb-guard/hostile's seeded garbage (${GARBAGE_RUNS} runs): a 502 at once, or a 504 at the route's timeout when the bytes could still begin an answer`, async () => {
    const timeoutS = 1;
    for (const format of ['http', 'json', 'default'] as const) {
      const created = await api.send('PUT', `/v1/apps/${FIXTURE}/routes/garbage-${format}`, {
        route: { image: 'localhost/fnlb-guard/hostile', format, timeout: timeoutS },
      });
      expect(created.status, created.body).toBe(200);
    }
    const started = performance.now();
    // Sampled, then sent 6 at a time: every call waits for a container start, many for the timeout.
    const cases = fc.sample(
      fc.record({
        format: fc.constantFrom('http', 'json', 'default'),
        seed: fc.nat(),
        bytes: fc.oneof(
          fc.integer({ min: 0, max: 64 }),
          fc.integer({ min: 0, max: MAX_RESPONSE_BYTES + 4096 }),
        ),
      }),
      { seed: settings.seed + 3, numRuns: GARBAGE_RUNS },
    );
    const wrong: string[] = [];
    let refused = 0;
    await forEachBounded(cases, 4, async ({ format, seed, bytes }) => {
      // What the format's own reader makes of those bytes decides what the node must answer.
      const reader = formatCodec(format).createReader(MAX_RESPONSE_BYTES);
      let broken = false;
      try {
        reader.push(pseudoRandomBytes(seed, bytes));
      } catch (error) {
        if (!(error instanceof FramingError)) throw error;
        broken = true;
      }
      const before = performance.now();
      const answer = await api.send(
        'GET',
        `/r/${FIXTURE}/garbage-${format}?do=garbage&seed=${seed}&bytes=${bytes}`,
      );
      const tookMs = performance.now() - before;
      // A call that found no container within half its timeout (two busy cores) is refused without
      // running, as documented: 503 Fn-Refused busy. It says nothing about the garbage; counted.
      if (answer.status === 503 && answer.headers['fn-refused'] === 'busy') {
        refused++;
        return;
      }
      // A fresh container per call (the last one broke): its start, plus the timeout, plus margin.
      const ok =
        isFnError(answer.body) && answer.status === (broken ? 502 : 504) && tookMs < timeoutS * 1000 + 3000;
      if (!ok)
        wrong.push(
          `${format} seed ${seed} bytes ${bytes}: ${answer.status} in ${tookMs.toFixed(0)} ms ${answer.body.slice(0, 200)} (want ${broken ? 502 : 504})`,
        );
    });
    const calls = cases.length;
    console.log(
      `[fuzz] fn-node garbage: ${calls} calls (${refused} refused busy) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(wrong).toEqual([]);
    expect(refused, 'calls refused busy: too few judged').toBeLessThanOrEqual(calls / 4);
    expect(node.running).toBe(true);
    expect(log.lines).toEqual([]);
  });
});
