// The guard bites on live balancers: each deliberately broken balancer (tests/integration/support/mutant-lb.ts) is put in
// front of the processes topology through FNLB_CMD, as a balancer team would put theirs, and the guard
// runs on it in a nested run (tests/integration/support/nested-run.ts). Each must fail its own property, and pass
// properties its flaw does not touch (a balancer that sprays calls must not make the nodes look bad).
// One short run per mutant, at the quick scale (guard/engine/workload.ts): the smallest workloads the
// guard offers, with their widened bounds, must still catch every flaw, and a flaw caught there is
// caught at full scale too (more calls, bounds no wider). The runs on sound balancers below are full.
// FNG_BITE=0 skips them, saying so (CI sets it on its second pass, which would only repeat them).
import { describe, expect, inject, it } from 'vitest';
import { WORKLOADS } from '../../guard/engine/workload.js';
import type { Verdict } from '../../guard/report/report.js';
import { distPath } from '../../src/common/package-root.js';
import { VERDICT } from './support/guard-verdicts.js';
import { NESTED_TEST_TIMEOUT_MS, runNestedGuard } from './support/nested-run.js';

interface Mutant {
  flaw: string;
  /** Guard files (properties) the nested run judges. */
  properties: string[];
  /** Expected verdict per "property: test name". */
  expected: Record<string, Verdict>;
  /** A check that must be among the failed ones: the flaw is caught for the right reason. */
  failedCheck: string;
  /** Flags added to its command line. */
  args?: string;
  /** More checks that must be among the failed ones, for its other properties. */
  alsoFailed?: string[];
}

/** What the mutants' runs add to their environment: the quick scale. */
const QUICK = { FNG_SCALE: 'quick' };

const MUTANTS: Mutant[] = [
  {
    flaw: 'round-robin',
    properties: ['sticky', 'hot-reuse'],
    expected: {
      [VERDICT.sticky]: 'fail',
      [VERDICT.spellings]: 'fail',
      [VERDICT.hotReuse]: 'pass',
    },
    failedCheck: 'nodes serving the route',
  },
  {
    flaw: 'raw-path',
    properties: ['sticky'],
    expected: { [VERDICT.sticky]: 'pass', [VERDICT.spellings]: 'fail' },
    failedCheck: 'path spellings served by another node than the route’s',
  },
  {
    flaw: 'retry-5xx',
    properties: ['no-duplicate', 'sticky'],
    expected: {
      [VERDICT.ownFailures]: 'fail',
      [VERDICT.outlives]: 'skipped',
      [VERDICT.sticky]: 'pass',
    },
    failedCheck: 'executions of calls answering 503',
  },
  {
    flaw: 'no-health',
    // Its upstream timeout known to the guard: frozen holds the node frozen past it, when a balancer
    // that only went round the node because its hung calls filled it sends it calls again.
    args: '-upstream-timeout {upstream_timeout}',
    properties: ['failover', 'frozen', 'sticky'],
    expected: {
      [VERDICT.failover]: 'fail',
      [VERDICT.frozen]: 'fail',
      [VERDICT.sticky]: 'pass',
    },
    failedCheck: 'failed calls after the node was marked down',
    alsoFailed: ['calls of its routes that failed past the upstream timeout, the node still frozen'],
  },
  {
    flaw: 'no-spill',
    properties: ['spill', 'sticky'],
    expected: {
      [VERDICT.spill]: 'fail',
      [VERDICT.sticky]: 'pass',
    },
    failedCheck: 'nodes serving the hot route',
  },
  {
    flaw: 'slow',
    properties: ['overhead', 'sticky'],
    expected: {
      [VERDICT.overhead]: 'fail',
      [VERDICT.sticky]: 'pass',
    },
    failedCheck: 'ms added to the median call at 1 caller',
  },
];

