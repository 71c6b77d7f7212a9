// Spill: one hot route whose calls take about 200 ms, under 32 concurrent callers. Its home node
// saturates, so bounded-load routing must spill it to the next nodes of the ring walk: at least 2
// nodes (a balancer that never spreads a hot route fails) and at most 4 (one that sprays fails).
// The route is hot: the same load runs once before the measured run. Cold starts make a node report
// queueing (XXX-FXLB-WAIT), which the balancer rightly steers around; with Docker's slower starts
// (about 1 s under this load on 2 cores, against 0.05 s for a process) that alone reached the 5th
// node. Herds of cold starts are the stampede test's subject; this one measures where a hot route goes.
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { spillChecks } from '../../helpers/checks.js';
import { expectChecks } from '../../helpers/expect-checks.js';
import { callsPerNode, SuiteFile } from '../../helpers/suite.js';

const CALLERS = 32;
const CALLS = CALLERS * 5;
/** fnlb's average of reported waits halves every 2 s: the warm-up's cold waits fade before measuring. */
const WAIT_FADE_MS = 3000;
let suite: SuiteFile;

beforeAll(async () => {
  suite = await SuiteFile.open(inject('topology'), 'spill');
  // Idle containers outlive the pause between warm-up and measurement, then soon hand memory back.
  await suite.createRoute({ path: '/hot', image: 'fnguard/sleep', format: 'http', idle_timeout: 10 });
});

afterAll(async () => {
  await suite?.close();
});

describe(`a hot slow route under ${CALLERS} callers`, () => {
  it('spills from its home node to a few neighbours on the ring', async () => {
    await suite.drive(['/hot'], CALLS, CALLERS, '?ms=200');
    await new Promise((resolve) => setTimeout(resolve, WAIT_FADE_MS));
    const { records } = await suite.drive(['/hot'], CALLS, CALLERS, '?ms=200');
    const perNode = callsPerNode(records, suite.info.nodes);
    const failed = records.filter((record) => !record.ok).length;
    expectChecks('spill', spillChecks(perNode), [
      `calls per node: ${JSON.stringify(perNode)}`,
      `failed calls: ${failed}`,
    ]);
  });
});
