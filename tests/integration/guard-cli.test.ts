// The fnlb-guard command as a pipeline runs it (nested runs of dist/guard/cli/main.js): on a topology it
// starts it judges, writes fnlb-guard.json and junit.xml and exits by the verdict; against a running
// deployment (--lb, --nodes) likewise; and a baseline holding a better value fails exactly the
// property it measured better, although the run stays inside the absolute bound (loosened by --bound).
// A run of this repository's unit tests leaves the guard's reports as they were. A setup that fails
// (a balancer or a node that refuses the connection, a node that refuses the probe app, settings that
// contradict each other) ends the command within seconds with one line on stderr naming who failed,
// its address and the step, and both reports errored with that line: never "0 tests, 0 failures".

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FnlbProcess } from '../../helpers/fnlb-process.js';
import { freePort } from '../../helpers/ports.js';
import { distPath, PACKAGE } from '../../src/common/package-root.js';
import { NESTED_TEST_TIMEOUT_MS, type NestedRun, runNestedGuard } from './support/nested-run.js';
import { reportProblems } from './support/report-schema.js';

interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
  /** How long the command took, in ms. */
  ms: number;
}

/**
 * The outer run's environment without what chooses or bounds a guard run (FN_*, FNG_*, FNLB_*) or
 * would write to the outer CI job's summary or outputs.
 */
const quietEnvironment = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^(FN|FNG|FNLB)_|^GITHUB_(STEP_SUMMARY|OUTPUT)$/.test(name),
  ),
);

/** The command's exit status and output, for the runs that must end before any test. */
function fnguard(args: string[], reports = join(scratch, 'unreachable')): Promise<CommandRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [distPath('guard/cli/main.js'), ...args],
      { timeout: 120_000, env: { ...quietEnvironment, FNG_REPORTS: reports } },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? null) : 0,
          stdout,
          stderr,
          output: `${stdout}${stderr}`,
          ms: performance.now() - started,
        }),
    );
  });
}

/** A port nothing listens on (it was free a moment ago). */
const deadPort = () => freePort();

/** What a failed setup leaves: both reports, errored with the command's one line. */
function expectErroredReports(reports: string, line: string, failure: Record<string, string>): void {
  const report = JSON.parse(readFileSync(join(reports, 'fnlb-guard.json'), 'utf8'));
  expect(report).toMatchObject({
    schema: 'fnguard-report/2',
    verdict: 'error',
    tests: [],
    setupError: { ...failure, message: line },
  });
  const junit = readFileSync(join(reports, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/<testsuites [^>]*tests="1" failures="0" errors="1"/);
  expect(junit.match(/<testcase /g)).toHaveLength(1);
  const message = /<error message="([^"]*)"/.exec(junit)?.[1];
  expect(message?.replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&')).toBe(line);
}

/** stderr is the one line, and nothing else. */
function oneLineOf(run: CommandRun): string {
  expect(
    run.stderr.split('\n').filter((line) => line !== ''),
    run.output.slice(-3000),
  ).toHaveLength(1);
  return run.stderr.trim().replace(/^fnlb-guard: /, '');
}

