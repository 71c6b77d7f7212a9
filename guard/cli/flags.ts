// fnguard's flags: what to put under test and how to judge it, turned into the environment the suite
// reads (FN_TOPOLOGY, FN_LB, FNLB_CMD, FNG_* bounds, ...), so a flag and its environment variable are
// one setting. A wrong flag or value throws UsageError naming the flag.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface GuardRequest {
  /** Environment for the suite, on top of the caller's. */
  env: Record<string, string>;
  /** Property ids to run; empty for every one. */
  only: string[];
  list: boolean;
  help: boolean;
  reportsDir: string;
}

export const USAGE = `usage: fnguard [what is under test] [--only p,q] [--reports DIR] [--baseline FILE] [--bound NAME=VALUE ...]
       fnguard --list

What is under test (default: this package's fnlb and fn-node, on processes or containers):
  --lb HOST:PORT          a running balancer (external topology), with --nodes
  --nodes A:P,B:P         the running nodes behind it, as the balancer names them
  --lb-mgmt HOST:PORT     its management API, when not on --lb (FN_LB_MGMT)
  --mgmt-token TOKEN      the management API's token (FNLB_MGMT_TOKEN)
  --fnlb-cmd 'CMD'        a balancer command, placeholders {listen} {nodes} {mgmt} {hc_interval}
                          {upstream_timeout} (processes topology; FNLB_CMD)
  --fnlb-image IMAGE      a balancer image (containers topology; FNLB_IMAGE), args by --fnlb-args
  --fnlb-args 'ARGS'      the image's arguments, same placeholders (FNLB_ARGS)
  --node-image IMAGE      a node image (containers topology; FN_NODE_IMAGE)
  --node-preset P         fn-node or fn: how that image is configured (FN_NODE_PRESET)
  --topology T            processes, containers, swarm, external or auto (FN_TOPOLOGY; default auto)

How it is judged:
  --only P,Q              only these properties (see --list)
  --bound NAME=VALUE      override a bound: NAME is its variable (FNG_STICKY_MAX_NODES) or key
                          (stickyMaxNodes); repeatable; the report marks it
  --baseline FILE         an earlier fnguard.json: counts and ratios may not get worse by more than
                          their tolerance (FNG_BASELINE)
  --reports DIR           where fnguard.json and junit.xml go (FNG_REPORTS; default ./reports)
  --list                  the properties, what each needs, and every bound with its default

Exit status: 0 every property judged holds, 1 one failed, 2 a flag is wrong, 3 the system under
test could not be reached or started, or nothing could be judged.`;

