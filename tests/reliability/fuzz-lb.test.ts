// Property-based fuzz of fnlb in front of two fn-node processes sharing one SQLite file: at least
// 2,000 generated requests through the balancer (fast-check, fixed seed printed, FNG_FUZZ_SEED and
// FNG_FUZZ_RUNS as in fuzz-node): proxied calls with generated methods, targets (origin and absolute
// form, path spellings, escapes, long segments), headers and bodies; raw bytes undici will not send
// (`OPTIONS *`, no Host, control characters, broken framing); and the management API with the token,
// without it and with a wrong one, with generated bodies. fnlb documents 502 (a node failed after
// delivery), 503 (no node could take it) and 504 (upstream timeout) for the proxy, and `{"msg"}`
// errors for management: nothing else may answer 5xx, every error is JSON in its shape, fnlb never
// exits, hostile traffic never marks a node offline, and a normal call succeeds at the end.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FnNodeProcess } from '../../helpers/fn-node-process.js';
import { FAST_HEALTH_CHECKS, FnlbProcess } from '../../helpers/fnlb-process.js';
import { describeSeed, fuzzSettings, scaled } from '../../helpers/fuzz.js';
import { ScratchDir } from '../../helpers/scratch-node.js';
import { forEachBounded } from '../../src/common/bounded.js';
import { FnClient } from '../../src/common/fn-client.js';
import { LB_PATHS } from '../../src/common/lb-wire.js';
import {
  type Answer,
  Findings,
  type FuzzRequest,
  isFnError,
  isJsonType,
  isLbMsg,
  MAX_CLOSED_EARLY_SHARE,
  rawAnswer,
  send,
  sendRaw,
  Tally,
  watchLog,
} from './support/fuzz.js';

const settings = fuzzSettings();
const PROXIED = scaled(settings, 1500);
const MANAGEMENT = scaled(settings, 400);
const RAW = scaled(settings, 300);
const CONCURRENCY = 8;
const TOKEN = `fuzz-${settings.seed}`;
const APP = 'lbz';

let scratch: ScratchDir;
const nodes: FnNodeProcess[] = [];
let lb: FnlbProcess;
let logs: { lines: string[] }[] = [];
const findings = new Findings();
const tally = new Tally();

beforeAll(async () => {
  console.log(describeSeed('fnlb', settings));
  scratch = ScratchDir.create('fuzz-lb');
  // One after the other on the directory's SQLite file: the first creates the schema the second finds.
  for (let i = 0; i < 2; i++) nodes.push(await scratch.startNode({ env: { FN_REQUEST_TIMEOUT: '3' } }));
  lb = await FnlbProcess.start({
    nodes: nodes.map((node) => node.address),
    token: TOKEN,
    flags: [...FAST_HEALTH_CHECKS, '-body-timeout', '3', '-upstream-timeout', '10'],
  });
  logs = [lb, ...nodes].map((server) => watchLog([server.managed.child.stdout, server.managed.child.stderr]));
  const api = new FnClient(nodes[0]?.url as string, { timeoutMs: 15_000 });
  for (const [path, image, timeout] of [
    ['/echo', 'localhost/fnlb-guard/echo', 5],
    ['/hostile', 'localhost/fnlb-guard/hostile', 2],
    ['/crash', 'localhost/fnlb-guard/crash', 5],
  ] as const) {
    const created = await api.send('POST', `/v1/apps/${APP}/routes`, {
      route: { path, image, format: 'http', timeout },
    });
    expect(created.status, created.body).toBe(200);
  }
  await lb.waitNodes('both nodes online', (all) => Object.values(all).every((state) => state === 'online'));
});

afterAll(async () => {
  await lb?.stop();
  await scratch?.close();
});

