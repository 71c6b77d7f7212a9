// Stickiness (balancer): sequential calls to one route (100 at full scale) reach one node; and every spelling of a
// route's path that the node reads as that route (a trailing /, a doubled /, a query string,
// %-escaped unreserved characters, an absolute-form target) reaches the route's node too, or a client
// could move a route off its hot containers by spelling its URL differently. The spellings are sent
// one at a time, so only the balancer's reading of the path decides where they go, never its load.
import { describe } from 'vitest';
import { pathVariantChecks, stickinessChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import { callsPerNode } from '../../guard/engine/suite-file.js';
import { exactGet } from '../../guard/measure/raw-http.js';

const guard = guardProperty('sticky');
const { calls: CALLS, variantRoutes: VARIANT_ROUTES } = guard.workload.sticky;

describe('one route, sequential calls', () => {
  guard.test('stay on one node', async ({ suite, judge, bounds }) => {
    await suite.createRoute({ path: '/primes', image: suite.image('primes'), format: 'http' });
    const { records } = await suite.drive(['/primes'], CALLS, 1, '?max=1000&loops=1');
    const perNode = callsPerNode(records, suite.nodes);
    judge(stickinessChecks(bounds, perNode, CALLS), [`calls per node: ${JSON.stringify(perNode)}`]);
  });
});

describe('spellings of a route path', () => {
  guard.test('reach the route’s node', async ({ suite, judge }) => {
    const routes = Array.from({ length: VARIANT_ROUTES }, (_, index) => `/spell-${index}`);
    await suite.createRoutes(routes.map((path) => ({ path, image: suite.image('sleep'), format: 'http' })));
    const lb = new URL(suite.info.lbUrl);
    const nodeOf = (answer: { headers: Record<string, unknown>; body: string }) => suite.nodeOfAnswer(answer);
    const spellings = (path: string) => {
      const plain = suite.invokePath(path);
      const escaped = plain.replace('/spell-', '/%73pell%2D');
      return [
        `${plain}/`,
        plain.replace(`/${suite.app}/`, `/${suite.app}//`),
        `${plain}?variant=1`,
        escaped,
        `http://${lb.host}${plain}`,
      ];
    };
    const details: string[] = [];
    let variants = 0;
    let elsewhere = 0;
    let failed = 0;
    for (const path of routes) {
      const home = await exactGet(suite.info.lbUrl, suite.invokePath(path));
      const homeNode = home.status === 200 ? nodeOf(home) : undefined;
      if (homeNode === undefined) {
        failed++;
        details.push(`${path}: plain spelling answered ${home.status} ${home.body.slice(0, 100)}`);
        continue;
      }
      for (const target of spellings(path)) {
        variants++;
        const answer = await exactGet(suite.info.lbUrl, target);
        if (answer.status !== 200) {
          failed++;
          details.push(`${target}: ${answer.status} ${answer.body.slice(0, 100)}`);
        } else if (nodeOf(answer) !== homeNode) {
          elsewhere++;
          details.push(`${target}: served by ${nodeOf(answer)}, the route is on ${homeNode}`);
        }
      }
    }
    judge(pathVariantChecks({ variants, elsewhere, failed }), [
      `${variants} spellings of ${routes.length} routes`,
      ...details.slice(0, 20),
    ]);
  });
});
