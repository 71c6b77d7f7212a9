// Frozen node (balancer): a node that stops running under load without closing anything (SIGSTOP on
// processes, docker pause on containers, a command of the operator's on a deployment): its connections
// stay open and unanswered, so only a health check with a timeout notices, never a refused connection.
// The same load as failover (guard/measure/node-down.ts). Failed calls are at most those it had in
// flight and those of its routes sent to it until the balancer took it out, none after; it is taken
// out within a few health intervals of the freeze (by the management API's word where there is one,
// else at the last call the balancer still sent it, which hung: black-box); and once thawed and back,
// every route is on the node it was on before. Before the thaw, the node is held frozen until the
// balancer's upstream timeout has passed since the freeze, and its routes are called again: a
// balancer that only went round it because its hung calls filled its bounded load (no health check,
// or one without a timeout) sends them there again once those calls time out, and they fail; one
// that took it out serves them elsewhere. The guard gives up on a call after 3 s: a call sent to the
// frozen node fails then, and its caller goes on.

import { setTimeout as sleep } from 'node:timers/promises';
import { describe } from 'vitest';
import { frozenChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { homes, loadWithFault } from '../../guard/measure/load.js';
import { nodeDown } from '../../guard/measure/node-down.js';
import { detectionWindow } from '../../guard/measure/settle.js';
import { waitUntilNodesOnline } from '../../guard/topology/probe.js';
import { FnClient } from '../../src/common/fn-client.js';

const guard = guardProperty('frozen');
/** How long a thawed node is given to answer the balancer's health check again, with a management API. */
const BACK_TIMEOUT_MS = 30_000;
/**
 * A call of the load unanswered this long was sent to the frozen node (a hot 20 ms call otherwise
 * answers within a second even on a busy machine): the guard gives up on it and its caller goes on.
 */
const CALL_TIMEOUT_MS = 3000;
/** The upstream timeout assumed where the balancer's is unknown (its command takes no {upstream_timeout}). */
const ASSUMED_UPSTREAM_TIMEOUT_S = 30;
const QUERY = '?ms=20';

describe('a node frozen under load', () => {
  guard.test(
    'costs at most its calls, is taken out within a few health intervals, and gets its routes back once thawed',
    async (context) => {
      const { info, faults, suite } = context;
      const { victim, home, load, downAt, downBasis, downSeen } = await nodeDown(context, {
        name: 'SIGSTOP',
        leaves: 'frozen',
        run: (node) => faults.freeze(node),
        callTimeoutMs: CALL_TIMEOUT_MS,
        // Two detection windows after the freeze: a balancer that never takes the node out shows it
        // at twice the window, well past the bound.
        loadAfterMs: detectionWindow(info).ms,
      });
      const detection = detectionWindow(info);
      const onVictim = (path: string) => home.get(path) === victim;
      const failures = load.calls.filter((call) => !call.ok);
      // Calls of its routes that failed after the freeze were sent to it: the last of them is the
      // latest moment the balancer still sent it calls.
      const sentToFrozen = failures.filter((call) => onVictim(call.path) && call.startedAt >= load.faultAt);
      const lastSent = Math.max(load.faultAt, ...sentToFrozen.map((call) => call.startedAt));
      // The management API's word where there is one: a call the balancer still sends the node after
      // it reported it out fails after the take-out, as it should.
      const takenOutAt = downSeen ? downAt : lastSent;
      const onFrozenNode = load.inFlightAtFault.filter(onVictim).length + sentToFrozen.length;

      // Still frozen, past the balancer's upstream timeout: its routes, two calls each, four at a time.
      const upstreamS = info.balancer.upstreamTimeoutS ?? ASSUMED_UPSTREAM_TIMEOUT_S;
      await sleep(Math.max(0, load.faultAt + upstreamS * 1000 + 1000 - performance.now()));
      const frozenRoutes = [...home.keys()].filter(onVictim);
      const later = await loadWithFault(suite, frozenRoutes, {
        calls: 2 * frozenRoutes.length,
        concurrency: 4,
        query: QUERY,
        client: new FnClient(info.lbUrl, { timeoutMs: CALL_TIMEOUT_MS }),
      });
      const failedLater = later.calls.filter((call) => !call.ok);

      await faults.thaw(victim);
      if (info.capabilities.mgmtApi) await waitUntilNodesOnline(info, [victim], BACK_TIMEOUT_MS);
      else await sleep(detection.ms);
      const routes = [...home.keys()];
      const again = await loadWithFault(suite, routes, {
        calls: routes.length,
        concurrency: 1,
        query: QUERY,
      });
      const after = homes(again.calls);
      const wrong = routes.filter((route) => after.get(route) !== home.get(route));

      context.judge(
        frozenChecks(context.bounds, {
          failed: failures.length,
          onFrozenNode,
          failedAfterTakenOut: failures.filter((call) => call.startedAt > takenOutAt).length,
          intervalsUntilOut: (takenOutAt - load.faultAt) / 1000 / detection.intervalS,
          failedWhileStillFrozen: failedLater.length,
          wrongPlacements: wrong.length,
          frozenRoutes: frozenRoutes.length,
        }),
        [
          `froze ${victim}; ${downSeen ? downBasis : `taken out at the last call it was sent, ${Math.round(lastSent - load.faultAt)} ms after the freeze`}; health interval ${detection.intervalS} s${detection.assumed ? ' (assumed)' : ''}`,
          `${failures.length} failed of ${load.calls.length}; on the frozen node: ${onFrozenNode} (${sentToFrozen.length} sent to it after the freeze)`,
          `its routes called again ${Math.round((later.calls[0]?.startedAt ?? load.faultAt) - load.faultAt)} ms after the freeze, past the upstream timeout of ${upstreamS} s${info.balancer.upstreamTimeoutS === undefined ? ' (unknown, assumed)' : ''}: ${failedLater.length} of ${later.calls.length} failed`,
          ...wrong
            .slice(0, 5)
            .map(
              (route) =>
                `${route}: was on ${home.get(route)}, after the thaw on ${after.get(route) ?? 'no node'}`,
            ),
          ...failures
            .slice(0, 5)
            .map(
              (call) =>
                `failed: ${call.path} at +${Math.round(call.startedAt - load.faultAt)} ms: ${call.error}`,
            ),
        ],
      );
    },
    { timeout: 180_000 },
  );
});