const latin1 = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,24}$/),
  fc.constantFrom('\u00e9t\u00e9', ''),
  fc.integer({ min: 100, max: 20_000 }).map((n) => 'v'.repeat(n)),
);
const headers = fc.dictionary(
  fc.oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'Host',
        'X-Forwarded-For',
        'Connection',
        'Upgrade',
        'TE',
        'Fn-Refused',
        'XXX-FXLB-WAIT',
        'Authorization',
        'constructor',
        '__proto__',
      ),
    },
  ),
  latin1,
  { maxKeys: 3 },
);
const route = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(`/r/${APP}/echo`, `/r/${APP}/hostile`) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      `/r/${APP}/nope`,
      '/r/other/x',
      '/version',
      '/',
      '/v1/apps',
      `/v1/apps/${APP}/routes`,
      '/stats',
    ),
  },
  { weight: 1, arbitrary: fc.constant(`/r/${APP}/crash`) },
);
const spelling = fc.constantFrom(
  (p: string) => p,
  (p: string) => p,
  (p: string) => `${p}/`,
  (p: string) => p.replace('/', '//'),
  (p: string) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  (p: string) => `${p}?a=1&b=%zz`,
  (p: string) => `${p}%zz`,
  (p: string) => `${p}%2F`,
  (p: string) => `/.${p}`,
  (p: string) => `${p}/..`,
  (p: string) => `${p}/${'s'.repeat(3000)}`,
  (p: string) => `${p}/${'s'.repeat(20_000)}`,
  (p: string) => `${p}/%C3%A9`,
  (p: string) => `${p}#frag`,
  // Absolute form: naming the balancer, naming another host.
  (p: string) => `${lb.url}${p}`,
  (p: string) => `http://other.example${p}`,
);
const proxied: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom(
      'GET',
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'HEAD',
      'OPTIONS',
      'PATCH',
      'PURGE',
      'TRACE',
    ),
    route,
    spelling,
    query: fc.oneof(
      fc.constant(''),
      fc.constantFrom('?do=headers', '?do=reserved', '?do=object-names', '?do=flood&bytes=100000'),
    ),
    headers,
    body: fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 200 }),
      fc.integer({ min: 1, max: 2_000_000 }).map((n) => 'b'.repeat(n)),
    ),
  })
  .map((r) => ({
    method: r.method,
    target: r.spelling(r.route) + (r.spelling(r.route).includes('?') ? '' : r.query),
    headers: r.headers,
    body: r.method === 'GET' || r.method === 'HEAD' || r.method === 'TRACE' ? undefined : r.body,
  }));

const nodeBody = fc.oneof(
  fc.constantFrom(
    '',
    'not json',
    '{',
    'null',
    '[]',
    '{"node":1}',
    '{"node":""}',
    '{"node":"a b:1"}',
    '{"node":"127.0.0.1"}',
    '{"node":"127.0.0.1:99999"}',
    '{"node":"[::1"}',
    '{"nodes":["x"]}',
    `{"node":"${'a'.repeat(70_000)}:1"}`,
  ),
  fc.string({ maxLength: 40 }).map((text) => JSON.stringify({ node: text })),
  fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);
const management: fc.Arbitrary<FuzzRequest & { authorized: boolean }> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'HEAD'),
    path: fc.constantFrom(
      LB_PATHS.nodes,
      LB_PATHS.nodes,
      LB_PATHS.stats,
      LB_PATHS.health,
      LB_PATHS.metrics,
      '/1/lb',
      '/1/lb/',
      '/1/lb/nope',
      '/1/lb/nodes/',
      '/1/lb/nodes?x=1',
      '/1//lb/nodes',
    ),
    auth: fc.constantFrom('right', 'right', 'none', 'wrong', 'basic', 'lower'),
    body: nodeBody,
  })
  .map((m) => {
    const authorization = {
      right: `Bearer ${TOKEN}`,
      none: undefined,
      wrong: `Bearer ${TOKEN}x`,
      basic: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      lower: `bearer ${TOKEN}`,
    }[m.auth];
    return {
      method: m.method,
      target: m.path,
      headers: (authorization === undefined ? {} : { authorization }) as Record<string, string>,
      // With the token, PUT and DELETE carry only bodies that name no usable node: the fuzz must not
      // take the nodes out itself (or point the balancer elsewhere); the others get any body.
      body: m.method === 'GET' || m.method === 'HEAD' ? undefined : m.body,
      authorized: m.auth === 'right' || m.auth === 'lower',
    };
  });

