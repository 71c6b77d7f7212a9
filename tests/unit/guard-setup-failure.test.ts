// A setup that fails is one line naming who failed, where and at which step, and two errored reports:
// what went wrong is read from the error the step met (a refused connection is final, a timeout is
// not), the line never spans two, junit.xml holds one testcase with an <error>, fnlb-guard.json the
// verdict error with setupError, and the renderings of such a report are that line. checkAnswers is
// run against sockets of this process: a refused address fails at once, a silent one after the budget.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownSummary, verdictTable } from '../../guard/report/report.js';
import { setupFailureJunit, setupFailureReport } from '../../guard/report/setup-failure.js';
import { checkAnswers } from '../../guard/topology/probe.js';
import {
  describeFailure,
  duringStep,
  isFinalConnectError,
  SetupError,
  type SetupFailure,
  setupMessage,
} from '../../guard/topology/setup-error.js';
import { WaitTimeout } from '../../helpers/wait.js';
import { FnApiError } from '../../src/common/fn-client.js';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
const TIMES = { startedAt: '2026-12-07T21:00:00.000Z', finishedAt: '2026-12-07T21:00:01.250Z' };

describe('what went wrong, from the error a step met', () => {
  it.each<[string, unknown, string]>([
    [
      'a refused connection',
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      'refused the connection',
    ],
    [
      'a refused connection behind fetch',
      new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }),
      'refused the connection',
    ],
    [
      'every address of a name refused (happy eyeballs)',
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect failed'),
      'refused the connection',
    ],
    ['a name that does not resolve', coded('ENOTFOUND'), 'has a name that does not resolve'],
    ['no route', coded('EHOSTUNREACH'), 'could not be reached (no route to it)'],
    ['a reset', coded('ECONNRESET'), 'closed the connection'],
    [
      'undici headers timeout',
      coded('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'),
      'did not answer in time',
    ],
    [
      'an aborted request',
      new DOMException('The operation timed out', 'TimeoutError'),
      'did not answer in time',
    ],
    ['a wait that ran out', new WaitTimeout('timed out after 5 ms waiting for x'), 'did not answer in time'],
  ])('%s', (_, error, problem) => {
    expect(describeFailure(error).problem).toBe(problem);
  });

  it('keeps an HTTP answer and its body, and any other error, on one line', () => {
    expect(
      describeFailure(new FnApiError(500, '{"error":\n{"message":"read-only"}}', 'create app x')),
    ).toEqual({
      problem: 'answered HTTP 500',
      detail: '{"error":',
    });
    expect(describeFailure(new Error('the balancer exited with code 1\nits log...'))).toEqual({
      problem: 'failed',
      detail: 'the balancer exited with code 1',
    });
    expect(describeFailure('a string').detail).toBe('a string');
  });

  it('takes only a refused connection or a name that does not resolve as final', () => {
    expect(isFinalConnectError(coded('ECONNREFUSED'))).toBe(true);
    expect(isFinalConnectError(new TypeError('fetch failed', { cause: coded('ENOTFOUND') }))).toBe(true);
    for (const code of ['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'EAI_AGAIN', 'EHOSTUNREACH'])
      expect(isFinalConnectError(coded(code))).toBe(false);
    expect(isFinalConnectError(new Error('anything'))).toBe(false);
  });
});

describe('the one line', () => {
  it('names the role, the address, what went wrong and the step', () => {
    const error = new SetupError(
      { role: 'balancer', address: '127.0.0.1:1', step: 'checking that it answers' },
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
    );
    expect(error.message).toBe('balancer 127.0.0.1:1 refused the connection while checking that it answers');
    expect(error.toFailure()).toEqual({
      role: 'balancer',
      address: '127.0.0.1:1',
      step: 'checking that it answers',
      message: 'balancer 127.0.0.1:1 refused the connection while checking that it answers',
      cause: 'connect ECONNREFUSED 127.0.0.1:1',
    });
  });

  it('names a topology and a setting as such, and never spans two lines', () => {
    expect(
      setupMessage(
        { role: 'topology', address: 'processes', step: 'starting it' },
        {
          problem: 'failed',
          detail: 'a\nb',
        },
      ),
    ).toBe('the processes topology failed while starting it: a b');
    expect(
      setupMessage(
        { role: 'settings', address: '--topology', step: 'reading the settings' },
        { problem: 'is wrong' },
      ),
    ).toBe('setting --topology is wrong while reading the settings');
  });

  it('makes a step that throws a SetupError at that step, and passes one on as it is', async () => {
    const step = { role: 'node', address: 'n:1', step: 'creating the probe app' } as const;
    await expect(
      duringStep(step, () => Promise.reject(new FnApiError(403, 'forbidden', 'create app'))),
    ).rejects.toThrow('node n:1 answered HTTP 403 while creating the probe app: forbidden');
    const inner = new SetupError({ role: 'balancer', address: 'b:1', step: 'x' }, coded('ECONNREFUSED'));
    await expect(duringStep(step, () => Promise.reject(inner))).rejects.toBe(inner);
    await expect(duringStep(step, () => 7)).resolves.toBe(7);
  });
});

