// The guard's settings: one table read once from flags, Action inputs and variables (in that order of
// precedence), each value typed and each error naming the spelling the user wrote; a typo of a
// variable or flag refused naming the closest setting; the topology a build needs; and the files
// generated from the table and the catalogue (action.yml, docs/configuration.md, the README's table of
// properties, --help) current and complete.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROPERTIES, PROPERTY_IDS } from '../../guard/catalogue.js';
import { GENERATED, GENERATED_SECTIONS, withSections } from '../../guard/settings/generated.js';
import {
  catalogueText,
  costText,
  propertiesTable,
  totalMinutes,
  usageText,
} from '../../guard/settings/render.js';
import {
  inputVariable,
  type ResolveInput,
  resolveSettings,
  SettingsError,
} from '../../guard/settings/resolve.js';
import { BOUNDS, SETTINGS, tableEntries } from '../../guard/settings/table.js';
import { PACKAGE } from '../../src/common/package-root.js';

const CWD = '/work/caller';
const resolved = (input: ResolveInput) => resolveSettings({ cwd: CWD, ...input });
const settingsOf = (input: ResolveInput) => resolved(input).settings;
const refused = (input: ResolveInput): string => {
  try {
    resolved(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
};

describe('resolving the settings', () => {
  it('gives every setting its default when nothing is set, paths made absolute', () => {
    const settings = settingsOf({});
    expect(settings).toMatchObject({
      topology: 'auto',
      nodePreset: 'fn-node',
      reports: join(CWD, 'reports'),
      logs: join(CWD, 'reports/logs'),
      buildImages: true,
      baselineTimings: false,
      dockerHost: '/var/run/docker.sock',
      origin: {},
    });
    expect(settings.bounds.stickyMaxNodes).toMatchObject({
      value: 1,
      overridden: false,
      env: 'FNG_STICKY_MAX_NODES',
    });
    // Handed to the workers by provide/inject: it must survive a structured clone unchanged.
    expect(structuredClone(settings)).toEqual(settings);
  });

  it('reads a flag over an Action input over a variable, and says which spelling set it', () => {
    const env = { FN_TOPOLOGY: 'containers', INPUT_TOPOLOGY: 'swarm' };
    expect(settingsOf({ env })).toMatchObject({
      topology: 'containers',
      origin: { topology: 'FN_TOPOLOGY' },
    });
    expect(settingsOf({ env, actionInputs: true })).toMatchObject({
      topology: 'swarm',
      origin: { topology: 'input topology' },
    });
    expect(settingsOf({ env, actionInputs: true, argv: ['--topology', 'processes'] })).toMatchObject({
      topology: 'processes',
      origin: { topology: '--topology' },
    });
  });

  it('chooses the topology a build needs, by flag or by variable', () => {
    expect(
      settingsOf({ argv: ['--lb', 'http://10.0.0.5:8081/', '--nodes', 'a:8080, b:8080'] }),
    ).toMatchObject({
      topology: 'external',
      lb: '10.0.0.5:8081',
      nodes: ['a:8080', 'b:8080'],
    });
    expect(settingsOf({ env: { FNLB_CMD: './fnlb -nodes {nodes}' } })).toMatchObject({
      topology: 'processes',
      topologyReason: 'FNLB_CMD',
    });
    for (const extra of [[], ['--topology', 'auto']]) {
      expect(
        settingsOf({
          argv: ['--fnlb-image', 'my/fnlb:ci', '--fnlb-args', '-nodes {nodes} -listen {listen}', ...extra],
        }),
      ).toMatchObject({
        topology: 'containers',
        balancerImage: 'my/fnlb:ci',
        balancerArgs: '-nodes {nodes} -listen {listen}',
      });
    }
    // An image runs on Swarm too.
    expect(settingsOf({ argv: ['--node-image', 'fn:1', '--topology', 'swarm'] }).topology).toBe('swarm');
  });

  it('refuses contradictions, naming the spellings used', () => {
    expect(refused({ argv: ['--lb', 'x:1'] })).toContain('--lb and --nodes go together');
    expect(refused({ env: { FN_NODES: 'x:1' } })).toContain('--lb and FN_NODES go together');
    expect(refused({ argv: ['--lb', 'x:1', '--nodes', 'y:2', '--fnlb-image', 'i'] })).toContain(
      'a running deployment',
    );
    expect(refused({ argv: ['--fnlb-command', 'x', '--node-image', 'i'] })).toContain('not both');
    expect(refused({ argv: ['--fnlb-image', 'i', '--topology', 'processes'] })).toContain(
      '--topology processes contradicts --fnlb-image',
    );
    expect(refused({ env: { FN_TOPOLOGY: 'containers', FNLB_CMD: 'x' } })).toContain(
      'FN_TOPOLOGY containers contradicts FNLB_CMD',
    );
    expect(refused({ argv: ['--topology', 'external'] })).toBe(
      '--topology external needs the running deployment: --lb host:port and --nodes host:port,host:port,...',
    );
    expect(refused({ env: { FN_TOPOLOGY: 'external', FN_LB: 'x:1' } })).toContain(
      'FN_LB and --nodes go together',
    );
  });

  it('says which setting a contradiction names first and where the run would have reported', () => {
    try {
      resolved({ argv: ['--topology', 'external', '--reports', 'out'] });
      expect.unreachable('accepted --topology external without --lb');
    } catch (error) {
      expect((error as SettingsError).where).toEqual({ setting: '--topology', reports: join(CWD, 'out') });
    }
    // A value that cannot be read at all leaves the run without settings to report to.
    try {
      resolved({ argv: ['--only', 'nope'] });
    } catch (error) {
      expect((error as SettingsError).where).toBeUndefined();
    }
  });

  it.each<[ResolveInput, string]>([
    [{ argv: ['--topology', 'k8s'] }, '--topology: expected one of auto, processes'],
    [{ env: { FN_NODE_PRESET: 'kubernetes' } }, 'FN_NODE_PRESET: expected one of fn-node, fn'],
    [{ env: { FN_NODE_START: 'later' } }, 'FN_NODE_START: expected one of parallel, sequential'],
    [{ env: { FN_POSTGRES_AUTH: 'password' } }, 'FN_POSTGRES_AUTH: expected one of'],
    [{ env: { FN_NODE_ENV: 'DB={database}' } }, 'FN_NODE_ENV: unknown placeholder {database}'],
    [{ env: { FN_NODE_ENV: 'no-equals-sign' } }, 'FN_NODE_ENV: "no-equals-sign" is not KEY=value'],
    [{ argv: ['--fnlb-command', 'lb {listen} {node}'] }, '--fnlb-command: unknown placeholder {node}'],
    [{ argv: ['--only', 'sticky,nope'] }, '--only: unknown property nope'],
    [{ argv: ['--nodes', 'a', '--lb', 'b:1'] }, '--nodes: expected host:port, got "a"'],
    [{ env: { FN_LB_HC_INTERVAL: '0' } }, 'FN_LB_HC_INTERVAL: expected a number above 0'],
    [{ env: { FN_BUILD_IMAGES: 'maybe' } }, 'FN_BUILD_IMAGES: expected 1 or 0'],
    [{ env: { DOCKER_HOST: 'tcp://10.0.0.1:2375' } }, 'DOCKER_HOST: expected unix:///path/to/docker.sock'],
    [{ argv: ['--bound', 'stickyMaxNodes=many'] }, '--bound: "many" is not a number'],
    [{ argv: ['--bound', 'constructor=1'] }, '--bound: unknown bound constructor'],
    [{ env: { INPUT_BOUNDS: 'stickyMaxNodes' }, actionInputs: true }, 'input bounds must be NAME=VALUE'],
  ])('refuses %j, naming the spelling', (input, message) => {
    expect(refused(input)).toContain(message);
  });

  it('refuses a variable or flag that looks like a setting, naming the closest one', () => {
    expect(refused({ env: { FN_TOPOLGY: 'processes' } })).toBe(
      'FN_TOPOLGY is not a setting of the guard; did you mean FN_TOPOLOGY? (fnlb-guard --help lists them)',
    );
    expect(refused({ env: { FNG_STICKY_MAX_NODE: '2' } })).toContain('did you mean FNG_STICKY_MAX_NODES?');
    expect(refused({ env: { FNLB_IMGAE: 'x' } })).toContain('did you mean FNLB_IMAGE?');
    expect(refused({ argv: ['--topolgy', 'processes'] })).toBe(
      'unknown flag --topolgy; did you mean --topology?',
    );
    expect(refused({ argv: ['--bound', 'stickyMaxNode=2'] })).toContain('did you mean stickyMaxNodes?');
    // Variables of the node, the balancer and this repository's tests share the prefixes, and pass.
    expect(() =>
      resolved({ env: { FN_DRIVER: 'process', FN_MAX_STARTS: '64', FNLB_LOG_LEVEL: 'warn', FNG_BITE: '0' } }),
    ).not.toThrow();
  });

  it('sets bounds by key, by variable, by Action input and by the variable itself, and marks them', () => {
    const settings = settingsOf({
      argv: ['--bound', 'stickyMaxNodes=2', '--bound', 'FNG_SPILL_MAX_NODES=3'],
      env: {
        FNG_HOT_MAX_CONTAINERS: '4',
        INPUT_BOUNDS: 'FNG_BALANCE_MAX_OVER_MEAN=2\n  balanceMinNodeShare=0.25\n',
      },
      actionInputs: true,
    });
    expect(settings.bounds.stickyMaxNodes).toMatchObject({ value: 2, overridden: true });
    expect(settings.bounds.spillMaxNodes.value).toBe(3);
    expect(settings.bounds.hotMaxContainers.value).toBe(4);
    expect(settings.bounds.balanceMaxOverMean.value).toBe(2);
    expect(settings.bounds.balanceMinNodeShare.value).toBe(0.25);
    expect(settings.bounds.spillMinNodes.overridden).toBe(false);
    expect(settings.origin).toMatchObject({
      stickyMaxNodes: '--bound',
      hotMaxContainers: 'FNG_HOT_MAX_CONTAINERS',
    });
  });

  it('keeps a value that starts with a dash, and a deprecated spelling with a line saying so', () => {
    const { settings, notices } = resolved({ argv: ['--fnlb-cmd', '-x {listen}'] });
    expect(settings.balancerCommand).toBe('-x {listen}');
    expect(notices).toEqual(['--fnlb-cmd is deprecated: use --fnlb-command']);
  });

  it('takes an empty logs variable as "keep none", and other empty variables as unset', () => {
    expect(settingsOf({ env: { FNG_LOGS: '', FNLB_ARGS: '' } })).toMatchObject({
      logs: '',
      balancerArgs: undefined,
    });
  });

  it("reads the Action inputs only when asked, with the Action's own defaults", () => {
    expect(settingsOf({ env: { INPUT_ONLY: 'sticky' } })).toMatchObject({
      only: undefined,
      reports: join(CWD, 'reports'),
    });
    expect(settingsOf({ env: { INPUT_ONLY: 'sticky, herd' }, actionInputs: true })).toMatchObject({
      only: ['sticky', 'herd'],
      reports: join(CWD, 'fnlb-guard-reports'),
    });
  });
});

describe('what is generated from the table', () => {
  it('--list gives every property its cost at the scale chosen, and the whole run its duration', () => {
    const list = catalogueText(resolved({ env: {} }).settings);
    const quickList = catalogueText(resolved({ env: { FNG_SCALE: 'quick' } }).settings);
    for (const id of PROPERTY_IDS) {
      const property = PROPERTIES[id];
      for (const scale of ['full', 'quick'] as const) {
        expect(property.cost[scale].seconds, id).toBeGreaterThan(0);
        expect(property.cost[scale].calls, id).toBeGreaterThan(0);
      }
      // A quick run never costs more than a full one.
      expect(property.cost.quick.seconds, id).toBeLessThanOrEqual(property.cost.full.seconds);
      expect(property.cost.quick.calls, id).toBeLessThanOrEqual(property.cost.full.calls);
      expect(list, id).toContain(costText(property, 'full'));
      expect(quickList, id).toContain(costText(property, 'quick'));
    }
    expect(costText(PROPERTIES.balance, 'full')).toBe(
      'cost: about 125 s, 2000 calls, up to 500 containers started',
    );
    expect(costText(PROPERTIES.balance, 'quick')).toBe(
      'cost at quick scale: about 50 s, 400 calls, up to 200 containers started',
    );
    expect(list).toMatch(/All of them: about \d+ min/);
    expect(totalMinutes('quick')).toBeLessThan(totalMinutes('full'));
    expect(quickList).toContain(`All of them: about ${totalMinutes('quick')} min`);
    expect(list).toContain(
      'localhost/fnlb-guard/primes, localhost/fnlb-guard/sleep, localhost/fnlb-guard/echo',
    );
    const elsewhere = catalogueText(
      resolved({ env: { FNG_FUNCTION_IMAGES: 'registry.example.com/team/fng-' } }).settings,
    );
    expect(elsewhere).toContain('registry.example.com/team/fng-primes');
    expect(() => resolved({ env: { FNG_FUNCTION_IMAGES: 'Bad Prefix/' } })).toThrow(/FNG_FUNCTION_IMAGES/);
  });

  it.each(Object.keys(GENERATED))('%s is current (npm run docs:guard writes it)', (file) => {
    expect(readFileSync(join(PACKAGE.root, file), 'utf8')).toBe(GENERATED[file]?.());
  });

  it.each(Object.keys(GENERATED_SECTIONS))(
    '%s: its generated sections are current (npm run docs:guard)',
    (file) => {
      const committed = readFileSync(join(PACKAGE.root, file), 'utf8');
      expect(committed).toBe(withSections(file, committed, GENERATED_SECTIONS[file] ?? {}));
    },
  );

  it("the README's table of properties: every property, what it implicates, proves and costs", () => {
    const table = propertiesTable();
    const readme = readFileSync(join(PACKAGE.root, 'README.md'), 'utf8');
    expect(readme).toContain(table);
    for (const id of PROPERTY_IDS) {
      const property = PROPERTIES[id];
      const row = table.split('\n').find((line) => line.startsWith(`| [\`${id}\`]`));
      expect(row, id).toBeDefined();
      expect(row).toContain(`](tests/guard/${id}.test.ts) | ${property.implicates} | ${property.summary} |`);
      expect(row).toContain(`about ${property.cost.full.seconds} s, ${property.cost.full.calls} calls`);
    }
    expect(table).toContain(`All of them: about ${totalMinutes()} min`);
    expect(catalogueText(settingsOf({}))).toContain(`All of them: about ${totalMinutes()} min`);
  });

  it('writes a generated section only between its markers, and refuses a file without them', () => {
    const sections = { part: () => 'new' };
    expect(withSections('f.md', 'a\n<!-- part:start -->\nold\n<!-- part:end -->\nb\n', sections)).toBe(
      'a\n<!-- part:start -->\nnew\n<!-- part:end -->\nb\n',
    );
    expect(() => withSections('f.md', 'a\n<!-- part:end -->\n<!-- part:start -->\n', sections)).toThrow(
      'f.md: needs one <!-- part:start --> followed by one <!-- part:end -->',
    );
    expect(() => withSections('f.md', 'no markers', sections)).toThrow(/part:start/);
  });

  it("action.yml's inputs are the table's, each handed to the guard as its INPUT_ variable", () => {
    const action = parseYaml(readFileSync(join(PACKAGE.root, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
      runs: { steps: Array<{ env?: Record<string, string> }> };
    };
    const inputs = tableEntries().flatMap(([, entry]) => (entry.input ? [entry.input] : []));
    // `package` is the action's own: which fnlb-guard its script installs.
    expect(Object.keys(action.inputs).sort()).toEqual([...inputs, 'bounds', 'package'].sort());
    const stepEnv = Object.assign({}, ...action.runs.steps.map((step) => step.env ?? {}));
    for (const input of Object.keys(action.inputs)) {
      expect(stepEnv[inputVariable(input)], input).toBe(`\${{ inputs.${input} }}`);
    }
    // The topologies the table knows, all of them.
    expect(JSON.stringify(action.inputs.topology)).toContain('swarm');
  });

  it('--help names every flag and the configuration page every setting and bound', () => {
    const help = usageText({ help: { doc: 'this text' } });
    const page = GENERATED['docs/configuration.md']?.() ?? '';
    for (const [key, entry] of Object.entries(SETTINGS)) {
      if (entry.flag) expect(help, key).toContain(`--${entry.flag}`);
      expect(page, key).toContain(`\`${key}\``);
      if (entry.env) expect(page, key).toContain(`\`${entry.env}\``);
    }
    for (const [key, bound] of Object.entries(BOUNDS)) {
      expect(page, key).toContain(`\`${key}\` | \`${bound.env}\``);
    }
  });
});