const rawBytes = fc
  .record({
    line: fc.constantFrom(
      'OPTIONS * HTTP/1.1',
      'GET * HTTP/1.1',
      `GET /r/${APP}/echo HTTP/1.1`,
      `GET http://other.example/r/${APP}/echo HTTP/1.1`,
      `GET /r/${APP}/%zz HTTP/1.1`,
      `GET /r/${APP}/echo%2F..%2F HTTP/1.1`,
      `GET r/${APP}/echo HTTP/1.1`,
      `GET /r/${APP}/${'a'.repeat(20_000)} HTTP/1.1`,
      `G ET /r/${APP}/echo HTTP/1.1`,
      `GET /r/${APP}/echo HTTP/2.0`,
      `GET /r/${APP}/echo`,
      'CONNECT 127.0.0.1:1 HTTP/1.1',
      `PUT ${LB_PATHS.nodes} HTTP/1.1`,
      `GET ${LB_PATHS.nodes} HTTP/1.1`,
    ),
    host: fc.constantFrom('Host: 127.0.0.1\r\n', '', 'Host: a b\r\n', 'Host: x\r\nHost: y\r\n'),
    header: fc.constantFrom(
      '',
      'X-A: a\u0001b\r\n',
      'X A: b\r\n',
      'NoColon\r\n',
      'Content-Length: 1\r\nContent-Length: 2\r\n',
      'Transfer-Encoding: chunked\r\n',
      `Authorization: Bearer ${TOKEN}\u0000\r\n`,
    ),
    body: fc.constantFrom('', 'abc', 'zz\r\n', '3\r\nabc\r\n0\r\n\r\n', '{"node":"127.0.0.1:1"}'),
  })
  .map((r) => ({
    method: r.line.split(' ')[0] ?? '',
    target: r.line.split(' ')[1] ?? '',
    bytes: Buffer.from(`${r.line}\r\n${r.host}${r.header}Connection: close\r\n\r\n${r.body}`, 'latin1'),
  }));

const isManagement = (target: string) => /^\/+1\/+lb(\/|\?|$)|^\/health|^\/metrics/.test(target);

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
  const { status, body } = answer;
  const mgmt = isManagement(fuzz.target);
  if (status >= 500 && !(mgmt ? [503] : [502, 503, 504]).includes(status))
    findings.add(`undocumented ${status}`, fuzz, body);
  if (status < 400 || fuzz.method === 'HEAD') return;
  const shaped = mgmt ? isLbMsg(body) || isFnError(body) : isFnError(body);
  if (!isJsonType(answer.headers) || !shaped)
    findings.add(`${status} not JSON in shape`, fuzz, `${answer.headers['content-type']} ${body}`);
}

describe('fnlb under generated requests', () => {
  it(`${PROXIED} proxied, ${MANAGEMENT} management, ${RAW} raw: no crash, only documented statuses, nodes stay online`, async () => {
    const started = performance.now();
    const calls = fc.sample(proxied, { seed: settings.seed, numRuns: PROXIED });
    const writes = fc
      .sample(management, { seed: settings.seed + 1, numRuns: MANAGEMENT })
      // A body that happens to name a node we run would be a real removal: never with the token.
      .filter((m) => !(m.authorized && nodes.some((node) => String(m.body ?? '').includes(node.address))));
    const raws = fc.sample(rawBytes, { seed: settings.seed + 2, numRuns: RAW });
    await Promise.all([
      forEachBounded(calls, CONCURRENCY - 3, async (fuzz) => judge(fuzz, await send(lb.url, fuzz))),
      forEachBounded(writes, 1, async (fuzz) => {
        const answer = await send(lb.url, fuzz);
        judge(fuzz, answer);
        if (
          answer.kind === 'answer' &&
          !fuzz.authorized &&
          answer.status !== 401 &&
          fuzz.target !== LB_PATHS.health
        )
          findings.add(
            'management without the token not refused 401',
            fuzz,
            `${answer.status} ${answer.body}`,
          );
      }),
      forEachBounded(raws, 2, async (raw) => {
        const answer = await sendRaw(lb.address, raw.bytes, 6000);
        const judged = rawAnswer(answer, raw, 'raw request held past -body-timeout', findings, tally);
        if (judged) judge(raw, judged);
      }),
    ]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `[fuzz] fnlb: ${tally.total} generated requests (${calls.length} proxied, ${writes.length} management, ${raws.length} raw) in ${seconds} s; answers ${tally}`,
    );
    if (findings.list.length > 0) console.log(`[fuzz] fnlb findings:\n  ${findings.list.join('\n  ')}`);

    expect(lb.running, lb.recentOutput()).toBe(true);
    for (const node of nodes) expect(node.running, node.recentOutput()).toBe(true);
    expect(await lb.nodes()).toEqual(Object.fromEntries(nodes.map((node) => [node.address, 'online'])));
    const normal = await new FnClient(lb.url, { timeoutMs: 15_000 }).call(APP, '/echo', '', 'still here');
    expect(normal.status).toBe(200);
    expect(normal.body).toBe('still here');
    expect(logs.flatMap((log) => log.lines)).toEqual([]);
    expect(findings.list).toEqual([]);
    expect(tally.total).toBeGreaterThanOrEqual(scaled(settings, 2000));
    expect(tally.byStatus.get('unsendable') ?? 0).toBeLessThan(tally.total / 10);
    expect(tally.byStatus.get('closed-early') ?? 0).toBeLessThanOrEqual(tally.total * MAX_CLOSED_EARLY_SHARE);
  });
});
