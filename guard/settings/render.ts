// The settings table (table.ts) as people read it: fnlb-guard's --help, its --list (the properties
// and the bounds in force), --show-settings (what this run resolved, and from where), the GitHub
// Action's inputs (action.yml), the configuration page (docs/configuration.md) and the README's table
// of properties (from the catalogue). Generated, so none of them can list a setting or a property the
// code lacks or miss one it has; tests/unit/guard-settings holds the committed files to these renderings.
import { functionImage, GUARD_FUNCTIONS } from '../../src/common/function-images.js';
import { type Cost, PROPERTIES, PROPERTY_IDS, type Property, typicalSeconds } from '../catalogue.js';
import { type Scale, WORKLOADS, type Workload } from '../engine/workload.js';
import { type GuardSettings, inputVariable, type Switches } from './resolve.js';
import { BOUNDS, GROUPS, type Group, SETTINGS, type SettingKey, tableEntries } from './table.js';

function defaultText(entry: { default: unknown; defaultDoc?: string }): string | undefined {
  if (entry.defaultDoc !== undefined) return entry.defaultDoc;
  if (entry.default === undefined) return undefined;
  if (typeof entry.default === 'boolean') return entry.default ? '1' : '0';
  return String(entry.default);
}

function flagText(entry: { flag?: string; arg?: string }): string {
  return entry.flag === undefined ? '' : `--${entry.flag}${entry.arg ? ` ${entry.arg}` : ''}`;
}

