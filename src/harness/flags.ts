// The fnlb-harness command line: the historic Go harness's flags with their defaults and spelling
// (-lb, -nodes, -route, -calls, -max, -loops, -v), plus -routes and -concurrency (which the historic
// one lacked) and what a CI gate needs (time bounds, report files, threshold flags). Parsing is the
// shared Go-style parser; this module only adds the checks that need more than one flag or a format.
import { parseGoDuration } from '../common/duration.js';
import { FlagError, type FlagValues, formatGoUsage, parseGoFlags } from '../common/go-flags.js';
import { EXIT_CODES_HELP } from './exit-codes.js';

export const HARNESS_FLAGS = {
  lb: { kind: 'string', default: 'localhost:8081', usage: 'host and port of load balancer' },
  nodes: {
    kind: 'string',
    default: 'localhost:8080',
    usage:
      'comma-delimited list of nodes (host:port) balanced by the load balancer (needed to discover the id of each)',
  },
  route: {
    kind: 'string',
    default: '/r/primesapp/primes',
    usage: 'path representing the route to the primes function',
  },
  calls: { kind: 'int', default: 100, min: 1, usage: 'number of times to call the route' },
  max: {
    kind: 'int',
    default: 1000000,
    min: 3,
    usage: 'maximum number to search for primes (higher number consumes more memory)',
  },
  loops: {
    kind: 'int',
    default: 1,
    min: 1,
    usage: "number of times to execute the primes calculation (ex: '-loops 2' means run it twice)",
  },
  v: { kind: 'bool', default: false, usage: 'verbose output: one line per call' },
  routes: {
    kind: 'int',
    default: 0,
    min: 0,
    usage:
      'create N routes cloned from -route (<path>-0001...), spread the calls over them, delete them afterwards (0: call -route itself)',
  },
  'keep-routes': { kind: 'bool', default: false, usage: 'leave the routes created by -routes in place' },
  concurrency: { kind: 'int', default: 1, min: 1, usage: 'calls in flight at once' },
  timeout: { kind: 'string', default: '60s', usage: 'deadline of each call (Go duration)' },
  deadline: {
    kind: 'string',
    default: '10m',
    usage: 'stop starting calls after this long (Go duration); the calls not made are reported',
  },
  json: { kind: 'string', default: '', usage: 'write the full report as JSON to this file' },
  svg: { kind: 'string', default: '', usage: 'write a bar chart of executions per node as SVG to this file' },
  'max-nodes-per-route': {
    kind: 'int',
    default: 0,
    min: 0,
    usage: 'fail (exit 1) when a route was served by more nodes than this (0: no check)',
  },
  'min-home-share': {
    kind: 'float',
    default: 0,
    min: 0,
    max: 1,
    usage:
      "fail (exit 1) when a route's share of calls on its most-used node is below this, 0..1 (0: no check)",
  },
  'max-load-ratio': {
    kind: 'float',
    default: 0,
    min: 0,
    usage:
      'fail (exit 1) when the busiest node served more than this times the mean executions per node, e.g. 1.5 (0: no check)',
  },
  'max-failures': {
    kind: 'int',
    default: -1,
    min: -1,
    usage: 'fail (exit 1) when more calls than this failed (-1: no check)',
  },
} as const;

export interface HarnessOptions {
  lb: string;
  nodes: string[];
  route: string;
  calls: number;
  max: number;
  loops: number;
  verbose: boolean;
  routes: number;
  keepRoutes: boolean;
  concurrency: number;
  timeoutMs: number;
  deadlineMs: number;
  jsonFile: string | undefined;
  svgFile: string | undefined;
  thresholds: ThresholdBounds;
}

/** Bounds given by the threshold flags; undefined means the check is off. */
export interface ThresholdBounds {
  maxNodesPerRoute: number | undefined;
  minHomeShare: number | undefined;
  maxLoadRatio: number | undefined;
  maxFailures: number | undefined;
}

