// Graceful stop (balancer): a node stopped with SIGTERM under the same load as the failover test costs
// no call. The node finishes its calls in flight and refuses new ones as refused before running
// (503 Fn-Refused: draining) until it is quiet; a balancer must send those elsewhere and stop sending
// to it, not hand the refusals to clients.
import { describe } from 'vitest';
import { gracefulStopChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { nodeDown } from '../../guard/measure/node-down.js';

const guard = guardProperty('graceful-stop');

describe('a node stopped with SIGTERM under load', () => {
  guard.test('costs no call', async (context) => {
    const { victim, load } = await nodeDown(context, {
      name: 'SIGTERM',
      leaves: 'exited',
      run: (node) => context.faults.stop(node),
    });
    const failures = load.calls.filter((call) => !call.ok);
    const servedByStopped = load.calls.filter(
      (call) => call.ok && call.node === victim && call.startedAt < load.faultAt,
    ).length;
    context.judge(gracefulStopChecks(context.bounds, { failed: failures.length, servedByStopped }), [
      `stopped ${victim}; it exited ${Math.round(load.faultDoneAt - load.faultAt)} ms after SIGTERM`,
      ...failures
        .slice(0, 10)
        .map(
          (call) =>
            `failed: ${call.path} at +${Math.round(call.startedAt - load.faultAt)} ms: ${call.status} ${call.error}`,
        ),
    ]);
  });
});
