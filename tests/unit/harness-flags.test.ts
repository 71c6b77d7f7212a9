import { describe, expect, it } from 'vitest';
import { parseHarnessFlags } from '../../src/harness/flags.js';

function options(argv: string[]) {
  const parsed = parseHarnessFlags(argv);
  if (parsed.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(parsed)}`);
  return parsed.options;
}

function error(argv: string[]): string {
  const parsed = parseHarnessFlags(argv);
  if (parsed.kind !== 'error') throw new Error(`expected an error for ${argv.join(' ')}`);
  return parsed.message;
}

describe('fnlb-harness flags', () => {
  it('has the historic defaults, and the enhancements off', () => {
    expect(options([])).toEqual({
      lb: 'localhost:8081',
      nodes: ['localhost:8080'],
      route: '/r/primesapp/primes',
      calls: 100,
      max: 1000000,
      loops: 1,
      verbose: false,
      routes: 0,
      keepRoutes: false,
      concurrency: 1,
      timeoutMs: 60_000,
      deadlineMs: 600_000,
      jsonFile: undefined,
      svgFile: undefined,
      thresholds: {
        maxNodesPerRoute: undefined,
        minHomeShare: undefined,
        maxLoadRatio: undefined,
        maxFailures: undefined,
      },
    });
  });

  it('reads the historic command line and the new flags', () => {
    const parsed = options([
      '-nodes',
      'localhost:8082,localhost:8083, localhost:8084,localhost:8082',
      '-calls',
      '10',
      '-v',
      '--lb=127.0.0.1:9000',
      '-routes',
      '5',
      '-concurrency=4',
      '-timeout',
      '1.5s',
      '-deadline',
      '2m',
      '-json',
      'out.json',
      '-svg',
      'out.svg',
      '-max-nodes-per-route',
      '1',
      '-min-home-share',
      '0.9',
      '-max-load-ratio',
      '1.5',
      '-max-failures',
      '0',
    ]);
    expect(parsed).toMatchObject({
      lb: '127.0.0.1:9000',
      nodes: ['localhost:8082', 'localhost:8083', 'localhost:8084'],
      calls: 10,
      verbose: true,
      routes: 5,
      concurrency: 4,
      timeoutMs: 1500,
      deadlineMs: 120_000,
      jsonFile: 'out.json',
      svgFile: 'out.svg',
      thresholds: { maxNodesPerRoute: 1, minHomeShare: 0.9, maxLoadRatio: 1.5, maxFailures: 0 },
    });
  });

  it.each([
    [['-bogus'], 'flag provided but not defined: -bogus'],
    [['-calls', 'ten'], 'invalid value "ten" for flag -calls: expected an integer'],
    [['-calls', '0'], 'invalid value "0" for flag -calls: must be within 1..inf'],
    [['-max', '2'], 'invalid value "2" for flag -max: must be within 3..inf'],
    [['-loops', '0'], 'invalid value "0" for flag -loops'],
    [['-concurrency', '0'], 'invalid value "0" for flag -concurrency'],
    [['-lb', 'http://lb:8081'], 'invalid value "http://lb:8081" for flag -lb: expected host:port'],
    [['-lb', 'lb:99999'], 'invalid value "lb:99999" for flag -lb: expected host:port'],
    [['-nodes', 'a:1,b'], 'invalid value "b" for flag -nodes: expected host:port'],
    [['-nodes', ','], 'invalid value "" for flag -nodes'],
    [['-route', 'r/app/x'], 'invalid value "r/app/x" for flag -route'],
    [['-route', '/r/app/x?max=1'], 'invalid value "/r/app/x?max=1" for flag -route'],
    [['-routes', '3', '-route', '/primes'], 'invalid value "/primes" for flag -route: -routes clones it'],
    [['-routes', '20', '-calls', '10'], 'invalid value "20" for flag -routes: more routes than -calls (10)'],
    [['-timeout', '30'], 'invalid value "30" for flag -timeout: expected a positive Go duration'],
    [['-deadline', '0s'], 'invalid value "0s" for flag -deadline'],
    [['-min-home-share', '1.5'], 'invalid value "1.5" for flag -min-home-share: must be within 0..1'],
    [['-max-nodes-per-route', '-1'], 'invalid value "-1" for flag -max-nodes-per-route'],
    [['-json'], 'flag needs an argument: -json'],
    [['-v', 'extra'], 'unexpected argument "extra"'],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(error(argv)).toContain(message);
  });

  it('answers -h and -help with the usage, which lists every flag and the exit statuses', () => {
    const parsed = parseHarnessFlags(['-help']);
    expect(parsed.kind).toBe('help');
    const usage = parsed.kind === 'help' ? parsed.usage : '';
    for (const flag of [
      '-lb',
      '-nodes',
      '-route',
      '-calls',
      '-max',
      '-loops',
      '-v',
      '-routes',
      '-concurrency',
    ]) {
      expect(usage).toContain(`  ${flag}`);
    }
    expect(usage).toContain('Exit status:');
    expect(parseHarnessFlags(['-h']).kind).toBe('help');
  });
});
