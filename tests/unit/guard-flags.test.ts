// fnguard's flags as the suite's environment: what each build flag chooses, values that start with a
// dash, auto beside a build flag, contradictions refused naming the flags, bounds by key or variable.
import { describe, expect, it } from 'vitest';
import { parseGuardFlags, UsageError } from '../../guard/cli/flags.js';

const catalogue = {
  bounds: { stickyMaxNodes: 'FNG_STICKY_MAX_NODES', spillMaxNodes: 'FNG_SPILL_MAX_NODES' },
  properties: ['sticky', 'herd'],
};
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseGuardFlags(argv, catalogue, env);
const refused = (argv: string[]) => {
  try {
    parse(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
};

describe('fnguard flags', () => {
  it('points the suite at a running deployment', () => {
    const { env } = parse(['--lb', '10.0.0.5:8081', '--nodes', 'a:8080, b:8080']);
    expect(env).toMatchObject({ FN_TOPOLOGY: 'external', FN_LB: '10.0.0.5:8081', FN_NODES: 'a:8080,b:8080' });
  });

  it('takes a balancer image with arguments that start with a dash, with or without --topology auto', () => {
    for (const extra of [[], ['--topology', 'auto']]) {
      const { env } = parse([
        '--fnlb-image',
        'my/fnlb:ci',
        '--fnlb-args',
        '-nodes {nodes} -listen {listen}',
        ...extra,
      ]);
      expect(env).toMatchObject({
        FN_TOPOLOGY: 'containers',
        FNLB_IMAGE: 'my/fnlb:ci',
        FNLB_ARGS: '-nodes {nodes} -listen {listen}',
      });
    }
    expect(parse(['--fnlb-cmd=./fnlb -nodes {nodes}']).env).toMatchObject({
      FN_TOPOLOGY: 'processes',
      FNLB_CMD: './fnlb -nodes {nodes}',
    });
  });

  it('sets bounds by key or variable, and refuses unknown ones, inherited names included', () => {
    const { env } = parse(['--bound', 'stickyMaxNodes=2', '--bound', 'FNG_SPILL_MAX_NODES=3']);
    expect(env).toMatchObject({ FNG_STICKY_MAX_NODES: '2', FNG_SPILL_MAX_NODES: '3' });
    expect(refused(['--bound', 'constructor=1'])).toContain('unknown bound constructor');
    expect(refused(['--bound', 'stickyMaxNodes=many'])).toContain('is not a number');
  });

  it('refuses contradictions, naming the flags', () => {
    expect(refused(['--lb', 'x:1'])).toContain('--lb and --nodes go together');
    expect(refused(['--lb', 'x:1', '--nodes', 'y:2', '--fnlb-image', 'i'])).toContain('a running deployment');
    expect(refused(['--fnlb-cmd', 'x', '--node-image', 'i'])).toContain('not both');
    expect(refused(['--fnlb-image', 'i', '--topology', 'processes'])).toContain('contradicts');
    expect(refused(['--only', 'sticky,nope'])).toContain('unknown property nope');
    expect(refused(['--topology', 'k8s'])).toContain('--topology must be one of');
  });

  it('keeps FNG_REPORTS from the environment unless --reports says otherwise', () => {
    expect(parse([], { FNG_REPORTS: 'out' }).reportsDir).toBe('out');
    expect(parse(['--reports', 'mine'], { FNG_REPORTS: 'out' }).reportsDir).toBe('mine');
    expect(parse([]).reportsDir).toBe('reports');
  });
});
