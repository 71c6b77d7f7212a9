// No duplicate execution (balancer): a call that reached a function runs once, whatever the function
// answers. A function answering 503, 500 or 502 of its own, and one running longer than the balancer
// waits for an answer, must each run exactly once: counted as executions on every node (GET /stats:
// calls answered hot or cold), so it holds for any balancer. Only a call a node refused before running
// it (503 Fn-Refused) may go to another node; fnlb's own tests cover that side.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe } from 'vitest';
import { exactlyOnceChecks } from '../../guard/engine/checks.js';
import { guardProperty } from '../../guard/engine/property.js';
import type { SuiteFile } from '../../guard/engine/suite-file.js';

const STATUSES = [503, 500, 502] as const;
const guard = guardProperty('no-duplicate');
/** Calls per status; how much longer than the balancer's upstream timeout the long call runs. */
const { callsEach: CALLS_EACH, outliveMs: OUTLIVE_MS } = guard.workload.noDuplicate;

async function executions(suite: SuiteFile, path: string): Promise<number> {
  const [hot, cold] = await Promise.all([suite.routeCounter(path, 'hot'), suite.routeCounter(path, 'cold')]);
  return suite.nodes.reduce((sum, node) => sum + (hot[node] ?? 0) + (cold[node] ?? 0), 0);
}

describe('calls whose function fails', () => {
  guard.test('run once when the function answers 503, 500 or 502 itself', async ({ suite, judge }) => {
    await suite.createRoutes(
      STATUSES.map((status) => ({
        path: `/status-${status}`,
        image: suite.image('sleep'),
        format: 'http',
      })),
    );
    const checks = [];
    const context: string[] = [];
    for (const status of STATUSES) {
      const path = `/status-${status}`;
      const answers: number[] = [];
      for (let call = 0; call < CALLS_EACH; call++) {
        answers.push((await suite.lb.send('GET', `${suite.invokePath(path)}?status=${status}`)).status);
      }
      const ran = await executions(suite, path);
      checks.push(...exactlyOnceChecks(`calls answering ${status}`, { calls: CALLS_EACH, executions: ran }));
      context.push(`${path}: clients got ${JSON.stringify(answers)}, the nodes ran it ${ran} times`);
    }
    judge(checks, context);
  });

  guard.test(
    "runs once when the function outlives the balancer's upstream timeout",
    async ({ suite, info, judge, skip }) => {
      const timeoutS = info.balancer.upstreamTimeoutS;
      if (timeoutS === undefined)
        skip("the balancer's upstream timeout is unknown (its command takes no {upstream_timeout})");
      const runMs = (timeoutS as number) * 1000 + OUTLIVE_MS;
      await suite.createRoute({
        path: '/long',
        image: suite.image('sleep'),
        format: 'http',
        timeout: Math.ceil(runMs / 1000) + 10,
      });
      const answer = await suite.lb.send('GET', `${suite.invokePath('/long')}?ms=${runMs}`);
      // The balancer may answer before the function ends: let it finish everywhere it might run.
      await sleep(OUTLIVE_MS + 1000);
      const ran = await executions(suite, '/long');
      judge(exactlyOnceChecks('a call outliving the balancer timeout', { calls: 1, executions: ran }), [
        `a ${runMs} ms call behind a ${timeoutS} s upstream timeout: the client got ${answer.status}; the nodes ran it ${ran} times`,
      ]);
    },
    { timeout: 120_000 },
  );
});