describe.skipIf(process.env.FNG_BITE === '0')('the guard on deliberately broken balancers', () => {
  it.each(MUTANTS)(
    '$flaw fails its property and passes the others',
    async (mutant) => {
      const run = await runNestedGuard(mutant.properties, {
        FN_TOPOLOGY: 'processes',
        FNLB_CMD: `"${process.execPath}" "${distPath('tests/integration/support/mutant-lb.js')}" -flaw ${mutant.flaw} -nodes {nodes} -listen {listen} -hc-interval {hc_interval} ${mutant.args ?? ''}`,
        FN_TEST_DB_URL: inject('pgUrl'),
        ...QUICK,
      });
      expect(run.verdicts, run.output.slice(-6000)).toEqual(expect.objectContaining(mutant.expected));
      expect(run.failedChecks, 'the check that catches the flaw').toContain(mutant.failedCheck);
      for (const check of mutant.alsoFailed ?? []) expect(run.failedChecks).toContain(check);
      expect(run.code, 'a guard that finds a failure exits non-zero').not.toBe(0);
      expect(run.report.topology?.balancer.label).toContain(`-flaw ${mutant.flaw}`);
      expect(run.report.settings?.scale?.value).toBe('quick');
    },
    NESTED_TEST_TIMEOUT_MS,
  );
});

// The same guard on Fn's v2 API (fn-node serves it beside v1): apps, fns and HTTP triggers created and
// called through fnlb, node counters under the fn's key. A node with no launch policy stampedes its
// containers there too, and the guard says so; what the policy does not touch still passes.
describe.skipIf(process.env.FNG_BITE === '0')("the guard on Fn's v2 API", () => {
  it(
    'fails the herd of a node without a launch policy and passes stickiness and hot reuse',
    async () => {
      const run = await runNestedGuard(['herd', 'sticky', 'hot-reuse'], {
        FN_TOPOLOGY: 'processes',
        FN_API: 'v2',
        FN_NODE_ENV: 'FN_TEST_LAUNCH=naive',
        FN_TEST_DB_URL: inject('pgUrl'),
      });
      expect(run.verdicts, run.output.slice(-6000)).toEqual(
        expect.objectContaining({
          [VERDICT.herd]: 'fail',
          [VERDICT.sticky]: 'pass',
          [VERDICT.spellings]: 'pass',
          [VERDICT.hotReuse]: 'pass',
        }),
      );
      expect(run.failedChecks.some((name) => name.startsWith('containers started on'))).toBe(true);
      expect(run.output).toContain('Fn API: v2 (as set)');
    },
    NESTED_TEST_TIMEOUT_MS,
  );
});

// Where a balancer's 404s name no node (Fn's LB node answers unknown paths itself; this one hides its
// nodes' Fn-Node header), placement is measured on routes made for it, each placed by the node its
// function ran on: malformed and recovery are judged there, and a balancer that takes a node out for a
// malformed request still fails, so the routes measure placement rather than pass for want of it.
describe.skipIf(process.env.FNG_BITE === '0')('placement on routes made for it', () => {
  const mutantLb = (flaw: string) =>
    `"${process.execPath}" "${distPath('tests/integration/support/mutant-lb.js')}" -flaw ${flaw} -hide-node -nodes {nodes} -listen {listen} -hc-interval {hc_interval}`;
  it(
    'judges malformed and recovery where unrouted paths name no node',
    async () => {
      const run = await runNestedGuard(['malformed', 'recovery'], {
        FN_TOPOLOGY: 'processes',
        FNLB_CMD: mutantLb('none'),
        FN_TEST_DB_URL: inject('pgUrl'),
      });
      expect(run.verdicts, run.output.slice(-6000)).toEqual(
        expect.objectContaining({ [VERDICT.malformed]: 'pass', [VERDICT.recovery]: 'pass' }),
      );
      expect(run.output).toContain('100 routes created for it');
      expect(run.output).toContain('unrouted paths were answered 404 naming no node');
    },
    NESTED_TEST_TIMEOUT_MS,
  );

  it(
    'fails malformed on a balancer that takes a node out for a malformed request, measured on those routes',
    async () => {
      const run = await runNestedGuard(['malformed'], {
        FN_TOPOLOGY: 'processes',
        FNLB_CMD: mutantLb('blame-node'),
        FN_TEST_DB_URL: inject('pgUrl'),
        ...QUICK,
      });
      expect(run.verdicts, run.output.slice(-6000)).toEqual(
        expect.objectContaining({ [VERDICT.malformed]: 'fail' }),
      );
      expect(run.failedChecks).toContain('routes served by another node afterwards');
      expect(run.output).toContain(`${WORKLOADS.quick.placement.routeKeys} routes created for it`);
    },
    NESTED_TEST_TIMEOUT_MS,
  );
});
