// The soak's one-minute version (`npm run soak` runs it for longer): the mixed load over 200 routes
// through fnlb with nodes restarted on the way, judged by the soak's own checks (tests/reliability/soak/soak.ts):
// no unexpected failure and nothing left at rest; resident memory is sampled and printed, but a minute
// is too short to judge it after warm-up, which the soak says (skip, with the reason).
import { expect, it } from 'vitest';
import { runSoak, SOAK_DEFAULTS } from './soak/soak.js';

it('a one-minute soak: no unexpected failure, nothing left at rest (memory is judged by longer soaks)', async () => {
  const verdict = await runSoak({
    ...SOAK_DEFAULTS,
    minutes: 1,
    restartEverySeconds: 30,
    idleTimeoutSeconds: 10,
    log: (line) => console.log(line),
  });
  for (const line of verdict.lines) console.log(`[soak] ${line}`);
  expect(verdict.tally.calls).toBeGreaterThan(500);
  expect(verdict.ok, verdict.lines.filter((line) => line.startsWith('FAIL')).join('\n')).toBe(true);
}, 240_000);
