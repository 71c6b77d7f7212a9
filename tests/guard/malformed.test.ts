// Malformed requests (balancer): requests an HTTP client library would refuse to send, written raw to
// the balancer's socket. Each must get a 4xx or a closed connection, and none may cost a node its
// place: afterwards 1000 unrouted paths (or, where those name no node, 100 routes made for it; 200 and 50 at quick scale) land
// exactly where they did before (no node taken out), and 100 calls of a real route succeed. One exception: HTTP/1.1 (RFC 9112, 3.2.2) lets a server take an
// absolute-form target's path and ignore its Host header, so a balancer may also serve one naming
// another host, as long as it serves it like its path, on the route's node (nginx does); what it must
// not do is pass it on as a target the node reads differently, or anywhere else.
import { describe } from 'vitest';
import { atLeast, atMost, type Check, failedChecks, required } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import {
  PLACEMENT_TEST_TIMEOUT_MS,
  placement,
  placementFailures,
  placementKeys,
  placementUnmeasurable,
  referencePlacement,
} from '../../guard/measure/placement.js';
import { rawRequest } from '../../guard/measure/raw-http.js';

const guard = guardProperty('malformed');
const CALLS = guard.workload.malformed.calls;

const FOREIGN_ABSOLUTE = 'an absolute-form target naming another host';

function malformedRequests(host: string, route: string): Array<[string, string]> {
  return [
    ['OPTIONS * (asterisk form)', `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    [FOREIGN_ABSOLUTE, `GET http://another-host.invalid${route} HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    ['a bad percent-escape', `GET ${route}%zz HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    ['a 16 KiB path', `GET ${route}/${'a'.repeat(16 * 1024)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    ['a control character in a header', `GET ${route} HTTP/1.1\r\nHost: ${host}\r\nX-Bad: a\u0001b\r\n\r\n`],
    [
      'a body shorter than its Content-Length',
      `POST ${route} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort`,
    ],
  ];
}

describe('malformed requests', () => {
  guard.test(
    'get a 4xx or a closed connection and cost no node its place',
    async ({ suite, judge, skip }) => {
      await suite.createRoute({ path: '/target', image: suite.image('sleep'), format: 'http' });
      const { keys, before } = await referencePlacement(
        suite,
        await placementKeys(suite, 'malformed', guard.workload.placement),
      );
      const paths = keys.paths;
      // Without a placement to compare with, the requests are still judged: a refusal that fails is
      // a failure whatever else could not be measured, and only a pass becomes a skip.
      const unmeasurable = placementUnmeasurable(before, keys);
      const host = new URL(suite.info.lbUrl).host;
      const route = suite.invokePath('/target');
      // The node's header, else the hostname its function reports (a balancer may hide its nodes).
      const routeNode = suite.nodeOfAnswer(await suite.lb.send('GET', route));
      const checks: Check[] = [];
      const context: string[] = [`placed: ${keys.description}`];
      for (const [what, bytes] of malformedRequests(host, route)) {
        // A short body cannot be told from a slow one: the client gives up after a moment and closes.
        const answer = await rawRequest(host, bytes, what.includes('shorter') ? 2000 : 10_000, {
          halfClose: true,
        });
        const refused =
          answer.status === undefined
            ? answer.ended !== 'timeout'
            : answer.status >= 400 && answer.status < 500;
        const servedAsPath =
          what === FOREIGN_ABSOLUTE &&
          answer.status === 200 &&
          routeNode !== undefined &&
          suite.nodeOfAnswer(answer) === routeNode;
        checks.push(
          what === FOREIGN_ABSOLUTE
            ? atLeast(
                `${what} refused (4xx or closed) or served as its path`,
                refused || servedAsPath ? 1 : 0,
                required(1, 'the balancer may serve it like its path, on the route’s node, or refuse it'),
              )
            : atLeast(
                `${what} refused (4xx or closed)`,
                refused ? 1 : 0,
                required(1, 'the balancer must refuse what it cannot forward, not pass it on or hang'),
              ),
        );
        const servedBy =
          answer.status === 200
            ? ` (served by ${suite.nodeOfAnswer(answer) ?? 'an unnamed node'}, the route is on ${routeNode ?? 'an unnamed node'})`
            : '';
        context.push(
          `${what}: ${answer.status ?? answer.ended} ${answer.head.split('\r\n')[0] ?? ''}${servedBy}`,
        );
      }
      if (unmeasurable) {
        const notJudged = `not judged: whether a node lost its place (${unmeasurable})`;
        if (failedChecks(checks).length > 0) judge(checks, [...context, notJudged]);
        skip(unmeasurable, context);
      }
      // No second asking here: a request that poisoned a pooled connection fails exactly one call.
      const after = await placement(suite, keys, { retry: false });
      context.push(...placementFailures(after));
      const movedPaths = paths.filter((path) => after.nodeOf.get(path) !== before.nodeOf.get(path));
      const moved = movedPaths.length;
      context.push(
        ...movedPaths
          .slice(0, 5)
          .map(
            (path) =>
              `${path}: was on ${before.nodeOf.get(path)}, now ${after.nodeOf.get(path) ?? 'nowhere'}`,
          ),
      );
      const { records } = await suite.drive(['/target'], CALLS, 8);
      const succeeded = records.filter((record) => record.ok).length;
      checks.push(
        atMost(
          'routes served by another node afterwards',
          moved,
          required(0, 'a malformed request must never take a node out'),
        ),
        atLeast(
          'calls that succeed afterwards',
          succeeded,
          required(CALLS, 'the balancer must serve as before'),
        ),
      );
      judge(checks, context);
    },
    { timeout: PLACEMENT_TEST_TIMEOUT_MS },
  );
});
