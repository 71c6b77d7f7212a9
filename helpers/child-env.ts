// The environment of a program of this project that the helpers start (fn-node, fnlb: a compiled entry
// run by ManagedProcess): the few variables of the caller's that any program needs to run, and what
// the caller passes; nothing else. A guard or test run's own variables (FN_TOPOLOGY, FNLB_CMD, FNG_*,
// a shell's FN_MAX_STARTS) must not change what the system under test does, so a test that wants a
// node or balancer setting says so. Left out on purpose, among the rest: NODE_OPTIONS (a debugger's
// --inspect or a runner's --require would enter every child; flags for Node go in nodeArgs), NODE_ENV
// (Vitest sets it), PG* (a node's database is the URL it is given, all of it).

/**
 * Where programs are (the process driver's functions, prlimit, setpriv), the home directory, where
 * temporary files go (Node's os.tmpdir() reads TMPDIR, then TMP, then TEMP), language and time zone,
 * and the machine's Docker engine (the docker driver, and `auto` choosing it).
 */
const INHERITED = new Set(['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'TZ', 'DOCKER_HOST']);
const LOCALE = /^LC_[A-Z_]+$/;

/** The inherited part of `caller`, with `given` over it. */
export function childEnvironment(
  given: Record<string, string> = {},
  caller: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const inherited = Object.entries(caller).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined && (INHERITED.has(entry[0]) || LOCALE.test(entry[0])),
  );
  return { ...Object.fromEntries(inherited), ...given };
}
