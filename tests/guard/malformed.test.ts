// Malformed requests (balancer): requests an HTTP client library would refuse to send, written raw to
// the balancer's socket. Each must get a 4xx or a closed connection, and none may cost a node its
// place: afterwards 1000 paths land exactly where they did before (no node taken out), and 100 calls
// of a real route succeed.
import { describe } from 'vitest';
import { atLeast, atMost, type Check, required } from '../../helpers/checks.js';
import { guardProperty } from '../../helpers/guard/guard.js';
import { placement, placementUnmeasurable, unroutedPaths } from '../../helpers/guard/placement.js';
import { rawRequest } from '../../helpers/raw-http.js';

const ROUTES = 1000;
const CALLS = 100;
const guard = guardProperty('malformed');

function malformedRequests(host: string, route: string): Array<[string, string]> {
  return [
    ['OPTIONS * (asterisk form)', `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    [
      'an absolute-form target naming another host',
      `GET http://another-host.invalid${route} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    ],
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
      await suite.createRoute({ path: '/target', image: 'fnguard/sleep', format: 'http' });
      const paths = unroutedPaths(suite, 'malformed', ROUTES);
      const before = await placement(suite, paths);
      const unmeasurable = placementUnmeasurable(before, ROUTES);
      if (unmeasurable) skip(unmeasurable);
      const host = new URL(suite.info.lbUrl).host;
      const checks: Check[] = [];
      const context: string[] = [];
      for (const [what, bytes] of malformedRequests(host, suite.invokePath('/target'))) {
        // A short body cannot be told from a slow one: the client gives up after a moment and closes.
        const answer = await rawRequest(host, bytes, what.includes('shorter') ? 2000 : 10_000, {
          halfClose: true,
        });
        const refused =
          answer.status === undefined
            ? answer.ended !== 'timeout'
            : answer.status >= 400 && answer.status < 500;
        checks.push(
          atLeast(
            `${what} refused (4xx or closed)`,
            refused ? 1 : 0,
            required(1, 'the balancer must refuse what it cannot forward, not pass it on or hang'),
          ),
        );
        context.push(`${what}: ${answer.status ?? answer.ended} ${answer.head.split('\r\n')[0] ?? ''}`);
      }
      const after = await placement(suite, paths);
      const moved = paths.filter((path) => after.nodeOf.get(path) !== before.nodeOf.get(path)).length;
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
  );
});
