// The guard's settings, resolved once from the table (table.ts): flags first, then the GitHub
// Action's inputs (when asked), then environment variables, then defaults. The result is one typed,
// serialisable GuardSettings that the run's setup hands to the test workers (provide/inject): no
// guard code reads a variable by name after this. A wrong value is a SettingsError naming the
// spelling the user wrote; a variable that is not a setting but looks like one (FN_TOPOLGY) is an
// error naming the closest setting, so a typo never silently falls back to a default.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValueError } from './parse.js';
import {
  BOUNDS,
  type BoundKey,
  type MeasureKind,
  SETTINGS,
  type SettingKey,
  type SettingValues,
  tableEntries,
} from './table.js';

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  /**
   * Set on an error found once every value was read (a contradiction, a setting that needs another):
   * the spelling the message names first, and the reports directory the run would have written to.
   */
  readonly where: { setting: string; reports: string } | undefined;

  constructor(message: string, where?: { setting: string; reports: string }) {
    super(message);
    this.where = where;
  }
}

/** One bound as the checks use it: its value in this run and where it came from. */
export interface Threshold {
  value: number;
  /** Its environment variable: how the reports name it. */
  env: string;
  reason: string;
  /** True when this run set it (a flag, an input or the variable). */
  overridden: boolean;
  kind: MeasureKind;
  tolerance: number;
}

export type Bounds = Record<BoundKey, Threshold>;

export interface GuardSettings extends Omit<SettingValues, 'logs'> {
  /** The logs directory: `<reports>/logs` unless set; '' keeps none. */
  logs: string;
  bounds: Bounds;
  /** The spelling that set each setting this run set: `--topology`, `FN_TOPOLOGY`, `input topology`. */
  origin: Partial<Record<SettingKey | BoundKey, string>>;
  /** Why the topology is what it is, when the table's default did not decide it. */
  topologyReason: string | undefined;
}

export interface Resolved {
  settings: GuardSettings;
  /** Lines to print once: deprecated spellings. */
  notices: string[];
  /** The command's own flags that were given (`switches` of the input). */
  switches: Record<string, boolean>;
}

/** Flags of the command itself (--help, --list), which are not settings. */
export type Switches = Record<string, { doc: string; short?: string }>;

export interface ResolveInput {
  /** The command line, flags of the table and --bound; `switches` names the command's own. */
  argv?: readonly string[];
  switches?: Switches;
  env?: Readonly<Record<string, string | undefined>>;
  /** Read the GitHub Action's inputs (INPUT_<NAME>) too, as action.yml runs the guard. */
  actionInputs?: boolean;
  /** Relative paths are the caller's. */
  cwd?: string;
}

interface Raw {
  value: string;
  origin: string;
}

const flagName = (flag: string) => `--${flag}`;
export const inputVariable = (input: string) => `INPUT_${input.toUpperCase().replace(/-/g, '_')}`;

/** Optimal string alignment distance: a transposition costs one, as in a typo. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** The known name closest to `name`, when it is close enough to be what was meant. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(name.toUpperCase(), candidate.toUpperCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const allowed = name.length >= 8 ? 2 : 1;
  return bestDistance <= allowed ? best : undefined;
}

const ENTRIES = tableEntries();
const KNOWN_ENV = ENTRIES.flatMap(([, entry]) => [
  ...(entry.env ? [entry.env] : []),
  ...(entry.deprecated?.env ?? []),
]);
const FLAGS = new Map(
  ENTRIES.flatMap(([key, entry]) =>
    entry.flag === undefined
      ? []
      : [entry.flag, ...(entry.deprecated?.flags ?? [])].map((flag) => [flag, key] as const),
  ),
);
const BOUND_BY_NAME = new Map<string, BoundKey>(
  Object.entries(BOUNDS).flatMap(([key, entry]) => [
    [key, key as BoundKey],
    [entry.env, key as BoundKey],
  ]),
);
/** Prefixes of the guard's variables: an unknown one that looks like a known one is a typo. */
const PREFIXES = /^(FNG|FN|FNLB)_/;

/**
 * `--flag value` as `--flag=value` for flags that take a value: a balancer's arguments start with a
 * dash (`--fnlb-args '-nodes {nodes}'`), which node:util's strict parser would take for a flag.
 */
function joinValues(argv: readonly string[], takesValue: (name: string) => boolean): string[] {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && takesValue(name) && index + 1 < argv.length)
      joined.push(`${arg}=${argv[++index]}`);
    else joined.push(arg);
  }
  return joined;
}

interface ParsedFlags {
  values: Map<SettingKey | BoundKey, Raw>;
  switches: Record<string, boolean>;
  notices: string[];
}

