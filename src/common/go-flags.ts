// Command-line flags the way Go's `flag` package reads them, because fnlb and the harness keep the
// historic Go CLIs' spelling: `-flag value`, `-flag=value`, `--flag value`, boolean `-v` or
// `-v=false`, parsing stops at `--` or the first non-flag argument. Errors name the flag, so the CLI
// can print them and exit 2.

interface FlagSpecBase {
  usage: string;
}
export interface StringFlag extends FlagSpecBase {
  kind: 'string';
  default: string;
  /** Given more than once, the values are joined with commas (Go's flag.Var with a list type). */
  repeatable?: boolean;
}
export interface IntFlag extends FlagSpecBase {
  kind: 'int';
  default: number;
  min?: number;
  max?: number;
}
export interface FloatFlag extends FlagSpecBase {
  kind: 'float';
  default: number;
  min?: number;
  max?: number;
}
export interface BoolFlag extends FlagSpecBase {
  kind: 'bool';
  default: boolean;
}
export type FlagSpec = StringFlag | IntFlag | FloatFlag | BoolFlag;
export type FlagSpecs = Record<string, FlagSpec>;

export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends BoolFlag ? boolean : S[K] extends StringFlag ? string : number;
};

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

export interface ParsedFlags<S extends FlagSpecs> {
  values: FlagValues<S>;
  /** Flags given explicitly on the command line. */
  given: Set<keyof S>;
  positionals: string[];
  help: boolean;
}

function parseNumber(name: string, spec: IntFlag | FloatFlag, text: string): number {
  const pattern = spec.kind === 'int' ? /^-?\d+$/ : /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  if (!pattern.test(text)) {
    throw new FlagError(
      `invalid value ${JSON.stringify(text)} for flag -${name}: expected ${spec.kind === 'int' ? 'an integer' : 'a number'}`,
    );
  }
  const value = Number(text);
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    const range = `${spec.min ?? '-inf'}..${spec.max ?? 'inf'}`;
    throw new FlagError(`invalid value ${JSON.stringify(text)} for flag -${name}: must be within ${range}`);
  }
  return value;
}

function parseBool(name: string, text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw new FlagError(`invalid boolean value ${JSON.stringify(text)} for flag -${name}`);
}

export function parseGoFlags<S extends FlagSpecs>(argv: readonly string[], specs: S): ParsedFlags<S> {
  const values: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  const given = new Set<keyof S>();
  let help = false;
  let index = 0;
  for (; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--') {
      index++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const equals = body.indexOf('=');
    const name = equals === -1 ? body : body.slice(0, equals);
    const inline = equals === -1 ? undefined : body.slice(equals + 1);
    const spec = specs[name];
    if (!spec) {
      if (name === 'h' || name === 'help') {
        help = true;
        continue;
      }
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    const again = given.has(name);
    given.add(name);
    if (spec.kind === 'bool') {
      values[name] = inline === undefined ? true : parseBool(name, inline);
      continue;
    }
    let text = inline;
    if (text === undefined) {
      if (index + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      text = argv[++index] as string;
    }
    if (spec.kind === 'string' && spec.repeatable && again) {
      values[name] = `${values[name]},${text}`;
      continue;
    }
    values[name] = spec.kind === 'string' ? text : parseNumber(name, spec, text);
  }
  return { values: values as FlagValues<S>, given, positionals: argv.slice(index), help };
}

/** Usage text in Go's layout: `  -name kind` then the indented description and default. */
export function formatGoUsage(command: string, specs: FlagSpecs, summary = ''): string {
  const lines = [`Usage of ${command}:${summary ? `\n${summary}` : ''}`];
  for (const [name, spec] of Object.entries(specs)) {
    lines.push(spec.kind === 'bool' ? `  -${name}` : `  -${name} ${spec.kind}`);
    const shown = spec.kind === 'string' ? JSON.stringify(spec.default) : String(spec.default);
    const hasDefault =
      !(spec.kind === 'bool' && !spec.default) && !(spec.kind === 'string' && spec.default === '');
    lines.push(`    \t${spec.usage}${hasDefault ? ` (default ${shown})` : ''}`);
  }
  return lines.join('\n');
}
