// No stampede (node): a burst of concurrent calls (100 at full scale) to a cold fast route (about 5 ms per call) must
// start a few containers per node, never one per call. Judged per node against the calls that node
// received, so a balancer that piles the burst on one node is not taken for a stampeding node.
import { describe } from 'vitest';
import { herdChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { burst } from '../../guard/measure/burst.js';

const guard = guardProperty('herd');

describe(`a burst of ${guard.workload.burst.calls} concurrent calls to a cold fast route`, () => {
  guard.test('queues behind a few containers per node', async ({ suite, judge, skip, bounds }) => {
    const measured = await burst(suite, '/fast', 5, guard.workload.burst.calls);
    const { counters } = measured;
    if (counters.unmeasurable) skip(counters.unmeasurable, measured.context);
    judge([...herdChecks(bounds, counters.counts, measured.calls), ...counters.agreement], measured.context);
  });
});
