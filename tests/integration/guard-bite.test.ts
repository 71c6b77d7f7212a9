// The guard bites on live balancers: each deliberately broken balancer (helpers/mutant-lb.ts) is put in
// front of the processes topology through FNLB_CMD, as a balancer team would put theirs, and the guard
// runs on it in a nested run (helpers/guard/nested-run.ts). Each must fail its own property, and pass
// properties its flaw does not touch (a balancer that sprays calls must not make the nodes look bad).
// One short run per mutant; FNG_BITE=0 skips them, saying so (CI sets it on its second pass, which
// would only repeat them).
import { describe, expect, inject, it } from 'vitest';
import { NESTED_RUN_TIMEOUT_MS, runNestedGuard } from '../../helpers/guard/nested-run.js';
import type { Verdict } from '../../helpers/guard/reporter.js';
import { distPath } from '../../src/common/package-root.js';

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

describe.skipIf(process.env.FNG_BITE === '0')('the guard on deliberately broken balancers', () => {
  it.each(MUTANTS)(
    '$flaw fails its property and passes the others',
    async (mutant) => {
      const run = await runNestedGuard(mutant.properties, {
        FN_TOPOLOGY: 'processes',
        FNLB_CMD: `"${process.execPath}" "${distPath('helpers/mutant-lb.js')}" -flaw ${mutant.flaw} -nodes {nodes} -listen {listen} -hc-interval {hc_interval}`,
        FN_TEST_DB_URL: inject('pgUrl'),
      });
      expect(run.verdicts, run.output.slice(-6000)).toEqual(expect.objectContaining(mutant.expected));
      expect(run.failedChecks, 'the check that catches the flaw').toContain(mutant.failedCheck);
      expect(run.code, 'a guard that finds a failure exits non-zero').not.toBe(0);
      expect(run.report.topology?.balancer.label).toContain(`-flaw ${mutant.flaw}`);
    },
    NESTED_RUN_TIMEOUT_MS,
  );
});
