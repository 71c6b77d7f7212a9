// Spill: one hot route whose calls take about 200 ms, under 32 concurrent callers. Its home node
// saturates, so bounded-load routing must spill it to the next nodes of the ring walk: at least 2
// nodes (a balancer that never spreads a hot route fails) and at most 4 (one that sprays fails).
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { spillChecks } from '../../helpers/checks.js';
import { expectChecks } from '../../helpers/expect-checks.js';
import { callsPerNode, SuiteFile } from '../../helpers/suite.js';

const CALLERS = 32;
const CALLS = CALLERS * 5;
let suite: SuiteFile;

beforeAll(async () => {
  suite = await SuiteFile.open(inject('topology'), 'spill');
  await suite.createRoute({ path: '/hot', image: 'fnguard/sleep', format: 'http', idle_timeout: 5 });
});

afterAll(async () => {
  await suite?.close();
});

describe(`a hot slow route under ${CALLERS} callers`, () => {
  it('spills from its home node to a few neighbours on the ring', async () => {
    const { records } = await suite.drive(['/hot'], CALLS, CALLERS, '?ms=200');
    const perNode = callsPerNode(records, suite.info.nodes);
    const failed = records.filter((record) => !record.ok).length;
    expectChecks('spill', spillChecks(perNode), [
      `calls per node: ${JSON.stringify(perNode)}`,
      `failed calls: ${failed}`,
    ]);
  });
});
