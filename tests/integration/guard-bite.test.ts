// The guard bites on live balancers: each deliberately broken balancer (helpers/mutant-lb.ts) is put in
// front of the processes topology through FNLB_CMD, as a balancer team would put theirs, and the guard
// runs on it in a nested Vitest run. Each must fail its own property, and pass properties its flaw does
// not touch (a balancer that sprays calls must not make the nodes look bad). The verdicts come from the
// nested run's reports/fnguard.json. One short run per mutant; FNG_BITE=0 skips them, saying so (CI
// sets it on its second pass, which would only repeat them).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { GuardReport, Verdict } from '../../helpers/guard/reporter.js';
import { distPath, PACKAGE } from '../../src/common/package-root.js';

const RUN_TIMEOUT_MS = 240_000;

interface Mutant {
  flaw: string;
  /** Guard files (properties) the nested run judges. */
  properties: string[];
  /** Expected verdict per "property: test name". */
  expected: Record<string, Verdict>;
  /** A check that must be among the failed ones: the flaw is caught for the right reason. */
  failedCheck: string;
}

const STICKY = 'sticky: stay on one node';
const SPELLINGS = 'sticky: reach the route’s node';

const MUTANTS: Mutant[] = [
  {
    flaw: 'round-robin',
    properties: ['sticky', 'hot-reuse'],
    expected: {
      [STICKY]: 'fail',
      [SPELLINGS]: 'fail',
      'hot-reuse: start one container per node that got them and are answered hot after the first': 'pass',
    },
    failedCheck: 'nodes serving the route',
  },
  {
    flaw: 'raw-path',
    properties: ['sticky'],
    expected: { [STICKY]: 'pass', [SPELLINGS]: 'fail' },
    failedCheck: 'path spellings served by another node than the route’s',
  },
  {
    flaw: 'retry-5xx',
    properties: ['no-duplicate', 'sticky'],
    expected: {
      'no-duplicate: run once when the function answers 503, 500 or 502 itself': 'fail',
      "no-duplicate: runs once when the function outlives the balancer's upstream timeout": 'skipped',
      [STICKY]: 'pass',
    },
    failedCheck: 'executions of calls answering 503',
  },
  {
    flaw: 'no-health',
    properties: ['failover', 'sticky'],
    expected: {
      'failover: costs at most its calls in flight, and none after it is marked down': 'fail',
      [STICKY]: 'pass',
    },
    failedCheck: 'failed calls after the node was marked down',
  },
  {
    flaw: 'no-spill',
    properties: ['spill', 'sticky'],
    expected: {
      'spill: spills from its home node to a few neighbours, not to every node': 'fail',
      [STICKY]: 'pass',
    },
    failedCheck: 'nodes serving the hot route',
  },
];

function runGuard(mutant: Mutant, reports: string): Promise<{ code: number | null; output: string }> {
  const vitest = join(PACKAGE.root, 'node_modules/vitest/vitest.mjs');
  const files = mutant.properties.map((property) => `tests/guard/${property}.test.ts`);
  const command = `"${process.execPath}" "${distPath('helpers/mutant-lb.js')}" -flaw ${mutant.flaw} -nodes {nodes} -listen {listen} -hc-interval {hc_interval}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--project', 'integration', ...files], {
      cwd: PACKAGE.root,
      env: {
        ...process.env,
        FN_TOPOLOGY: 'processes',
        FNLB_CMD: command,
        FN_TEST_DB_URL: inject('pgUrl'),
        FNG_REPORTS: reports,
        FNG_BUILD: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe.skipIf(process.env.FNG_BITE === '0')('the guard on deliberately broken balancers', () => {
  it.each(MUTANTS)(
    '$flaw fails its property and passes the others',
    async (mutant) => {
      const reports = mkdtempSync(join(tmpdir(), 'fnguard-bite-'));
      try {
        const { code, output } = await runGuard(mutant, reports);
        let report: GuardReport;
        try {
          report = JSON.parse(readFileSync(join(reports, 'fnguard.json'), 'utf8')) as GuardReport;
        } catch {
          throw new Error(`the nested guard run left no report (exit ${code}):\n${output.slice(-4000)}`);
        }
        const verdicts = Object.fromEntries(
          report.tests.map((test) => [`${test.property}: ${test.test}`, test.verdict]),
        );
        expect(verdicts, output.slice(-6000)).toEqual(expect.objectContaining(mutant.expected));
        const failed = report.tests.flatMap((test) =>
          test.checks.filter((check) => !check.ok).map((check) => check.name),
        );
        expect(failed, 'the check that catches the flaw').toContain(mutant.failedCheck);
        expect(code, 'a guard that finds a failure exits non-zero').not.toBe(0);
        expect(report.topology?.balancer.label).toContain(`-flaw ${mutant.flaw}`);
      } finally {
        rmSync(reports, { recursive: true, force: true });
      }
    },
    RUN_TIMEOUT_MS,
  );
});