function readFlags(argv: readonly string[], switches: Switches): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    bound: { type: 'string', multiple: true },
  };
  for (const flag of FLAGS.keys()) options[flag] = { type: 'string' };
  for (const [name, spec] of Object.entries(switches)) {
    options[name] = { type: 'boolean', ...(spec.short ? { short: spec.short } : {}) };
  }
  for (const arg of argv) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name !== undefined && !(name in options)) {
      const near = closest(name, Object.keys(options));
      throw new SettingsError(`unknown flag --${name}${near ? `; did you mean --${near}?` : ''}`);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinValues(argv, (name) => options[name]?.type === 'string'),
      options,
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
  const values = new Map<SettingKey | BoundKey, Raw>();
  const notices: string[] = [];
  const result: Record<string, boolean> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (name in switches) {
      result[name] = value === true;
      continue;
    }
    if (name === 'bound') {
      for (const assignment of value as string[]) {
        const [key, raw] = boundAssignment(assignment, '--bound');
        values.set(key, { value: raw, origin: '--bound' });
      }
      continue;
    }
    const key = FLAGS.get(name) as SettingKey;
    const entry = SETTINGS[key];
    if (entry.flag !== name) notices.push(`--${name} is deprecated: use --${entry.flag}`);
    values.set(key, { value: value as string, origin: flagName(name) });
  }
  return { values, switches: result, notices };
}

/** `NAME=VALUE` of a bound, by its key or its variable. */
function boundAssignment(assignment: string, where: string): [BoundKey, string] {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(assignment.trim());
  if (!match) throw new SettingsError(`${where} must be NAME=VALUE, got ${JSON.stringify(assignment)}`);
  const [, name = '', raw = ''] = match;
  const key = BOUND_BY_NAME.get(name);
  if (key === undefined) {
    const near = closest(name, [...BOUND_BY_NAME.keys()]);
    throw new SettingsError(
      `${where}: unknown bound ${name}${near ? `; did you mean ${near}?` : ''} (--list names them)`,
    );
  }
  return [key, raw];
}

function readInputs(env: ResolveInput['env'] & object): Map<SettingKey | BoundKey, Raw> {
  const values = new Map<SettingKey | BoundKey, Raw>();
  for (const [key, entry] of ENTRIES) {
    if (entry.input === undefined) continue;
    const raw = env[inputVariable(entry.input)];
    if (raw !== undefined && raw.trim() !== '') {
      values.set(key as SettingKey, { value: raw.trim(), origin: `input ${entry.input}` });
    } else if (entry.inputDefault !== undefined) {
      // What action.yml's default gives on GitHub, also where the Action's script runs elsewhere.
      values.set(key as SettingKey, { value: entry.inputDefault, origin: `input ${entry.input} (default)` });
    }
  }
  for (const line of (env[inputVariable('bounds')] ?? '').split('\n')) {
    if (line.trim() === '') continue;
    const [key, raw] = boundAssignment(line, 'input bounds');
    values.set(key, { value: raw, origin: 'input bounds' });
  }
  return values;
}

function readEnvironment(env: ResolveInput['env'] & object): {
  values: Map<SettingKey | BoundKey, Raw>;
  notices: string[];
} {
  const values = new Map<SettingKey | BoundKey, Raw>();
  const notices: string[] = [];
  for (const [key, entry] of ENTRIES) {
    for (const name of [...(entry.env ? [entry.env] : []), ...(entry.deprecated?.env ?? [])]) {
      const raw = env[name];
      if (raw === undefined || (raw === '' && !entry.emptyIsValue)) continue;
      if (name !== entry.env) notices.push(`${name} is deprecated: use ${entry.env}`);
      if (!values.has(key as SettingKey)) values.set(key as SettingKey, { value: raw, origin: name });
    }
  }
  for (const name of Object.keys(env)) {
    if (!PREFIXES.test(name) || KNOWN_ENV.includes(name)) continue;
    const near = closest(name, KNOWN_ENV);
    if (near !== undefined) {
      throw new SettingsError(
        `${name} is not a setting of the guard; did you mean ${near}? (fnlb-guard --help lists them)`,
      );
    }
  }
  return { values, notices };
}

function parseValue(key: SettingKey | BoundKey, raw: Raw, cwd: string): unknown {
  const entry = key in SETTINGS ? SETTINGS[key as SettingKey] : BOUNDS[key as BoundKey];
  try {
    return (entry.parse as (raw: string, cwd: string) => unknown)(raw.value, cwd);
  } catch (error) {
    if (error instanceof ValueError) throw new SettingsError(`${raw.origin}: ${error.message}`);
    throw error;
  }
}

/** A contradiction between settings: names the first setting involved and the run's reports. */
type Contradiction = (first: SettingKey, message: string) => SettingsError;

