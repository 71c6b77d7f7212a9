// Stickiness and hot reuse: 100 sequential calls to one route through the balancer must reach one
// node, start one container in the whole cluster and be answered hot after the first.
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { hotReuseChecks, stickinessChecks } from '../../helpers/checks.js';
import { expectChecks } from '../../helpers/expect-checks.js';
import { callsPerNode, SuiteFile, sumOf } from '../../helpers/suite.js';

const CALLS = 100;
let suite: SuiteFile;

beforeAll(async () => {
  suite = await SuiteFile.open(inject('topology'), 'sticky');
  await suite.createRoute({ path: '/primes', image: 'fnguard/primes', format: 'http' });
});

afterAll(async () => {
  await suite?.close();
});

describe('one route, sequential calls', () => {
  it('stays on one node, starts one container and answers hot after the first call', async () => {
    const { records } = await suite.drive(['/primes'], CALLS, 1, '?max=1000&loops=1');
    const perNode = callsPerNode(records, suite.info.nodes);
    const started = await suite.routeCounter('/primes', 'containers_started');
    const hot = await suite.routeCounter('/primes', 'hot');
    const checks = [
      ...stickinessChecks(perNode, CALLS),
      ...hotReuseChecks({ containersStarted: sumOf(started), hotCalls: sumOf(hot) }),
    ];
    const context = [
      `calls per node: ${JSON.stringify(perNode)}`,
      `containers started per node: ${JSON.stringify(started)}`,
    ];
    expectChecks('sticky + hot reuse', checks, context);
  });
});
