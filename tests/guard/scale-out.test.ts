// Scale-out (node): the same burst as the herd test to a slow route (about 1 s per call) must start
// containers in proportion to the calls each node received: a serial runner fails here.
import { describe } from 'vitest';
import { scaleOutChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { burst } from '../../guard/measure/burst.js';

const guard = guardProperty('scale-out');

describe(`a burst of ${guard.workload.burst.calls} concurrent calls to a cold slow route`, () => {
  guard.test('scales out on every node that got calls', async ({ suite, judge, skip, bounds }) => {
    const measured = await burst(suite, '/slow', 1000, guard.workload.burst.calls);
    const { counters } = measured;
    if (counters.unmeasurable) skip(counters.unmeasurable, measured.context);
    judge(
      [...scaleOutChecks(bounds, counters.counts, measured.calls), ...counters.agreement],
      measured.context,
    );
  });
});