function wrap(textToWrap: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of textToWrap.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

const settingGroups = Object.keys(GROUPS).filter((group) => group !== 'bounds') as Group[];

/** fnlb-guard --help. */
export function usageText(switches: Switches): string {
  const lines = [
    'usage: fnlb-guard [settings] [--bound NAME=VALUE ...]',
    '       fnlb-guard --list | --show-settings | --help',
    '',
    'Every setting is a flag or an environment variable (the flag wins); docs/configuration.md has the table.',
  ];
  for (const group of settingGroups) {
    lines.push('', `${GROUPS[group]}:`);
    for (const entry of Object.values(SETTINGS)) {
      if (entry.group !== group || entry.flag === undefined) continue;
      const head = `  ${flagText(entry).padEnd(30)}`;
      const tail = [entry.env, defaultText(entry) && `default: ${defaultText(entry)}`]
        .filter(Boolean)
        .join('; ');
      const body = wrap(`${entry.doc}${tail ? ` (${tail})` : ''}`, 110, ' '.repeat(33));
      lines.push(`${head} ${(body[0] ?? '').trimStart()}`, ...body.slice(1));
    }
  }
  lines.push(
    '',
    `${GROUPS.bounds}:`,
    `  ${'--bound NAME=VALUE'.padEnd(30)} override a bound: NAME is its key (stickyMaxNodes) or its variable`,
    `${' '.repeat(33)}(FNG_STICKY_MAX_NODES); repeatable; the report marks it; --list names them`,
    '',
    'The command:',
  );
  for (const [name, spec] of Object.entries(switches)) {
    lines.push(`  ${`--${name}${spec.short ? `, -${spec.short}` : ''}`.padEnd(30)} ${spec.doc}`);
  }
  lines.push(
    '',
    'Exit status: 0 every property judged holds, 1 one failed, 2 a flag or variable is wrong, 3 the system',
    'under test could not be reached or started, or nothing could be judged.',
  );
  return lines.join('\n');
}

/** A property's cost in words at `scale`: its time, calls, containers and faults, and what it costs on Fn servers. */
function costWords(property: Property, scale: Scale): string {
  const cost: Cost = property.cost[scale];
  const parts = [
    `about ${cost.seconds} s`,
    `${cost.calls} calls`,
    cost.containers > 0
      ? `up to ${cost.containers} container${cost.containers === 1 ? '' : 's'} started`
      : 'no container started',
    ...(property.faults ? [property.faults] : []),
  ];
  const routes = cost.onRoutes
    ? `; on nodes whose 404 names no node (Fn servers): about ${Math.round(cost.onRoutes.seconds / 60)} min, up to ${cost.onRoutes.containers} containers`
    : '';
  return `${parts.join(', ')}${routes}`;
}

/** A property's cost as --list says it, at the run's scale. */
export function costText(property: Property, scale: Scale): string {
  return `cost${scale === 'full' ? '' : ` at ${scale} scale`}: ${costWords(property, scale)}`;
}

/** The whole run's duration on this project's nodes, in minutes, as --list and the README say it. */
export function totalMinutes(scale: Scale = 'full'): number {
  return Math.round(typicalSeconds(PROPERTY_IDS, scale) / 60);
}

/** The README's table of properties (between its properties markers; generated.ts puts it there). */
export function propertiesTable(): string {
  const lines = [
    '<!-- Generated from guard/catalogue.ts by `npm run docs:guard`; a unit test fails when it is stale. -->',
    '',
    '| property | implicates | what it proves | typical cost |',
    '|---|---|---|---|',
  ];
  for (const id of PROPERTY_IDS) {
    const property = PROPERTIES[id];
    lines.push(
      `| [\`${id}\`](tests/guard/${id}.test.ts) | ${property.implicates} | ${prose(property.summary)} | ${prose(costWords(property, 'full'))} |`,
    );
  }
  lines.push(
    '',
    `All of them: about ${totalMinutes()} min on this project's nodes (more on Fn servers); about`,
    `${totalMinutes('quick')} min with \`--scale quick\`, which shrinks every workload for a pre-merge check. Costs`,
    "are for a 2-core machine with this project's nodes and balancer; `fnlb-guard --list` prints them",
    'at the scale chosen, with the bounds in force.',
  );
  return lines.join('\n');
}

/** What each property sends at each scale, for docs/guard.md (between its workloads markers). */
export function workloadTable(): string {
  const rows: Array<[string, (work: Workload) => string]> = [
    ['sticky', (w) => `${w.sticky.calls} sequential calls; ${w.sticky.variantRoutes} routes x 5 spellings`],
    ['hot-reuse', (w) => `${w.hotReuse.calls} sequential calls`],
    ['herd, scale-out', (w) => `a burst of ${w.burst.calls} concurrent calls`],
    ['balance', (w) => `${w.balance.routes} routes x ${w.balance.callsEach} sequential calls`],
    [
      'overhead',
      (w) => `${w.overhead.callsEach} calls each way (straight, through the balancer) at 1 and at 8 callers`,
    ],
    [
      'spill',
      (w) => `${w.spill.callers} callers, ${w.spill.callsPerCaller} calls each, twice (warm-up, measured)`,
    ],
    [
      'failover, graceful-stop, frozen',
      (w) =>
        `${w.nodeDown.calls} calls over ${w.nodeDown.routes} routes, the fault after ${w.nodeDown.faultAfter}`,
    ],
    [
      'membership, recovery, malformed',
      (w) => `${w.placement.keys} unrouted paths placed (or ${w.placement.routeKeys} routes made for it)`,
    ],
    ['malformed', (w) => `${w.malformed.calls} calls after the malformed requests`],
    [
      'no-duplicate',
      (w) =>
        `${w.noDuplicate.callsEach} calls per status; the long call ${w.noDuplicate.outliveMs / 1000} s past the timeout`,
    ],
  ];
  return [
    '<!-- Generated from guard/engine/workload.ts by `npm run docs:guard`; a unit test fails when it is stale. -->',
    '',
    '| property | full (the default) | quick |',
    '|---|---|---|',
    ...rows.map(([name, text]) => `| ${name} | ${text(WORKLOADS.full)} | ${text(WORKLOADS.quick)} |`),
    '',
    `All of them: about ${totalMinutes('full')} min at full scale, about ${totalMinutes('quick')} min at quick.`,
  ].join('\n');
}

/** fnlb-guard --list: the properties and the bounds in force. */
export function catalogueText(settings: GuardSettings): string {
  const lines = ['Properties (tests/guard/<property>.test.ts):'];
  for (const id of PROPERTY_IDS) {
    const property = PROPERTIES[id];
    const needs = property.needs.length > 0 ? `; needs ${property.needs.join(', ')}` : '';
    lines.push(
      `  ${id.padEnd(13)} implicates the ${property.implicates}${needs}`,
      `                ${property.summary}`,
      `                ${costText(property, settings.scale)}`,
    );
  }
  const other: Scale = settings.scale === 'full' ? 'quick' : 'full';
  lines.push(
    `  All of them: about ${totalMinutes(settings.scale)} min on this project's nodes (more on Fn servers); about ${totalMinutes(other)} min at --scale ${other}.`,
  );
  const images = GUARD_FUNCTIONS.map((name) => functionImage(name, settings.functionImages));
  lines.push(
    '',
    `Function images the routes run (--function-images): ${images.join(', ')}`,
    '  (the containers topologies build them; a deployment of your own needs them where its nodes pull from)',
  );
  lines.push('', 'Bounds (--bound KEY=VALUE or the variable; compared with a baseline: counts, ratios):');
  for (const [key, bound] of Object.entries(settings.bounds)) {
    lines.push(
      `  ${key} (${bound.env}) = ${bound.value}${bound.overridden ? ' (set)' : ''}; ${bound.kind}, baseline tolerance ${bound.tolerance}`,
      `                ${bound.reason}`,
    );
  }
  return lines.join('\n');
}

/** fnlb-guard --show-settings: every setting's value and where it came from. */
export function settingsText(settings: GuardSettings): string {
  const lines: string[] = [];
  for (const [key, entry] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const value = settings[key];
    const shown =
      value === undefined
        ? '(unset)'
        : 'secret' in entry && entry.secret
          ? '(set, not shown)'
          : JSON.stringify(value);
    const from =
      settings.origin[key] ??
      (key === 'topology' && settings.topologyReason ? settings.topologyReason : 'default');
    lines.push(`${key.padEnd(18)} ${shown}  [${from}]`);
  }
  for (const [key, bound] of Object.entries(settings.bounds)) {
    lines.push(
      `${key.padEnd(18)} ${bound.value}  [${settings.origin[key as keyof typeof BOUNDS] ?? 'default'}]`,
    );
  }
  return lines.join('\n');
}

function yamlString(value: string): string {
  return JSON.stringify(value);
}

/** One input handed to the guard's step as its INPUT_ variable (composite actions set none themselves). */
const stepVariable = (input: string) => `        ${inputVariable(input)}: \${{ inputs.${input} }}`;

/** The `inputs:` block of action.yml, and the step environment that hands them to the guard. */
export function actionInputsYaml(): { inputs: string; env: string } {
  const inputs: string[] = ['inputs:'];
  const env: string[] = [];
  const entries = tableEntries().filter(([, entry]) => entry.input !== undefined);
  for (const [, entry] of entries) {
    const input = entry.input as string;
    const fallback = entry.inputDefault ?? defaultText(entry);
    inputs.push(
      `  ${input}:`,
      `    description: ${yamlString(`${entry.doc}${entry.env ? ` (${entry.env})` : ''}${fallback ? `; default ${fallback}` : ''}`)}`,
      '    required: false',
      ...(entry.inputDefault !== undefined ? [`    default: ${yamlString(entry.inputDefault)}`] : []),
    );
    env.push(stepVariable(input));
  }
  inputs.push(
    '  bounds:',
    `    description: ${yamlString('bound overrides, one NAME=VALUE per line (FNG_STICKY_MAX_NODES=1 or stickyMaxNodes=1)')}`,
    '    required: false',
  );
  env.push(stepVariable('bounds'));
  return { inputs: inputs.join('\n'), env: env.join('\n') };
}

function cell(value: string | undefined): string {
  return value === undefined || value === '' ? '' : `\`${value.replace(/\|/g, '\\|')}\``;
}

function prose(value: string | undefined): string {
  return (value ?? '').replace(/\|/g, '\\|');
}

/** docs/configuration.md. */
export function configurationPage(): string {
  const lines = [
    '# Configuring the guard',
    '',
    '<!-- Generated from guard/settings/table.ts by `npm run docs:guard`; a unit test fails when it is stale. -->',
    '',
    'Every setting has one key (the name the code uses), a flag of `fnlb-guard`, an environment variable and,',
    'where it makes sense in a pipeline, an input of the GitHub Action. They are read once, at the start of a',
    'run, into one typed object that every part of the guard uses: a flag wins over an Action input, an input',
    'over a variable, a variable over the default. A variable that looks like a setting but is none',
    '(`FN_TOPOLGY`) stops the run, naming the closest setting; `fnlb-guard --show-settings` prints what a run',
    'would use and where each value came from.',
  ];
  for (const group of settingGroups) {
    lines.push(
      '',
      `## ${GROUPS[group]}`,
      '',
      '| key | flag | variable | Action input | default | |',
      '|---|---|---|---|---|---|',
    );
    for (const [key, entry] of Object.entries(SETTINGS)) {
      if (entry.group !== group) continue;
      const deprecated = [
        ...(entry.deprecated?.flags ?? []).map((flag) => `--${flag}`),
        ...(entry.deprecated?.env ?? []),
      ];
      lines.push(
        `| \`${key}\` | ${cell(flagText(entry))} | ${cell(entry.env)} | ${cell(entry.input)} | ${prose(defaultText(entry))} | ${prose(entry.doc)}${deprecated.length > 0 ? ` (deprecated spelling: ${deprecated.map((spelling) => `\`${spelling}\``).join(', ')})` : ''} |`,
      );
    }
  }
  lines.push(
    '',
    `## ${GROUPS.bounds}`,
    '',
    'Set with `--bound KEY=VALUE` (the key or the variable), the variable, or one `KEY=VALUE` per line in the',
    "Action's `bounds` input. A report marks a bound this run set. `tolerance` is how much worse than a",
    'baseline run a measure may be before it fails (timings are compared only with `baselineTimings`).',
    '',
    '| key | variable | default | kind | tolerance | why |',
    '|---|---|---|---|---|---|',
  );
  for (const [key, bound] of Object.entries(BOUNDS)) {
    lines.push(
      `| \`${key}\` | \`${bound.env}\` | ${Number(bound.default.toFixed(4))} | ${bound.kind} | ${bound.tolerance} | ${prose(bound.doc)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