export type ParseOutcome =
  | { kind: 'ok'; options: HarnessOptions }
  | { kind: 'help'; usage: string }
  | { kind: 'error'; message: string; usage: string };

export function harnessUsage(): string {
  return `${formatGoUsage(
    'fnlb-harness',
    HARNESS_FLAGS,
    'Calls a route through fnlb and reports how the calls were distributed over the nodes.',
  )}\n${EXIT_CODES_HELP}\n`;
}

// host:port, with a bracketed IPv6 literal allowed; no scheme, since the historic harness took none.
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

function hostPort(flag: string, text: string): string {
  const match = HOST_PORT.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new FlagError(`invalid value ${JSON.stringify(text)} for flag -${flag}: expected host:port`);
  }
  return text.trim();
}

function duration(flag: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new FlagError(
      `invalid value ${JSON.stringify(text)} for flag -${flag}: expected a positive Go duration such as 30s or 500ms`,
    );
  }
  return ms;
}

/** `/r/<app><path>` split into the app and the route path the Fn API names it by. */
export function splitInvokePath(route: string): { app: string; path: string } | undefined {
  const match = /^\/r\/([^/]+)(\/.+)$/.exec(route);
  return match ? { app: match[1] as string, path: match[2] as string } : undefined;
}

function build(values: FlagValues<typeof HARNESS_FLAGS>): HarnessOptions {
  const nodes: string[] = [];
  for (const part of values.nodes.split(',')) {
    if (part.trim() === '') continue;
    const node = hostPort('nodes', part);
    if (!nodes.includes(node)) nodes.push(node);
  }
  if (nodes.length === 0) throw new FlagError('invalid value "" for flag -nodes: expected host:port,...');
  const route = values.route;
  if (!route.startsWith('/') || /[?#\s]/.test(route)) {
    throw new FlagError(
      `invalid value ${JSON.stringify(route)} for flag -route: expected a path such as /r/app/route, without a query`,
    );
  }
  if (values.routes > 0 && splitInvokePath(route) === undefined) {
    throw new FlagError(
      `invalid value ${JSON.stringify(route)} for flag -route: -routes clones it through the Fn API, so it must look like /r/<app>/<path>`,
    );
  }
  if (values.routes > values.calls) {
    throw new FlagError(
      `invalid value "${values.routes}" for flag -routes: more routes than -calls (${values.calls}) leaves routes uncalled`,
    );
  }
  return {
    lb: hostPort('lb', values.lb),
    nodes,
    route,
    calls: values.calls,
    max: values.max,
    loops: values.loops,
    verbose: values.v,
    routes: values.routes,
    keepRoutes: values['keep-routes'],
    concurrency: values.concurrency,
    timeoutMs: duration('timeout', values.timeout),
    deadlineMs: duration('deadline', values.deadline),
    jsonFile: values.json === '' ? undefined : values.json,
    svgFile: values.svg === '' ? undefined : values.svg,
    thresholds: {
      maxNodesPerRoute: values['max-nodes-per-route'] > 0 ? values['max-nodes-per-route'] : undefined,
      minHomeShare: values['min-home-share'] > 0 ? values['min-home-share'] : undefined,
      maxLoadRatio: values['max-load-ratio'] > 0 ? values['max-load-ratio'] : undefined,
      maxFailures: values['max-failures'] >= 0 ? values['max-failures'] : undefined,
    },
  };
}

export function parseHarnessFlags(argv: readonly string[]): ParseOutcome {
  const usage = harnessUsage();
  try {
    const parsed = parseGoFlags(argv, HARNESS_FLAGS);
    if (parsed.help) return { kind: 'help', usage };
    if (parsed.positionals.length > 0) {
      throw new FlagError(
        `unexpected argument ${JSON.stringify(parsed.positionals[0])}: flags look like -name value`,
      );
    }
    return { kind: 'ok', options: build(parsed.values) };
  } catch (error) {
    if (error instanceof FlagError) return { kind: 'error', message: error.message, usage };
    throw error;
  }
}