/** Which topology the build settings need, and the setting that says so. */
function impliedTopology(
  values: SettingValues,
  spelled: (key: SettingKey) => string,
  contradiction: Contradiction,
): { kind: 'processes' | 'containers' | 'external'; by: string } | undefined {
  const set = (key: SettingKey) => values[key] !== undefined;
  if (set('lb') !== set('nodes')) {
    throw contradiction(
      set('lb') ? 'lb' : 'nodes',
      `${spelled('lb')} and ${spelled('nodes')} go together: the balancer and the nodes behind it`,
    );
  }
  const builds = (['balancerCommand', 'balancerImage', 'nodeImage'] as const).filter(set);
  if (set('lb') && builds.length > 0) {
    throw contradiction(
      'lb',
      `${spelled('lb')}/${spelled('nodes')} name a running deployment: ${spelled(builds[0] as SettingKey)} has nothing to start`,
    );
  }
  if (set('lb')) return { kind: 'external', by: `${spelled('lb')} and ${spelled('nodes')}` };
  if (set('balancerCommand') && set('balancerImage')) {
    throw contradiction(
      'balancerCommand',
      `${spelled('balancerCommand')} and ${spelled('balancerImage')}: one balancer build at a time`,
    );
  }
  if (set('balancerCommand') && set('nodeImage')) {
    throw contradiction(
      'balancerCommand',
      `${spelled('balancerCommand')} runs on the processes topology, ${spelled('nodeImage')} on containers: not both`,
    );
  }
  if (set('balancerCommand')) return { kind: 'processes', by: spelled('balancerCommand') };
  const image = builds.find((key) => key !== 'balancerCommand');
  return image ? { kind: 'containers', by: spelled(image) } : undefined;
}

export function resolveSettings(input: ResolveInput = {}): Resolved {
  const env = input.env ?? {};
  const cwd = input.cwd ?? process.cwd();
  const flags = readFlags(input.argv ?? [], input.switches ?? {});
  const inputs = input.actionInputs ? readInputs(env) : new Map<SettingKey | BoundKey, Raw>();
  const environment = readEnvironment(env);
  const notices = [...flags.notices, ...environment.notices];
  const chosen = new Map<SettingKey | BoundKey, Raw>([...environment.values, ...inputs, ...flags.values]);

  const values: Record<string, unknown> = {};
  const origin: GuardSettings['origin'] = {};
  for (const [key, entry] of Object.entries(SETTINGS)) {
    const raw = chosen.get(key as SettingKey);
    // A default given as text goes through the parser too (a path made absolute).
    const given =
      raw ?? (typeof entry.default === 'string' ? { value: entry.default, origin: 'default' } : undefined);
    values[key] = given === undefined ? entry.default : parseValue(key as SettingKey, given, cwd);
    if (raw !== undefined) origin[key as SettingKey] = raw.origin;
  }
  const bounds = {} as Bounds;
  for (const [key, entry] of Object.entries(BOUNDS) as [BoundKey, (typeof BOUNDS)[BoundKey]][]) {
    const raw = chosen.get(key);
    if (raw !== undefined) origin[key] = raw.origin;
    bounds[key] = {
      value: raw === undefined ? entry.default : (parseValue(key, raw, cwd) as number),
      env: entry.env,
      reason: entry.doc,
      overridden: raw !== undefined,
      kind: entry.kind,
      tolerance: entry.tolerance,
    };
  }
  const settings = values as unknown as SettingValues;
  const spelled = (key: SettingKey) => origin[key] ?? flagName(SETTINGS[key].flag ?? key);

  const contradiction: Contradiction = (first, message) =>
    new SettingsError(message, { setting: spelled(first), reports: settings.reports });

  let topologyReason = origin.topology;
  const implied = impliedTopology(settings, spelled, contradiction);
  if (implied !== undefined) {
    if (settings.topology === 'auto') {
      settings.topology = implied.kind;
      topologyReason = `${implied.by}${origin.topology ? ` (${origin.topology} auto)` : ''}`;
    } else if (
      settings.topology !== implied.kind &&
      !(implied.kind === 'containers' && settings.topology === 'swarm')
    ) {
      throw contradiction(
        'topology',
        `${spelled('topology')} ${settings.topology} contradicts ${implied.by}, which needs the ${implied.kind} topology`,
      );
    }
  } else if (settings.topology === 'external') {
    // The external topology is a running deployment: without its addresses there is nothing to guard.
    throw contradiction(
      'topology',
      `${spelled('topology')} external needs the running deployment: ${spelled('lb')} host:port and ${spelled('nodes')} host:port,host:port,...`,
    );
  }
  const logs = settings.logs ?? join(settings.reports, 'logs');
  return {
    settings: { ...settings, logs, bounds, origin, topologyReason },
    notices,
    switches: flags.switches,
  };
}
