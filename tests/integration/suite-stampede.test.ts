// No stampede: a burst of 100 concurrent calls to a cold fast route (about 5 ms per call) through the
// balancer must start a few containers per node, never one per call; the same burst to a slow route
// (about 1 s per call) must scale out. Both sides: a naive runner fails the first, a serial one the second.
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { scaleOutChecks, stampedeChecks } from '../../helpers/checks.js';
import { expectChecks } from '../../helpers/expect-checks.js';
import { SuiteFile } from '../../helpers/suite.js';

const BURST = 100;
let suite: SuiteFile;

beforeAll(async () => {
  suite = await SuiteFile.open(inject('topology'), 'stampede');
  // Short idle timeouts hand the slow burst's containers' memory back soon after the test.
  await suite.createRoutes([
    { path: '/fast', image: 'fnguard/sleep', format: 'http', idle_timeout: 5 },
    { path: '/slow', image: 'fnguard/sleep', format: 'http', idle_timeout: 5 },
  ]);
});

afterAll(async () => {
  await suite?.close();
});

async function burst(path: string, ms: number) {
  const { records } = await suite.drive([path], BURST, BURST, `?ms=${ms}`);
  const started = await suite.routeCounter(path, 'containers_started');
  const stats = await suite.stats();
  const ewmas = [...stats].map(([node, nodeStats]) => {
    const route = nodeStats.routes[`${suite.app}${path}`];
    return `${node}: run ${route?.run_ms_ewma.toFixed(1)} ms, start ${route?.start_ms_ewma.toFixed(1)} ms`;
  });
  const succeeded = records.filter((record) => record.ok).length;
  const context = [`containers started per node: ${JSON.stringify(started)}`, 'EWMAs per node:', ...ewmas];
  return { started, succeeded, context };
}

describe('a burst of 100 concurrent calls to a cold route', () => {
  it('queues fast calls behind a few containers per node', async () => {
    const { started, succeeded, context } = await burst('/fast', 5);
    expectChecks('stampede, fast route', stampedeChecks(started, succeeded, BURST), context);
  });

  it('scales out for slow calls', async () => {
    const { started, succeeded, context } = await burst('/slow', 1000);
    expectChecks('scale-out, slow route', scaleOutChecks(started, succeeded, BURST), context);
  });
});
