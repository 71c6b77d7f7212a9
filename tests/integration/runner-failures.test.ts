// Functions that crash, hang or break their framing: the caller gets 502/504 with a JSON error,
// the container is killed (checked by pid) and never reused; idle containers stop after idle_timeout.
import { describe, expect, it } from 'vitest';
import { exists, functionProcesses } from '../../helpers/proc.js';
import { waitForValue, waitUntil } from '../../helpers/wait.js';
import { FN_HEADERS } from '../../src/common/wire.js';
import { runnerNodeForFile, uniqueApp } from './support/runner-node.js';

/** How long a killed or stopped function process may take to disappear. */
const EXIT_DEADLINE_MS = 10_000;

const rn = runnerNodeForFile();

/** The pid of the node's function process for `container`, waiting for it to show up. */
function pidOf(container: string): Promise<number> {
  return waitForValue(
    `the function process of container ${container}`,
    () => functionProcesses(rn.node.pid).get(container),
    EXIT_DEADLINE_MS,
  );
}

/** Waits for the process to be gone, failing with what was awaited. */
function gone(pid: number | undefined, what: string): Promise<number> {
  return waitUntil(`${what} (pid ${pid}) gone`, () => !exists(pid as number), EXIT_DEADLINE_MS);
}

describe('failing functions', () => {
  for (const format of ['http', 'json', 'default'] as const) {
    it(`a crash mid-call (${format}) answers 502 JSON; the next call gets a fresh container`, async () => {
      const app = uniqueApp('crash');
      await rn.api.createRoute(app, { path: '/crash', image: 'localhost/fnlb-guard/crash', format });
      // Warm a container first (except default, which never keeps one) so the crash hits a hot one.
      const warm = format === 'default' ? undefined : await rn.api.call(app, '/crash', '?ok=1');
      if (warm) expect(warm.status, warm.body).toBe(200);
      const warmPid = warm && (await pidOf(warm.headers[FN_HEADERS.container] ?? ''));
      const crashed = await rn.api.call(app, '/crash');
      expect(crashed.status).toBe(502);
      expect(JSON.parse(crashed.body).error.message).toMatch(/exited with code 3/);
      if (warm) {
        expect(crashed.headers[FN_HEADERS.container]).toBe(warm.headers[FN_HEADERS.container]);
        expect(warmPid).toBeDefined();
        await gone(warmPid, 'the crashed warm container');
      }
      const next = await rn.api.call(app, '/crash', '?ok=1');
      expect(next.status, next.body).toBe(200);
      expect(next.headers[FN_HEADERS.container]).not.toBe(crashed.headers[FN_HEADERS.container]);
      expect(next.headers[FN_HEADERS.cold]).toBe('true');
    });
  }

  for (const format of ['http', 'json'] as const) {
    it(`broken ${format} framing answers 502 JSON and the container is killed`, async () => {
      const app = uniqueApp('garble');
      await rn.api.createRoute(app, { path: '/garble', image: 'localhost/fnlb-guard/garble', format });
      const first = await rn.api.call(app, '/garble');
      expect(first.status).toBe(502);
      expect(JSON.parse(first.body).error.message).toMatch(
        new RegExp(`invalid ${format} response from function`),
      );
      const container = first.headers[FN_HEADERS.container] ?? '';
      await waitUntil(
        `the killed container ${container} gone`,
        () => !functionProcesses(rn.node.pid).has(container),
        EXIT_DEADLINE_MS,
      );
      const second = await rn.api.call(app, '/garble');
      expect(second.status).toBe(502);
      expect(second.headers[FN_HEADERS.container]).not.toBe(container);
    });
  }

  it('a hung call answers 504 at its timeout and its container is gone', async () => {
    const app = uniqueApp('hang');
    const timeoutS = 1;
    await rn.api.createRoute(app, {
      path: '/hang',
      image: 'localhost/fnlb-guard/sleep',
      format: 'http',
      timeout: timeoutS,
    });
    const before = new Set(functionProcesses(rn.node.pid).values());
    const started = Date.now();
    const hung = rn.api.call(app, '/hang', '?ms=60000');
    const pid = await waitForValue(
      "the hung call's function process",
      () => [...functionProcesses(rn.node.pid).values()].find((candidate) => !before.has(candidate)),
      EXIT_DEADLINE_MS,
    );
    const result = await hung;
    const elapsed = Date.now() - started;
    expect(result.status).toBe(504);
    expect(JSON.parse(result.body)).toEqual({ error: { message: 'Timed out' } });
    // Not before its timeout; the upper bound only catches a call that waited for the 60 s sleep.
    expect(elapsed).toBeGreaterThanOrEqual(timeoutS * 1000);
    expect(elapsed).toBeLessThan(30_000);
    await gone(pid, 'the timed-out container');
    const container = result.headers[FN_HEADERS.container] ?? '';
    expect(
      functionProcesses(rn.node.pid).has(container),
      `a process of timed-out container ${container}`,
    ).toBe(false);
  });

  it('stops idle containers after idle_timeout', async () => {
    const app = uniqueApp('idle');
    await rn.api.createRoute(app, {
      path: '/idle',
      image: 'localhost/fnlb-guard/echo',
      format: 'http',
      idle_timeout: 1,
    });
    const stoppedBefore = (await rn.stats()).containers.stopped;
    const result = await rn.api.call(app, '/idle', '', 'x');
    expect(result.status).toBe(200);
    const pid = await pidOf(result.headers[FN_HEADERS.container] ?? '');
    await gone(pid, 'the idle container');
    const stats = await rn.stats();
    expect(stats.containers.stopped).toBeGreaterThan(stoppedBefore);
    expect(stats.containers.evicted).toBe(0);
  });
});
