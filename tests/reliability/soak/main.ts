// `npm run soak -- --minutes N`: the soak of soak.ts as a command, for runs longer than the one-minute
// version in `npm test`. Prints its samples every 30 s and one line per check; exits 0 when every
// check passed, 1 when one failed, 2 on a bad flag (named in the message), 3 when the cluster could
// not be started or a restart failed.
import { parseArgs } from 'node:util';
import { runSoak, SOAK_DEFAULTS, type SoakOptions } from './soak.js';

const USAGE = `usage: npm run soak -- [--minutes N] [--routes N] [--nodes N] [--concurrency N]
                        [--restart-every SECONDS] [--idle-timeout SECONDS] [--seed N]
  --minutes        load duration (default ${SOAK_DEFAULTS.minutes}; fractions allowed)
  --routes         routes of the mixed load: fast, slow, crashing, cold (default ${SOAK_DEFAULTS.routes})
  --nodes          fn-node processes behind fnlb (default ${SOAK_DEFAULTS.nodes})
  --concurrency    callers in flight (default ${SOAK_DEFAULTS.concurrency})
  --restart-every  mean seconds between node restarts with SIGTERM, 0 for none (default ${SOAK_DEFAULTS.restartEverySeconds})
  --idle-timeout   the routes' idle_timeout, waited for at the end (default ${SOAK_DEFAULTS.idleTimeoutSeconds})
  --seed           seed of the load and the restart schedule (default ${SOAK_DEFAULTS.seed})`;

const FLAGS = {
  minutes: { min: 0.1, max: 24 * 60, integer: false },
  routes: { min: 1, max: 2000, integer: true },
  nodes: { min: 2, max: 20, integer: true },
  concurrency: { min: 1, max: 256, integer: true },
  'restart-every': { min: 0, max: 3600, integer: false },
  'idle-timeout': { min: 1, max: 600, integer: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
} as const;

type Flag = keyof typeof FLAGS;

function usageError(message: string): never {
  console.error(`soak: ${message}\n${USAGE}`);
  process.exit(2);
}

function numberFlag(values: Record<string, unknown>, flag: Flag, fallback: number): number {
  const text = values[flag];
  if (text === undefined) return fallback;
  const { min, max, integer } = FLAGS[flag];
  const value = typeof text === 'string' && text.trim() !== '' ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    usageError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (error) {
  usageError((error as Error).message);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const values = parsed.values as Record<string, unknown>;
const options: SoakOptions = {
  minutes: numberFlag(values, 'minutes', SOAK_DEFAULTS.minutes),
  routes: numberFlag(values, 'routes', SOAK_DEFAULTS.routes),
  nodes: numberFlag(values, 'nodes', SOAK_DEFAULTS.nodes),
  concurrency: numberFlag(values, 'concurrency', SOAK_DEFAULTS.concurrency),
  restartEverySeconds: numberFlag(values, 'restart-every', SOAK_DEFAULTS.restartEverySeconds),
  idleTimeoutSeconds: numberFlag(values, 'idle-timeout', SOAK_DEFAULTS.idleTimeoutSeconds),
  seed: numberFlag(values, 'seed', SOAK_DEFAULTS.seed),
  log: (line) => console.log(line),
};

let verdict: Awaited<ReturnType<typeof runSoak>>;
try {
  verdict = await runSoak(options);
} catch (error) {
  console.error(`soak: could not run: ${(error as Error).stack ?? String(error)}`);
  process.exit(3);
}
for (const line of verdict.lines) console.log(line);
console.log(verdict.ok ? 'soak: pass' : 'soak: FAIL');
process.exit(verdict.ok ? 0 : 1);
