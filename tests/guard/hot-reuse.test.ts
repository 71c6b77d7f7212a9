// Hot reuse (node): sequential calls to one route must reuse the hot container. Judged per node against
// the calls that node received: each node that got calls starts one container and answers every
// later call hot, so a balancer that sprays the calls fails stickiness, not the nodes.
import { describe } from 'vitest';
import { hotReuseChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { routeCounters } from '../../guard/measure/node-counters.js';

const guard = guardProperty('hot-reuse');
const CALLS = guard.workload.hotReuse.calls;

describe('one route, sequential calls', () => {
  guard.test(
    'start one container per node that got them and are answered hot after the first',
    async ({ suite, judge, skip, bounds }) => {
      const lostBefore = suite.engine?.lost ?? 0;
      await suite.createRoute({ path: '/primes', image: suite.image('primes'), format: 'http' });
      const { records } = await suite.drive(['/primes'], CALLS, 1, '?max=1000&loops=1');
      const counters = await routeCounters(suite, '/primes', records, lostBefore);
      if (counters.unmeasurable) skip(counters.unmeasurable, counters.context);
      judge(
        [...hotReuseChecks(bounds, counters.counts, CALLS), ...counters.agreement],
        [
          `per node (received, started, hot), from ${counters.source}: ${JSON.stringify(counters.counts)}`,
          ...counters.context,
        ],
      );
    },
  );
});
