// Failover (balancer): a node SIGKILLed under load (1000 calls at concurrency 8 over 40 routes at full scale) may
// cost the calls it had in flight, and none once the balancer has taken it out; the other nodes'
// routes stay where they were. Calls sent in the moment between the signal and the process being gone
// were delivered to the dying node, so they count as in flight there too.
import { describe } from 'vitest';
import { atMost, failoverChecks, required } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { nodeDown } from '../../guard/measure/node-down.js';

const guard = guardProperty('failover');

describe('a node SIGKILLed under load', () => {
  guard.test('costs at most its calls in flight, and none after it is marked down', async (context) => {
    const { victim, home, load, downAt, downBasis } = await nodeDown(context, {
      name: 'SIGKILL',
      leaves: 'gone',
      run: (node) => context.faults.kill(node),
    });
    const onVictim = (path: string) => home.get(path) === victim;
    const sentWhileDying = load.calls.filter(
      (call) => onVictim(call.path) && call.startedAt >= load.faultAt && call.startedAt < load.faultDoneAt,
    ).length;
    const inFlight = load.inFlightAtFault.filter(onVictim).length + sentWhileDying;
    const failures = load.calls.filter((call) => !call.ok);
    const othersMoved = load.calls.filter(
      (call) =>
        call.ok && call.startedAt > load.faultAt && !onVictim(call.path) && call.node !== home.get(call.path),
    );
    context.judge(
      [
        ...failoverChecks(context.bounds, {
          failed: failures.length,
          inFlightOnKilledNode: inFlight,
          failedAfterMarkedDown: failures.filter((call) => call.startedAt > downAt).length,
        }),
        atMost(
          'calls of other nodes’ routes served elsewhere after the kill',
          othersMoved.length,
          required(0, 'a dead node’s routes move; every other route stays on its node'),
        ),
      ],
      [
        `victim ${victim}; ${downBasis}`,
        `${failures.length} failed of ${load.calls.length}; in flight on the victim: ${inFlight} (${sentWhileDying} sent while it died)`,
        ...failures
          .slice(0, 10)
          .map(
            (call) =>
              `failed: ${call.path} at +${Math.round(call.startedAt - load.faultAt)} ms: ${call.error}`,
          ),
      ],
    );
  });
});