const scratch = mkdtempSync(join(tmpdir(), 'fnguard-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let sound: NestedRun | undefined;

function verdictsOf(run: NestedRun, property: string): string[] {
  return run.report.tests.filter((test) => test.property === property).map((test) => test.verdict);
}

describe('fnlb-guard, the command, before any test', () => {
  it('names a wrong flag and exits 2', async () => {
    const run = await fnguard(['--only', 'stickyness']);
    expect(run.code).toBe(2);
    expect(run.output).toContain('--only: unknown property stickyness');
  });

  it('exits 3 at once, in one line naming the balancer, when the balancer refuses the connection', async () => {
    const [lb, node] = [await deadPort(), await deadPort()];
    const reports = join(scratch, 'dead-balancer');
    const run = await fnguard(
      ['--lb', `127.0.0.1:${lb}`, '--nodes', `127.0.0.1:${node}`, '--only', 'sticky'],
      reports,
    );
    expect(run.code, run.output.slice(-3000)).toBe(3);
    const line = oneLineOf(run);
    expect(line).toBe(`balancer 127.0.0.1:${lb} refused the connection while checking that it answers`);
    // A bound on hanging, not a measurement: a refused connection is final.
    expect(run.ms).toBeLessThan(15_000);
    expectErroredReports(reports, line, {
      role: 'balancer',
      address: `127.0.0.1:${lb}`,
      step: 'checking that it answers',
    });
  }, 60_000);

  it('names the node that refuses the connection behind a balancer that answers', async () => {
    const node = `127.0.0.1:${await deadPort()}`;
    const balancer = await FnlbProcess.start({ nodes: [node] });
    try {
      const reports = join(scratch, 'dead-node');
      const run = await fnguard(['--lb', balancer.address, '--nodes', node, '--only', 'sticky'], reports);
      expect(run.code, run.output.slice(-3000)).toBe(3);
      const line = oneLineOf(run);
      expect(line).toBe(`node ${node} refused the connection while checking that it answers`);
      expect(run.ms).toBeLessThan(15_000);
      expectErroredReports(reports, line, { role: 'node', address: node, step: 'checking that it answers' });
    } finally {
      await balancer.stop();
    }
  }, 60_000);

  it('names the node that refuses the probe app, with its answer', async () => {
    // Answers every read (an empty list of apps: the v1 API) and refuses every write.
    const server = createServer((request, response) => {
      response.writeHead(request.method === 'GET' ? 200 : 500, { 'content-type': 'application/json' });
      response.end(request.method === 'GET' ? '{"apps":[]}' : '{"error":{"message":"read-only datastore"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const reports = join(scratch, 'refused-app');
      const run = await fnguard(['--lb', address, '--nodes', address, '--only', 'sticky'], reports);
      expect(run.code, run.output.slice(-3000)).toBe(3);
      const line = oneLineOf(run);
      expect(line).toBe(
        `node ${address} answered HTTP 500 while creating the probe app: {"error":{"message":"read-only datastore"}}`,
      );
      expect(run.ms).toBeLessThan(15_000);
      expectErroredReports(reports, line, { role: 'node', address, step: 'creating the probe app' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  it('exits 2, in one line, for the external topology without the deployment, reports errored', async () => {
    const reports = join(scratch, 'external-without-lb');
    const run = await fnguard(['--topology', 'external', '--only', 'sticky'], reports);
    expect(run.code, run.output).toBe(2);
    const line = oneLineOf(run);
    const reason =
      '--topology external needs the running deployment: --lb host:port and --nodes host:port,host:port,...';
    expect(line).toBe(`${reason} (fnlb-guard --help for the settings)`);
    expectErroredReports(reports, reason, {
      role: 'settings',
      address: '--topology',
      step: 'reading the settings',
    });
  });
});

describe('the reports of the last guard run', () => {
  it('are left as they were by a run of the unit tests', async () => {
    const reports = join(scratch, 'kept');
    mkdirSync(reports);
    writeFileSync(join(reports, 'fnlb-guard.json'), '{"verdict":"pass"}');
    writeFileSync(join(reports, 'junit.xml'), '<testsuites/>');
    const vitest = join(PACKAGE.root, 'node_modules/vitest/vitest.mjs');
    const code = await new Promise<number | null>((resolve) => {
      execFile(
        process.execPath,
        [vitest, 'run', '--project', 'unit', 'tests/unit/duration.test.ts'],
        { cwd: PACKAGE.root, timeout: 60_000, env: { ...process.env, FNG_REPORTS: reports } },
        (error) => resolve(error ? ((error as { code?: number }).code ?? null) : 0),
      );
    });
    expect(code).toBe(0);
    expect(readdirSync(reports).sort()).toEqual(['fnlb-guard.json', 'junit.xml']);
    expect(readFileSync(join(reports, 'fnlb-guard.json'), 'utf8')).toBe('{"verdict":"pass"}');
    expect(readFileSync(join(reports, 'junit.xml'), 'utf8')).toBe('<testsuites/>');
  }, 90_000);
});

describe.skipIf(process.env.FNG_BITE === '0')('fnlb-guard, the command', () => {
  it(
    'judges a topology it starts: reports written, exit 0 when every property holds',
    async () => {
      // recovery draws figures (routes per node before, during and after): the schema holds them too.
      sound = await runNestedGuard(
        ['sticky', 'herd', 'recovery'],
        {},
        { command: ['--topology', 'processes'] },
      );
      expect(sound.code, sound.output.slice(-4000)).toBe(0);
      expect(sound.report.verdict).toBe('pass');
      expect(sound.report.schema).toBe('fnguard-report/2');
      expect(reportProblems(sound.report), 'the report by its JSON Schema').toEqual([]);
      expect(sound.report.topology?.kind).toBe('processes');
      expect(sound.output).toMatch(/\[fnlb-guard\] \d+\/3 sticky: pass .*(so far|in all)/);
      expect(
        sound.report.tests.find((test) => test.property === 'recovery')?.figures?.distributions,
      ).toHaveLength(3);
      expect(sound.output).toMatch(/html: .*fnlb-guard\.html/);
      expect(sound.output).toMatch(/guard verdict: pass/);
      expect(sound.junit).toMatch(/<testsuites[^>]*tests="\d+"/);
      expect(sound.junit).toContain('tests/guard/herd.test.ts');
    },
    NESTED_TEST_TIMEOUT_MS,
  );

  it(
    'fails exactly the property a baseline measured better, inside a loosened absolute bound',
    async (ctx) => {
      if (!sound) ctx.skip('the first run did not pass');
      const baseline = join(scratch, 'baseline.json');
      writeFileSync(baseline, JSON.stringify(sound?.report));
      // Nodes without a launch policy start a container per waiting call: the herd, which the
      // loosened bounds let through and the baseline does not. Without the cap on concurrent starts
      // too, so the herd is a container per call rather than a few more than the baseline's.
      const run = await runNestedGuard(
        ['sticky', 'herd'],
        {},
        {
          command: [
            '--topology',
            'processes',
            '--node-env',
            'FN_TEST_LAUNCH=naive FN_MAX_STARTS=64',
            '--baseline',
            baseline,
            '--bound',
            'FNG_STAMPEDE_MAX_PER_NODE=1000',
            '--bound',
            'stampedeMaxShare=1',
          ],
        },
      );
      expect(run.code, run.output.slice(-4000)).toBe(1);
      expect(run.report.baseline?.path).toBe(baseline);
      expect(verdictsOf(run, 'sticky').every((verdict) => verdict === 'pass')).toBe(true);
      expect(verdictsOf(run, 'herd')).toContain('fail');
      const failed = run.report.tests.flatMap((test) => test.checks.filter((check) => !check.ok));
      expect(failed.map((check) => check.name)).toEqual([
        'containers started on <node> against the baseline',
      ]);
      const overridden = run.report.tests.flatMap((test) => test.checks).find((check) => check.overriddenBy);
      expect(overridden?.overriddenBy).toBe('FNG_STAMPEDE_MAX_PER_NODE');
    },
    NESTED_TEST_TIMEOUT_MS,
  );

  it('refuses a baseline of another scale in one line, exit 2, before starting anything', async (ctx) => {
    if (!sound) ctx.skip('the first run did not pass');
    const baseline = join(scratch, 'full-baseline.json');
    writeFileSync(baseline, JSON.stringify(sound?.report));
    const run = await fnguard(['--scale', 'quick', '--baseline', baseline, '--only', 'sticky']);
    expect(run.code, run.output).toBe(2);
    expect(oneLineOf(run)).toBe(
      `--baseline: baseline ${baseline}: it ran at scale full and this run is quick: measures over other workloads are not comparable (compare with a quick run)`,
    );
  });

  const outer = inject('topology');
  it.skipIf(outer.kind !== 'processes')(
    `judges a running deployment given by --lb and --nodes${outer.kind === 'processes' ? '' : ` (skipped: the outer topology is ${outer.kind}: its balancer names nodes the test process cannot reach)`}`,
    async () => {
      const lb = new URL(outer.lbUrl).host;
      const flags = ['--lb', lb, '--nodes', outer.nodes.join(',')];
      if (outer.lbMgmtUrl) flags.push('--lb-mgmt', new URL(outer.lbMgmtUrl).host);
      if (outer.mgmtToken) flags.push('--mgmt-token', outer.mgmtToken);
      const run = await runNestedGuard(['sticky', 'api'], {}, { command: flags });
      expect(run.code, run.output.slice(-4000)).toBe(0);
      expect(run.report.topology?.kind).toBe('external');
      expect(run.report.verdict).toBe('pass');
    },
    NESTED_TEST_TIMEOUT_MS,
  );
});
