// The fnlb-guard command as a pipeline runs it (nested runs of dist/guard/cli/main.js): on a topology it
// starts it judges, writes fnlb-guard.json and junit.xml and exits by the verdict; against a running
// deployment (--lb, --nodes) likewise; and a baseline holding a better value fails exactly the
// property it measured better, although the run stays inside the absolute bound (loosened by --bound).
// A run of this repository's unit tests leaves the guard's reports as they were.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { distPath, PACKAGE } from '../../src/common/package-root.js';
import { NESTED_TEST_TIMEOUT_MS, type NestedRun, runNestedGuard } from './support/nested-run.js';

/** The command's exit status and output, for the runs that must end before any test. */
function fnguard(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [distPath('guard/cli/main.js'), ...args],
      {
        timeout: 120_000,
        env: { ...process.env, FN_TOPOLOGY: '', FNG_REPORTS: join(scratch, 'unreachable') },
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? null) : 0,
          output: `${stdout}${stderr}`,
        }),
    );
  });
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

  it('exits 3 when the deployment it is pointed at does not answer', async () => {
    const run = await fnguard(['--lb', '127.0.0.1:9', '--nodes', '127.0.0.1:9', '--only', 'sticky']);
    expect(run.code, run.output.slice(-3000)).toBe(3);
    expect(run.output).toContain('could not be started or reached');
  }, 150_000);
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
      sound = await runNestedGuard(['sticky', 'herd'], {}, { command: ['--topology', 'processes'] });
      expect(sound.code, sound.output.slice(-4000)).toBe(0);
      expect(sound.report.verdict).toBe('pass');
      expect(sound.report.schema).toBe('fnguard-report/2');
      expect(sound.report.topology?.kind).toBe('processes');
      expect(sound.output).toMatch(/\[fnlb-guard\] sticky: pass/);
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