describe('the reports of a failed setup', () => {
  const failure: SetupFailure = {
    role: 'node',
    address: '127.0.0.1:2',
    step: 'creating the probe app',
    message: 'node 127.0.0.1:2 answered HTTP 500 while creating the probe app: {"error":"<&\'x\u0001\'>"}',
    cause: 'create app: HTTP 500',
  };

  it('junit.xml: one testsuite, one testcase, an <error> with the line, escaped', () => {
    const xml = setupFailureJunit(failure, TIMES);
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8" \?>\n<testsuites name="fnlb-guard" tests="1" failures="0" errors="1" time="1.250">/,
    );
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml.match(/<testcase /g)).toHaveLength(1);
    expect(xml).toContain('<testcase classname="fnlb-guard" name="setup" time="1.250">');
    expect(xml).toContain(
      '<error message="node 127.0.0.1:2 answered HTTP 500 while creating the probe app: {&quot;error&quot;:&quot;&lt;&amp;&apos;x&apos;&gt;&quot;}" type="SetupError">',
    );
    expect(xml).toContain(
      'role: node\naddress: 127.0.0.1:2\nstep: creating the probe app\ncause: create app: HTTP 500</error>',
    );
    expect(xml).not.toContain('\u0001');
  });

  it('fnlb-guard.json: the verdict error with setupError, nothing judged', () => {
    const report = setupFailureReport(failure, TIMES);
    expect(report).toMatchObject({
      schema: 'fnguard-report/2',
      verdict: 'error',
      tests: [],
      topology: null,
      setupError: failure,
      ...TIMES,
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('renders as the line, on the console and in the CI summary', () => {
    const report = setupFailureReport(failure, TIMES);
    expect(verdictTable(report)).toBe(`guard verdict: error\n${failure.message}`);
    const summary = markdownSummary(report);
    expect(summary).toContain('### fnlb-guard: error');
    expect(summary).toContain('Nothing was judged: node 127.0.0.1:2 answered HTTP 500');
    expect(summary).not.toContain('| verdict |');
  });
});

describe('checkAnswers', () => {
  let answering: Server;
  let silent: NetServer;
  let closedPort: number;
  const held: Socket[] = [];
  const portOf = (server: Server | NetServer) => (server.address() as { port: number }).port;

  beforeAll(async () => {
    answering = createHttpServer((_, res) => res.writeHead(404).end());
    silent = createServer((socket) => held.push(socket));
    const spare = createServer();
    await Promise.all(
      [answering, silent, spare].map(
        (server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
      ),
    );
    closedPort = portOf(spare);
    await new Promise((resolve) => spare.close(resolve));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    silent.close();
    answering.closeAllConnections();
    await new Promise((resolve) => answering.close(resolve));
  });

  const target = (role: 'balancer' | 'node', port: number) => ({
    role,
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    step: 'checking that it answers',
  });

  it('takes any HTTP answer', async () => {
    await expect(checkAnswers([target('balancer', portOf(answering))], 1000)).resolves.toBeUndefined();
  });

  it('fails at once on a refused connection, naming the first target that failed in the order given', async () => {
    const started = performance.now();
    const checked = checkAnswers([target('balancer', portOf(answering)), target('node', closedPort)], 10_000);
    await expect(checked).rejects.toThrow(
      `node 127.0.0.1:${closedPort} refused the connection while checking that it answers`,
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('asks a silent address again until the budget, then names the budget', async () => {
    const started = performance.now();
    await expect(checkAnswers([target('node', portOf(silent))], 1500)).rejects.toThrow(
      `node 127.0.0.1:${portOf(silent)} did not answer within 1.5 s while checking that it answers`,
    );
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(1300);
    expect(took).toBeLessThan(3000);
  });
});

describe('a setup that met a bug rather than a failure of the network', () => {
  it('keeps the stack of the cause for whoever must find it', () => {
    const failure = new SetupError(
      { role: 'topology', address: 'processes', step: 'starting it' },
      new TypeError('cannot read properties of undefined'),
    ).toFailure();
    expect(failure.message).toBe(
      'the processes topology failed while starting it: cannot read properties of undefined',
    );
    expect(failure.cause).toMatch(/^TypeError: cannot read properties of undefined\n\s+at /);
  });
});