const OPTIONS = {
  lb: { type: 'string' },
  nodes: { type: 'string' },
  'lb-mgmt': { type: 'string' },
  'mgmt-token': { type: 'string' },
  'fnlb-cmd': { type: 'string' },
  'fnlb-image': { type: 'string' },
  'fnlb-args': { type: 'string' },
  'node-image': { type: 'string' },
  'node-preset': { type: 'string' },
  topology: { type: 'string' },
  only: { type: 'string' },
  bound: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  reports: { type: 'string' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const TOPOLOGIES = ['auto', 'processes', 'containers', 'swarm', 'external'];
const HOST_PORT = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

function hostPort(flag: string, value: string): string {
  if (!HOST_PORT.test(value))
    throw new UsageError(`--${flag} must be host:port, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * `bounds`: each bound's key and environment variable (guard/settings/bounds.ts), so --bound can name
 * either; `properties`: the property ids --only may name.
 */
/**
 * `--flag value` as `--flag=value` for the string flags: a balancer's arguments start with a dash
 * (`--fnlb-args '-nodes {nodes}'`), which node:util's strict parser would take for a flag.
 */
function joinValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const option = name === undefined ? undefined : OPTIONS[name as keyof typeof OPTIONS];
    if (option?.type === 'string' && index + 1 < argv.length) joined.push(`${arg}=${argv[++index]}`);
    else joined.push(arg);
  }
  return joined;
}

export function parseGuardFlags(
  argv: readonly string[],
  catalogue: { bounds: Record<string, string>; properties: readonly string[] },
  callerEnv: NodeJS.ProcessEnv = process.env,
): GuardRequest {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({
      args: joinValues(argv),
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const env: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  if ((values.lb === undefined) !== (values.nodes === undefined)) {
    throw new UsageError('--lb and --nodes go together: the balancer and the nodes behind it');
  }
  const builds = ['fnlb-cmd', 'fnlb-image', 'node-image'] as const;
  if (values.lb !== undefined && builds.some((flag) => values[flag] !== undefined)) {
    throw new UsageError(
      '--lb/--nodes name a running deployment: a build flag (--fnlb-cmd, --fnlb-image, --node-image) has nothing to start',
    );
  }
  if (values['fnlb-cmd'] !== undefined && values['node-image'] !== undefined) {
    throw new UsageError('--fnlb-cmd runs on the processes topology, --node-image on containers: not both');
  }
  if (values.lb !== undefined && values.nodes !== undefined) {
    env.FN_LB = hostPort('lb', values.lb);
    env.FN_NODES = values.nodes
      .split(',')
      .map((node) => hostPort('nodes', node.trim()))
      .join(',');
    env.FN_TOPOLOGY = 'external';
  }
  if (values['lb-mgmt'] !== undefined) set('FN_LB_MGMT', hostPort('lb-mgmt', values['lb-mgmt']));
  set('FNLB_MGMT_TOKEN', values['mgmt-token']);
  if (values['fnlb-cmd'] !== undefined && values['fnlb-image'] !== undefined) {
    throw new UsageError('--fnlb-cmd and --fnlb-image: one balancer build at a time');
  }
  if (values['fnlb-cmd'] !== undefined) {
    env.FNLB_CMD = values['fnlb-cmd'];
    env.FN_TOPOLOGY ??= 'processes';
  }
  if (values['fnlb-image'] !== undefined) {
    env.FNLB_IMAGE = values['fnlb-image'];
    env.FN_TOPOLOGY ??= 'containers';
  }
  set('FNLB_ARGS', values['fnlb-args']);
  if (values['node-image'] !== undefined) {
    env.FN_NODE_IMAGE = values['node-image'];
    env.FN_TOPOLOGY ??= 'containers';
  }
  if (values['node-preset'] !== undefined) {
    if (!['fn-node', 'fn'].includes(values['node-preset'])) {
      throw new UsageError(
        `--node-preset must be fn-node or fn, got ${JSON.stringify(values['node-preset'])}`,
      );
    }
    env.FN_NODE_PRESET = values['node-preset'];
  }
  if (values.topology !== undefined) {
    if (!TOPOLOGIES.includes(values.topology)) {
      throw new UsageError(
        `--topology must be one of ${TOPOLOGIES.join(', ')}, got ${JSON.stringify(values.topology)}`,
      );
    }
    if (values.topology !== 'auto' && env.FN_TOPOLOGY !== undefined && env.FN_TOPOLOGY !== values.topology) {
      throw new UsageError(
        `--topology ${values.topology} contradicts the build flags, which need ${env.FN_TOPOLOGY}`,
      );
    }
    // auto: the build flags' topology when they need one.
    if (values.topology !== 'auto' || env.FN_TOPOLOGY === undefined) env.FN_TOPOLOGY = values.topology;
  }
  const only = values.only === undefined ? [] : values.only.split(',').map((id) => id.trim());
  const unknown = only.filter((id) => !catalogue.properties.includes(id));
  if (unknown.length > 0 || (values.only !== undefined && only.length === 0)) {
    throw new UsageError(`--only: unknown property ${unknown.join(', ') || '(none)'}; see --list`);
  }
  for (const assignment of values.bound ?? []) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(assignment);
    if (!match) throw new UsageError(`--bound must be NAME=VALUE, got ${JSON.stringify(assignment)}`);
    const [, name = '', value = ''] = match;
    const variable = Object.hasOwn(catalogue.bounds, name)
      ? catalogue.bounds[name]
      : Object.values(catalogue.bounds).includes(name)
        ? name
        : undefined;
    if (variable === undefined) throw new UsageError(`--bound: unknown bound ${name}; see --list`);
    if (!Number.isFinite(Number(value)))
      throw new UsageError(`--bound ${name}: ${JSON.stringify(value)} is not a number`);
    env[variable] = value;
  }
  if (values.baseline !== undefined) env.FNG_BASELINE = values.baseline;
  const reportsDir = values.reports ?? (callerEnv.FNG_REPORTS || 'reports');
  env.FNG_REPORTS = reportsDir;
  return { env, only, list: values.list ?? false, help: values.help ?? false, reportsDir };
}
