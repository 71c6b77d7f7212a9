// The harness's exit statuses, one place, so the CLI, its usage text and the tests agree. CI scripts
// branch on them: 1 means "the balancer misbehaved", 3 means "nothing to measure", never the same thing.
export const EXIT = {
  ok: 0,
  /** A threshold flag failed (the message prints the measured value beside the bound). */
  thresholdFailed: 1,
  /** A flag or its value is wrong (the message names the flag). */
  usage: 2,
  /** The deployment cannot be used: no node discovered, the balancer answered no call, route setup failed. */
  unreachable: 3,
  /** The -json or -svg file could not be written. */
  outputFailed: 4,
  /** Interrupted by SIGINT/SIGTERM (128 + SIGINT), after cleaning up the routes it created. */
  interrupted: 130,
  /** A bug in the harness itself (sysexits' EX_SOFTWARE); the stack goes to stderr. */
  internal: 70,
} as const;

export const EXIT_CODES_HELP = `Exit status:
  0    every call measured, every threshold met
  1    a threshold flag failed (printed with measured value and bound)
  2    a flag or its value is wrong (printed with the flag's name)
  3    the deployment cannot be used: no node of -nodes could be discovered, the balancer answered
       no call, or the routes of -routes could not be read or created
  4    the -json or -svg file could not be written
  70   an internal error of the harness (stack trace on stderr)
  130  interrupted (SIGINT/SIGTERM); routes created by -routes are deleted first`;

export interface RunOutcome {
  /** The balancer gave no HTTP answer to any call made (or discovery/route setup failed before). */
  unreachable: boolean;
  interrupted: boolean;
  outputFailed: boolean;
  thresholdsPassed: boolean;
}

/** The one exit status of a run; "could not measure" outranks "measured badly". */
export function exitStatus(outcome: RunOutcome): number {
  if (outcome.interrupted) return EXIT.interrupted;
  if (outcome.unreachable) return EXIT.unreachable;
  if (outcome.outputFailed) return EXIT.outputFailed;
  if (!outcome.thresholdsPassed) return EXIT.thresholdFailed;
  return EXIT.ok;
}
